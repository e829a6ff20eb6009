/**
 * The upgrade gate: decides, from the request URL, an authoriser and the open-socket count, whether a
 * WebSocket upgrade is accepted or refused with which HTTP status. Pure, so every rule is testable
 * without sockets. Order of checks: path (404), then the authoriser (which may refuse before checking
 * credentials, as an overloaded front end does, then 403 as Kite), then the per-key socket limit.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KiteAuthoriser } from './types.js';

export type UpgradeDecision =
  | { ok: true; apiKey: string }
  | { ok: false; status: number; apiKey: string | undefined; reason: string };

export interface UpgradeLimits {
  /** Sockets a key holds now (completed upgrades). */
  openConnections: (apiKey: string) => number;
  /** Default per-key limit; the authoriser's `maxConnections` overrides it. */
  maxConnectionsPerKey: number;
  connectionLimitStatus: number;
}

/** Decides one upgrade. `rawUrl` is the request target (`/?api_key=...&access_token=...`). */
export function decideUpgrade(
  rawUrl: string | undefined,
  now: number,
  authoriser: KiteAuthoriser,
  limits: UpgradeLimits,
): UpgradeDecision {
  let url: URL;
  try {
    url = new URL(rawUrl ?? '/', 'http://kite-server.invalid');
  } catch {
    return { ok: false, status: 400, apiKey: undefined, reason: 'malformed request URL' };
  }
  const apiKey = url.searchParams.get('api_key') ?? undefined;
  if (url.pathname !== '/' && url.pathname !== '') {
    return { ok: false, status: 404, apiKey, reason: 'not found' };
  }
  const accessToken = url.searchParams.get('access_token') ?? undefined;
  const auth = authoriser.authorise({ apiKey, accessToken, now });
  if (!auth.ok) return { ok: false, status: auth.status, apiKey, reason: auth.reason };
  const max = auth.maxConnections ?? limits.maxConnectionsPerKey;
  if (limits.openConnections(auth.apiKey) >= max) {
    return {
      ok: false,
      status: limits.connectionLimitStatus,
      apiKey: auth.apiKey,
      reason: `too many connections for this api_key (max ${max})`,
    };
  }
  return { ok: true, apiKey: auth.apiKey };
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
