/**
 * Readiness of a manager, as `/readyz`, the `kiteticker_ready` gauge and the relay report it: ready when
 * every wanted instrument is placed on a key and every socket holding instruments is connected. Pure
 * (stats in, verdict out), so each front end computes it on request and nothing is kept between calls.
 */
import type { ManagerStats } from './types.js';

export interface Readiness {
  ready: boolean;
  /** Why not (empty when ready); names no token or secret, only counts and key ids. */
  reason: string;
  /** Wanted instruments on no key, or on a socket that is not connected. */
  unplaced: number;
  /** Key ids whose access token was refused (or that wait for one). */
  authFailed: string[];
}

/** The parts of `ManagerStats` readiness reads (a `getStats()` result fits). */
export type ReadinessStats = Pick<ManagerStats, 'unplacedSymbols' | 'totalSymbols' | 'perApiStats'>;

/**
 * @param wanted instruments the caller asked for; more than the manager holds (still subscribing) is
 *   not ready. Omit it to judge only what the manager holds.
 */
export function readinessOf(stats: ReadinessStats | undefined, wanted?: number): Readiness {
  if (stats === undefined)
    return { ready: false, reason: 'not started', unplaced: wanted ?? 0, authFailed: [] };
  const authFailed: string[] = [];
  let onDownSockets = 0;
  for (const key of stats.perApiStats) {
    const refused =
      (key.state === 'failed' && key.failureReason === 'auth_failed') ||
      key.manager.connections.some((c) => c.status === 'auth_failed');
    if (refused) authFailed.push(key.apiKeyId);
    for (const c of key.manager.connections) if (c.status !== 'connected') onDownSockets += c.symbols;
  }
  const missing = Math.max(0, (wanted ?? 0) - stats.totalSymbols - stats.unplacedSymbols);
  const unplaced = stats.unplacedSymbols + onDownSockets + missing;
  const reasons: string[] = [];
  if (stats.unplacedSymbols > 0) reasons.push(`${stats.unplacedSymbols} instruments on no API key`);
  if (onDownSockets > 0) reasons.push(`${onDownSockets} instruments on sockets not connected`);
  if (missing > 0) reasons.push(`${missing} instruments not subscribed yet`);
  if (authFailed.length > 0) reasons.push(`access token refused for ${authFailed.join(', ')}`);
  return { ready: unplaced === 0, reason: reasons.join('; '), unplaced, authFailed };
}
