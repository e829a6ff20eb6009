/**
 * The public contract of the multi-API-key manager (`MultiApiKiteTickerManager`): N API keys, each a
 * `TickerManager` pool of up to 3 connections, behind one desired-state table (token -> key, mode).
 */
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { StatusEvent } from '../connection/types.js';
import type { KiteTickerError } from '../errors.js';
import type {
  KiteTickerManagerConfig,
  KiteTickerManagerEvents,
  ManagerHealth,
  ManagerStats,
  TickerManager,
  TickerMessage,
} from '../manager/types.js';
import type { Mode } from '../protocol/constants.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';

/** How `subscribeSymbols` places new tokens. */
export const DistributionStrategy = {
  /**
   * Default. Each new token goes to the least-loaded key that has free capacity (ties in the order the
   * keys were added), so keys stay balanced; a call is all-or-nothing against the total free capacity.
   */
  RoundRobin: 'round-robin',
  /** No automatic placement: `subscribeSymbols` throws ERR_MANUAL_DISTRIBUTION; use `subscribeSymbolsToApi`. */
  Manual: 'manual',
} as const;
export type DistributionStrategy = (typeof DistributionStrategy)[keyof typeof DistributionStrategy];

/** One API key given to the builder. `id` is the caller's name for it (e.g. "primary"). */
export interface ApiKeyCredentials {
  id: string;
  apiKey: string;
  /** The token, or a provider of it (see AccessTokenProvider). */
  accessToken: AccessTokenSource;
}

/**
 * A key's pool as the multi-manager uses it: the `TickerManager` contract plus its typed events, which
 * carry the hot path (one listener call per frame, no channel in between).
 */
export interface EventedTickerManager extends TickerManager {
  on<E extends keyof KiteTickerManagerEvents>(
    event: E,
    listener: (...args: KiteTickerManagerEvents[E]) => void,
  ): unknown;
  off<E extends keyof KiteTickerManagerEvents>(
    event: E,
    listener: (...args: KiteTickerManagerEvents[E]) => void,
  ): unknown;
}

/**
 * Makes the per-key pool. The default builds a `KiteTickerManager`; tests inject fakes so that planning
 * and failover are exercised without sockets.
 */
export type TickerManagerFactory = (
  apiKey: string,
  accessToken: AccessTokenSource,
  config: Partial<KiteTickerManagerConfig>,
) => EventedTickerManager;

/** Everything `build()` resolved; every field has its default filled in. */
export interface MultiApiKiteTickerManagerConfig {
  /** Keys in the order they were added (that order breaks placement ties). */
  apiKeys: ApiKeyCredentials[];
  /** Sockets per key, 1-3. Default 3. */
  maxConnectionsPerApi: number;
  /** Instruments per socket, 1-3000. Default 3000. */
  maxSymbolsPerConnection: number;
  /** Connect timeout per socket in ms. Default 30 000. */
  connectionTimeoutMs: number;
  /** Default DistributionStrategy.RoundRobin. */
  distributionStrategy: DistributionStrategy;
  /** Mode used when a subscribe call gives none. Default Mode.Quote. */
  defaultMode: Mode;
  /** Periodic health evaluation (and a failover safety net). Default true. */
  enableHealthMonitoring: boolean;
  /** Period of the health check in ms. Default 10 000. */
  healthCheckIntervalMs: number;
  /** Move a failed key's tokens to the other keys. Default true. */
  enableFailover: boolean;
  /** A key with no connected socket for this long (while trying) fails over. Default 30 000 ms. */
  failoverAfterMs: number;
  /** Order updates seen again within this window are dropped as duplicates. Default 60 000 ms. */
  orderDedupeWindowMs: number;
  /** Config passed to every key's manager (the fields above override it). Default {}. */
  baseConfig: Partial<KiteTickerManagerConfig>;
  /** Default: builds a `KiteTickerManager`. */
  managerFactory: TickerManagerFactory;
}

