/**
 * Health of a connection, derived from its current status and silence: a pure function, so a
 * connection that recovers reads healthy again at the next look (no sticky "unhealthy" flag).
 */
import type { ConnectionStatus } from '../connection/types.js';
import type { ConnectionHealthState } from './types.js';

export function connectionHealth(
  status: ConnectionStatus,
  lastFrameAgeMs: number | null,
  livenessTimeoutMs: number,
): ConnectionHealthState {
  switch (status) {
    case 'connected':
      // Connected but silent past the liveness window: the connection will soon notice and reconnect.
      return lastFrameAgeMs !== null && lastFrameAgeMs > livenessTimeoutMs ? 'stale' : 'healthy';
    case 'idle':
    case 'connecting':
      return 'connecting';
    case 'reconnecting':
      return 'reconnecting';
    case 'stale':
      return 'stale';
    case 'auth_failed':
      return 'auth_failed';
    case 'closed':
      return 'closed';
  }
}
