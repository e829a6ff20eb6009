/**
 * The manager's bookkeeping for one API key: its pool, its state and which of its sockets are up.
 */
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { ConnectionStatus } from '../connection/types.js';
import type { ConnectionHealthState, KeyPool } from '../pool/types.js';
import type { StartRetry } from './start-retry.js';
import type { ApiKeyFailureReason, ApiKeyState } from './types.js';

export class KeySlot {
  readonly id: string;
  readonly apiKey: string;
  /** The token, or a provider of it (connection/token-provider.ts). */
  accessToken: AccessTokenSource;
  /** Set once, right after construction (the pool reports to an owner that needs this slot). */
  pool!: KeyPool;
  /**
   * The pool is the library's own `ConnectionPool` (exactly that class): it already drops, per socket,
   * every tick not subscribed there, and its subscriptions are always a subset of the manager's wanted
   * tokens (placed before the pool is asked, forgotten after it unsubscribed), so the manager's second
   * look-up per tick would never drop anything. Other pools (a `poolFactory` of the user's) get it.
   */
  poolFiltersTicks = false;
  state: ApiKeyState = 'idle';
  failureReason: ApiKeyFailureReason | undefined;
  failovers = 0;
  /** connection index -> last status seen. */
  readonly connections = new Map<number, ConnectionStatus>();
  /** connection index -> health at the previous health check (to report changes only). */
  readonly lastHealth = new Map<number, ConnectionHealthState>();
  /** When the key last lost its last connected socket while trying to connect; undefined while up. */
  downSince: number | undefined;
  downTimer: ReturnType<typeof setTimeout> | undefined;
  /** start() of the pool failed: a token rotation starts it again. */
  startFailed = false;
  /** While startFailed and the token comes from a provider: asks it and starts the key again. */
  startRetry: StartRetry | undefined;
  /** Messages delivered from this key (tick batches, orders, text messages). */
  messages = 0;
  /** Order updates from this key's sockets dropped as copies. */
  duplicateOrders = 0;

  constructor(id: string, apiKey: string, accessToken: AccessTokenSource) {
    this.id = id;
    this.apiKey = apiKey;
    this.accessToken = accessToken;
  }

  /** Sockets whose last status is 'connected'. */
  connectedCount(): number {
    let n = 0;
    for (const status of this.connections.values()) if (status === 'connected') n++;
    return n;
  }

  clearDownTimer(): void {
    if (this.downTimer !== undefined) clearTimeout(this.downTimer);
    this.downTimer = undefined;
  }

  /** Tag of one of this key's connections in the broadcaster (drops are counted under it). */
  tag(connectionIndex: number): string {
    return `${this.id}#${connectionIndex}`;
  }
}
