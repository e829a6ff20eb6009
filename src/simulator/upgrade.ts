/**
 * The upgrade gate: decides, from the request URL and the simulator's state, whether a WebSocket upgrade
 * is accepted or refused with which HTTP status. Pure, so every rule is testable without sockets.
 * Order of checks: path, forced refusals (an overloaded front end answers before auth), credentials
 * (403, as Kite), then the per-key connection limit.
 */

import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

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

export type UpgradeDecision =
  | { ok: true; apiKey: string }
  | { ok: false; status: number; apiKey: string | undefined; reason: string };

/** Decides one upgrade. `rawUrl` is the request target (`/?api_key=...&access_token=...`). */
export function decideUpgrade(rawUrl: string | undefined, ctx: UpgradeContext): UpgradeDecision {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://simulator.invalid');
  } catch {
    return { ok: false, status: 400, apiKey: undefined, reason: 'malformed request URL' };
  }
  const apiKey = url.searchParams.get('api_key') ?? undefined;
  if (url.pathname !== '/' && url.pathname !== '') {
    return { ok: false, status: 404, apiKey, reason: 'not found' };
  }
  for (const w of ctx.refusals) {
    if (w.until > ctx.now && (w.apiKey === undefined || w.apiKey === apiKey)) {
      return { ok: false, status: w.status, apiKey, reason: 'upgrades are being refused' };
    }
  }
  const token = url.searchParams.get('access_token');
  if (!apiKey || !token) {
    return { ok: false, status: 403, apiKey, reason: 'api_key and access_token are required' };
  }
  const expected = ctx.credentials.get(apiKey);
  if (expected === undefined || expected !== token || ctx.revoked.has(apiKey)) {
    return { ok: false, status: 403, apiKey, reason: 'invalid api_key or access_token' };
  }
  if (ctx.openConnections(apiKey) >= ctx.maxConnectionsPerKey) {
    return {
      ok: false,
      status: ctx.connectionLimitStatus,
      apiKey,
      reason: `too many connections for this api_key (max ${ctx.maxConnectionsPerKey})`,
    };
  }
  return { ok: true, apiKey };
}

/** Answers an upgrade request with a plain HTTP error and closes the socket (no WebSocket involved). */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  const head =
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    (status === 429 || status === 503 ? 'Retry-After: 1\r\n' : '') +
    '\r\n';
  socket.once('finish', () => socket.destroy());
  socket.end(head + body);
}