/** What the unified channel carries: every key's messages, tagged with the key id. */
export interface MultiApiMessage {
  apiKeyId: string;
  message: TickerMessage;
}

/** Why a key is not taking tokens. */
export type ApiKeyFailureReason = 'auth_failed' | 'unreachable' | 'start_failed';

/** The multi-manager's view of one key. */
export type ApiKeyState = 'idle' | 'active' | 'failed' | 'stopped';

export interface ApiKeyStats {
  apiKeyId: string;
  state: ApiKeyState;
  /** Set while state is 'failed'. */
  failureReason: ApiKeyFailureReason | undefined;
  activeConnections: number;
  /** Tokens this key owns in the desired-state table. */
  totalSymbols: number;
  /** Free slots for new tokens (0 while failed). */
  availableCapacity: number;
  totalMessagesReceived: number;
  totalTicks: number;
  totalFrames: number;
  totalBytes: number;
  totalReconnects: number;
  /** Messages dropped by the overflow policies of this key's channels. */
  totalDrops: number;
  totalProtocolErrors: number;
  /** Times this key failed (auth, unreachable, start). */
  failovers: number;
  /** The key manager's own snapshot (counters since its last (re)build). */
  manager: ManagerStats;
  health: ManagerHealth;
}

export interface MultiApiStats {
  totalApiKeys: number;
  /** Connected sockets across keys. */
  totalConnections: number;
  /** Tokens placed on a key. */
  totalSymbols: number;
  /** Tokens wanted but on no key (no capacity after a failover); placed as soon as capacity appears. */
  unplacedSymbols: number;
  totalMessagesReceived: number;
  totalTicks: number;
  totalDrops: number;
  /** Order updates dropped as copies (same update on several sockets or keys): the pools' and the cross-key ones. */
  duplicateOrders: number;
  /** Ticks dropped for instruments nobody subscribed: the pools' (per socket) and the manager's own. */
  unknownTokenDrops: number;
  /** Since start(); 0 before. */
  uptimeMs: number;
  perApiStats: ApiKeyStats[];
}

/** Emitted when a key fails and its tokens are moved. */
export interface FailoverEvent {
  apiKeyId: string;
  reason: ApiKeyFailureReason;
  /** Target key id -> tokens moved there. */
  moved: Map<string, number[]>;
  /** Tokens that found no capacity (also reported by an 'unplaced' event). */
  unplaced: number[];
}

/** Tokens the manager wants but could not place. */
export interface UnplacedEvent {
  tokens: number[];
  /** Total unplaced now. */
  totalUnplaced: number;
  reason: string;
}

/** Typed events of `MultiApiKiteTickerManager` (listener argument tuples). */
export interface MultiApiEvents {
  /** One batch per frame, on the hot path: no wrapper object is made for it. */
  ticks: [ticks: Tick[], apiKeyId: string, connectionIndex: number];
  /** Order updates, deduplicated across sockets and keys. */
  order: [order: OrderUpdate, apiKeyId: string, connectionIndex: number];
  status: [event: StatusEvent, apiKeyId: string, connectionIndex: number];
  /** A server error text, per socket. */
  serverError: [message: string, apiKeyId: string, connectionIndex: number];
  /** A server `{"type":"message"}` text, per socket. */
  serverMessage: [data: unknown, apiKeyId: string, connectionIndex: number];
  /** A malformed packet was skipped (the rest of its frame was still delivered). */
  protocolError: [info: ProtocolErrorInfo, apiKeyId: string, connectionIndex: number];
  failover: [event: FailoverEvent];
  unplaced: [event: UnplacedEvent];
  /** Previously unplaced tokens found a key. */
  placed: [placed: Map<string, number[]>];
  /** A key came back after a failure (reconnected or a new token). */
  recovered: [apiKeyId: string];
  /** Background failures (start/failover/health). Emitted only when someone listens. */
  error: [error: KiteTickerError | Error, apiKeyId: string | undefined];
}
