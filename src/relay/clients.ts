/**
 * The relay's own clients: who may connect (`?api_key=<id>&access_token=<token>`) and each one's
 * limits. Client tokens are secrets: only their SHA-256 digests are kept (compared in constant time),
 * so nothing the relay holds, logs or inspects can show one. Parsing follows the CLI keys file
 * (src/cli/credentials.ts): bounded size and entries, errors that name the entry, never its values.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { Authorisation, KiteAuthoriser, UpgradeRequest } from '../kite-server/types.js';
import type { Mode } from '../protocol/constants.js';
import { MODES } from './modes.js';

/** One relay client as configured (the `clients` option, one entry of a clients file). */
export interface RelayClientConfig {
  /** What the client sends as `api_key`. */
  id: string;
  /** What the client sends as `access_token`. A secret. */
  accessToken: string;
  /** Instruments across all the client's sockets. Default: the relay's `maxInstrumentsPerClient`. */
  maxInstruments?: number;
  /** Sockets open at once. Default: the relay's `maxSocketsPerClient`. */
  maxSockets?: number;
  /** Modes the client may use. Default all three. */
  modes?: Mode[];
  /** Upstream key ids whose order postbacks and broker messages the client gets; `["*"]` (default) is every key, `[]` none. */
  orders?: string[];
}

/** A validated client, without its token (only the digest). */
export interface RelayClient {
  readonly id: string;
  readonly maxInstruments: number;
  readonly maxSockets: number;
  readonly modes: ReadonlySet<Mode>;
  /** undefined: every upstream key. */
  readonly orders: ReadonlySet<string> | undefined;
  /** The mode a subscribe puts tokens in: Kite's `quote` when allowed, else the lowest allowed. */
  readonly subscribeMode: Mode;
  readonly digest: Buffer;
}

/** A clients file is read whole; 1 MiB holds thousands of entries. */
export const MAX_CLIENTS_FILE_BYTES = 1024 * 1024;
export const MAX_CLIENTS = 10_000;
/** Bounds of the per-client limits (sockets hold memory; 1,000,000 instruments is any market twice). */
export const MAX_SOCKETS_PER_CLIENT = 10_000;
export const MAX_INSTRUMENTS_PER_CLIENT = 1_000_000;

export interface ClientDefaults {
  maxInstruments: number;
  maxSockets: number;
}

function digestOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Validates a list of client configs; errors name the entry (index and id), never a token. */
export function resolveClients(
  list: readonly RelayClientConfig[],
  defaults: ClientDefaults,
  where = 'clients',
): RelayClient[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${where}: expected an array of clients`);
  if (list.length > MAX_CLIENTS) {
    throw new InvalidArgumentError(`${where}: ${list.length} clients; at most ${MAX_CLIENTS} are accepted`);
  }
  const seen = new Set<string>();
  return list.map((entry, i) => {
    if (typeof entry !== 'object' || entry === null) {
      throw new InvalidArgumentError(`${where}: entry ${i} is not an object`);
    }
    const e = entry as unknown as Record<string, unknown>;
    const id = typeof e.id === 'string' ? e.id.trim() : '';
    if (id === '' || /\s/.test(id) || id.length > 256) {
      throw new InvalidArgumentError(
        `${where}: entry ${i} needs an "id" (a non-empty string without spaces)`,
      );
    }
    const at = `${where}: entry ${i} (${JSON.stringify(id)})`;
    if (seen.has(id))
      throw new InvalidArgumentError(`${where}: client id ${JSON.stringify(id)} appears twice`);
    seen.add(id);
    const token = e.accessToken ?? e.access_token;
    if (typeof token !== 'string' || token.trim() === '' || /\s/.test(token.trim())) {
      throw new InvalidArgumentError(`${at}: accessToken must be a non-empty string without whitespace`);
    }
    const maxInstruments = limit(
      e.maxInstruments,
      defaults.maxInstruments,
      MAX_INSTRUMENTS_PER_CLIENT,
      at,
      'maxInstruments',
    );
    const maxSockets = limit(e.maxSockets, defaults.maxSockets, MAX_SOCKETS_PER_CLIENT, at, 'maxSockets');
    const modes = modesOf(e.modes, at);
    const orders = ordersOf(e.orders, at);
    const subscribeMode: Mode = modes.has('quote') ? 'quote' : MODES.find((m) => modes.has(m))!;
    return { id, maxInstruments, maxSockets, modes, orders, subscribeMode, digest: digestOf(token.trim()) };
  });
}

function limit(value: unknown, fallback: number, max: number, at: string, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new InvalidArgumentError(`${at}: ${name} must be a whole number from 1 to ${max}`);
  }
  return value;
}

function modesOf(value: unknown, at: string): ReadonlySet<Mode> {
  if (value === undefined) return new Set(MODES);
  if (!Array.isArray(value) || value.length === 0 || !value.every((m) => MODES.includes(m as Mode))) {
    throw new InvalidArgumentError(`${at}: modes must be a non-empty array of "ltp", "quote", "full"`);
  }
  return new Set(value as Mode[]);
}

function ordersOf(value: unknown, at: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((k) => typeof k === 'string') || value.length > 1000) {
    throw new InvalidArgumentError(`${at}: orders must be an array of upstream key ids (or ["*"])`);
  }
  return value.includes('*') ? undefined : new Set(value as string[]);
}

/** Parses a clients file: a JSON array of RelayClientConfig (snake_case `access_token` accepted). */
export function parseClientsFile(text: string, fileName: string, defaults: ClientDefaults): RelayClient[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_CLIENTS_FILE_BYTES) {
    throw new InvalidArgumentError(`${fileName}: larger than ${MAX_CLIENTS_FILE_BYTES / 1024 / 1024} MiB`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message may quote a token: say only that it is not JSON.
    throw new InvalidArgumentError(`${fileName}: not valid JSON`);
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new InvalidArgumentError(`${fileName}: expected a non-empty JSON array of {id, accessToken}`);
  }
  return resolveClients(data as RelayClientConfig[], defaults, fileName);
}

/** The authoriser of the relay's front end: the current client table. */
export class ClientTable implements KiteAuthoriser {
  #clients = new Map<string, RelayClient>();

  constructor(clients: readonly RelayClient[]) {
    this.replace(clients);
  }

  /**
   * Swaps the table; returns the ids whose entry went away or whose token changed.
   * @throws InvalidArgumentError for an id given twice (in `clients` and the file), changing nothing.
   */
  replace(clients: readonly RelayClient[]): string[] {
    const next = new Map(clients.map((c) => [c.id, c]));
    if (next.size !== clients.length) {
      const seen = new Set<string>();
      const twice = clients.find((c) => seen.size === seen.add(c.id).size)!;
      throw new InvalidArgumentError(
        `client id ${JSON.stringify(twice.id)} is given twice (in clients and the clients file)`,
      );
    }
    const revoked: string[] = [];
    for (const [id, old] of this.#clients) {
      const now = next.get(id);
      if (!now?.digest.equals(old.digest)) revoked.push(id);
    }
    this.#clients = next;
    return revoked;
  }

  get(id: string): RelayClient | undefined {
    return this.#clients.get(id);
  }

  get size(): number {
    return this.#clients.size;
  }

  knows(apiKey: string): boolean {
    return this.#clients.has(apiKey);
  }

  authorise(request: UpgradeRequest): Authorisation {
    const client = request.apiKey === undefined ? undefined : this.#clients.get(request.apiKey);
    const given = digestOf(request.accessToken ?? '');
    // Compared even for an unknown id, so timing does not tell which ids exist.
    const ok = timingSafeEqual(given, client?.digest ?? digestOf('\0')) && client !== undefined;
    if (!ok || request.accessToken === undefined) {
      return { ok: false, status: 403, reason: 'invalid api_key or access_token' };
    }
    return { ok: true, apiKey: client.id, maxConnections: client.maxSockets };
  }
}
