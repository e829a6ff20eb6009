/**
 * The multi-manager's bookkeeping for one API key: its pool, its state and which of its sockets are up.
 */
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { ConnectionStatus } from '../connection/types.js';
import type { ApiKeyFailureReason, ApiKeyState, EventedTickerManager } from './types.js';

export class KeySlot {
  readonly id: string;
  readonly apiKey: string;
  accessToken: AccessTokenSource;
  readonly manager: EventedTickerManager;
  /** Removes the multi-manager's listeners from the current pool. */
  detach: (() => void) | undefined;
  state: ApiKeyState = 'idle';
  failureReason: ApiKeyFailureReason | undefined;
  failovers = 0;
  /** connection index -> last status seen. */
  readonly connections = new Map<number, ConnectionStatus>();
  /** When the key last lost its last connected socket while trying to connect; undefined while up. */
  downSince: number | undefined;
  downTimer: ReturnType<typeof setTimeout> | undefined;
  /** start() of the pool failed: a token rotation starts it again. */
  startFailed = false;

  constructor(id: string, apiKey: string, accessToken: AccessTokenSource, manager: EventedTickerManager) {
    this.id = id;
    this.apiKey = apiKey;
    this.accessToken = accessToken;
    this.manager = manager;
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
}
