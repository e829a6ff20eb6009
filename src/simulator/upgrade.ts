/**
 * Who may connect to the simulator: its credential table (api_key -> access_token), revocations, and
 * forced refusal windows (an overloaded front end answers before it checks credentials). The front end
 * (src/kite-server) asks `SimulatorAuthoriser.authorise` on every upgrade, then applies the path and the
 * per-key socket limit itself; `decideUpgrade` below composes both, pure, for tests and callers that
 * want the whole rule set without sockets.
 */

import type { Authorisation, KiteAuthoriser, UpgradeRequest } from '../kite-server/types.js';
import { decideUpgrade as decideKiteUpgrade, type UpgradeDecision } from '../kite-server/upgrade.js';

export type { UpgradeDecision };

export interface RefusalWindow {
  status: number;
  /** Epoch ms after which the window no longer applies. */
  until: number;
  /** Only this key; undefined = every key. */
  apiKey: string | undefined;
}

export interface UpgradeContext {
  now: number;
  /** api_key -> access_token currently valid. */
  credentials: ReadonlyMap<string, string>;
  revoked: ReadonlySet<string>;
  refusals: readonly RefusalWindow[];
  openConnections: (apiKey: string) => number;
  maxConnectionsPerKey: number;
  connectionLimitStatus: number;
}

/** The refusal windows first, then the credentials (403, as Kite). */
export function authoriseUpgrade(
  request: UpgradeRequest,
  credentials: ReadonlyMap<string, string>,
  revoked: ReadonlySet<string>,
  refusals: readonly RefusalWindow[],
): Authorisation {
  const { apiKey, accessToken, now } = request;
  for (const w of refusals) {
    if (w.until > now && (w.apiKey === undefined || w.apiKey === apiKey)) {
      return { ok: false, status: w.status, reason: 'upgrades are being refused' };
    }
  }
  if (!apiKey || !accessToken) {
    return { ok: false, status: 403, reason: 'api_key and access_token are required' };
  }
  const expected = credentials.get(apiKey);
  if (expected === undefined || expected !== accessToken || revoked.has(apiKey)) {
    return { ok: false, status: 403, reason: 'invalid api_key or access_token' };
  }
  return { ok: true, apiKey };
}

/** Decides one upgrade. `rawUrl` is the request target (`/?api_key=...&access_token=...`). */
export function decideUpgrade(rawUrl: string | undefined, ctx: UpgradeContext): UpgradeDecision {
  const authoriser: KiteAuthoriser = {
    authorise: (r) => authoriseUpgrade(r, ctx.credentials, ctx.revoked, ctx.refusals),
  };
  return decideKiteUpgrade(rawUrl, ctx.now, authoriser, ctx);
}

/** The simulator's live credential state, as the front end's authoriser. */
export class SimulatorAuthoriser implements KiteAuthoriser {
  readonly #credentials = new Map<string, string>();
  readonly #revoked = new Set<string>();
  #refusals: RefusalWindow[] = [];

  constructor(credentials: Readonly<Record<string, string>>) {
    for (const [k, v] of Object.entries(credentials)) this.#credentials.set(k, v);
  }

  authorise(request: UpgradeRequest): Authorisation {
    // Expired windows go here, on the path that reads them: the list stays as short as the live ones.
    this.#refusals = this.#refusals.filter((w) => w.until > request.now);
    return authoriseUpgrade(request, this.#credentials, this.#revoked, this.#refusals);
  }

  knows(apiKey: string): boolean {
    return this.#credentials.has(apiKey);
  }

  apiKeys(): string[] {
    return [...this.#credentials.keys()];
  }

  token(apiKey: string): string | undefined {
    return this.#credentials.get(apiKey);
  }

  isRevoked(apiKey: string): boolean {
    return this.#revoked.has(apiKey);
  }

  setAccessToken(apiKey: string, accessToken: string): void {
    this.#credentials.set(apiKey, accessToken);
    this.#revoked.delete(apiKey);
  }

  revoke(apiKey: string): void {
    this.#revoked.add(apiKey);
  }

  /** Refusal windows kept (expired ones are dropped on the next upgrade or refusal). */
  get refusalWindows(): number {
    return this.#refusals.length;
  }

  refuse(window: RefusalWindow): void {
    // Expired windows also go here, so refusals injected with no upgrade in between stay bounded too.
    this.#refusals = this.#refusals.filter((w) => w.until > Date.now());
    this.#refusals.push(window);
  }
}
