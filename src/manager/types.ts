/**
 * The public contract of the one manager. `MultiApiKiteTickerManager` (N API keys) and
 * `KiteTickerManager` (one key, a thin face of it) share these events, messages and stats: every
 * event carries `(..., apiKeyId, connectionIndex)` on both.
 */
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { ReconnectPolicy, StatusEvent } from '../connection/types.js';
import type { Channel, ChannelOptions, OverflowPolicy } from '../delivery/types.js';
import type { KiteTickerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type {
  ConnectionFactory,
  ConnectionStatsSnapshot,
  KeyPool,
  ManagerHealth,
  Placement,
  PoolFactory,
  PoolStats,
} from '../pool/types.js';
import type { Mode } from '../protocol/constants.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';

export type {
  ConnectionFactory,
  ConnectionHealthState,
  ConnectionStatsSnapshot,
  KeyPool,
  ManagerHealth,
  Placement,
  PoolFactory,
  PoolOwner,
  PoolStats,
} from '../pool/types.js';

/** Per-key configuration (`new KiteTickerManager(...)` options, the builder's `baseConfig`). */
export interface KiteTickerManagerConfig {
  /** Sockets for this key, 1-3. Default 3. */
  maxConnections: number;
  /** Instruments per socket, 1-3000. Default 3000. */
  maxSymbolsPerConnection: number;
  /** Mode for subscribeSymbols without one. Default 'quote'. */
  defaultMode: Mode;
  /** Connect timeout per socket, 100 to 2^31-1 ms. Default 30 000 ms. */
  connectionTimeoutMs: number;
  /** How often health is evaluated and logged, 100 to 2^31-1 ms. Default 10 000 ms. */
  healthCheckIntervalMs: number;
  reconnect: Partial<ReconnectPolicy>;
  /** See KiteTickerOptions.livenessTimeoutMs (100 to 2^31-1 ms). Default 5 000 ms. */
  livenessTimeoutMs: number;
  /** See KiteTickerOptions.tokenRefreshIntervalMs: how often a waiting token provider is asked again. Default 5 000 ms. */
  tokenRefreshIntervalMs: number;
  /** See KiteTickerOptions.tokenProviderTimeoutMs: longest wait for one answer of a token provider. Default 10 000 ms. */
  tokenProviderTimeoutMs: number;
  /** Default 'wss://ws.kite.trade'. */
  url: string;
  /** Buffer of each channel, 1 to 1 000 000 messages. Default 256 messages (one message is one frame's batch of ticks). */
  channelCapacity: number;
  /** Default 'drop-oldest'. */
  overflow: OverflowPolicy;
  /** Default 1000. */
  maxTokensPerMessage: number;
  /** Default silent. */
  logger: Logger;
  /** How a key's tokens are spread over its sockets: 'fill' (first fit, default) or 'spread' (even). */
  placement: Placement;
}

/** The guide's `ChannelId::Connection1..3`: a key's socket, as `getChannel` takes it (0-based). */
export const ChannelId = {
  Connection1: 0,
  Connection2: 1,
  Connection3: 2,
} as const;
export type ChannelId = (typeof ChannelId)[keyof typeof ChannelId];

/** What consumers receive on channels. `connectionIndex` is 0-based. */
export type TickerMessage =
  | { type: 'ticks'; connectionIndex: number; ticks: Tick[] }
  | { type: 'order'; connectionIndex: number; order: OrderUpdate }
  | { type: 'error'; connectionIndex: number; message: string }
  | { type: 'message'; connectionIndex: number; data: unknown }
  | { type: 'status'; connectionIndex: number; event: StatusEvent };

/** What the unified channel carries: every key's messages, tagged with the key id. */
export interface MultiApiMessage {
  apiKeyId: string;
  message: TickerMessage;
}

/** How `subscribeSymbols` places new tokens over keys. */
export const DistributionStrategy = {
  /**
   * Default. Despite the name (the guide's), this is least-loaded: each new token goes to the key
   * holding the fewest tokens that has room, ties going round the keys in turn (so equal keys
   * interleave A B C A B C, which is round-robin when they start even). `LeastLoaded` is the same value.
   */
  RoundRobin: 'round-robin',
  /** The accurate name of `RoundRobin` (same value, same behaviour). */
  LeastLoaded: 'round-robin',
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

/** @deprecated the per-key pool is a `KeyPool` now; kept as an alias. */
export type EventedTickerManager = KeyPool;
/** @deprecated use `PoolFactory` (the builder's `poolFactory`); kept as an alias. */
export type TickerManagerFactory = PoolFactory;

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
  /** Default DistributionStrategy.RoundRobin (least-loaded). */
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
  /** Most order updates remembered for de-duplication. Default 10 000. */
  orderDedupeSize: number;
  /** Keep `latestQuotes` current. Default false here (true for `KiteTickerManager`). */
  latestQuotes: boolean;
  /** Emit each binary frame as received on 'frame' (for recorders). Default false. */
  rawFrames: boolean;
  /**
   * Keep running when every key fails to start, and subscribe what has no room as unplaced instead of
   * throwing CapacityError (placed when a key recovers). For services that wait for tokens. Default false.
   */
  waitForKeys: boolean;
  /**
   * Decode binary frames into tick objects. Default true. False (for a consumer of raw frames only,
   * such as the relay): no 'ticks' events, no tick messages on channels, no `latestQuotes`; frames,
   * orders, statuses and every counter are unchanged. Each upstream tick then costs no decoding.
   */
  decodeTicks?: boolean;
  /** Config of every key's pool and channels, with the fields above applied. */
  baseConfig: Partial<KiteTickerManagerConfig>;
  /** Default: a `ConnectionPool` per key. */
  managerFactory: PoolFactory;
}

/** What `new KiteTickerManager(apiKey, accessToken, options)` accepts: every config field is optional. */
export interface KiteTickerManagerOptions extends Partial<KiteTickerManagerConfig> {
  /** Makes connections. Default: `new KiteTicker(options)` from the connection module. */
  createConnection?: ConnectionFactory;
  /**
   * Most order updates remembered to drop the copies Kite sends to each socket of the key (see
   * `OrderDeduplicator`). Default 10 000, at most 1 000 000 (each is a fixed-size digest, ~150 bytes).
   */
  orderDedupeSize?: number;
  /**
   * A copy of an order update arriving within this many ms of the first is dropped; 0 turns
   * de-duplication off. Default 60 000.
   */
  orderDedupeWindowMs?: number;
  /**
   * Keep `latestQuotes` current. Default true. The table holds every subscribed instrument's newest
   * tick, so each tick object lives until its instrument's next tick and is promoted out of V8's young
   * generation: with 27 000 full-mode instruments that makes the manager cost ~3x the CPU and ~2x the RSS
   * of delivering the same ticks to events only (BENCHMARKS.md). Set false if nothing reads the table.
   */
  latestQuotes?: boolean;
  /** Emit every binary frame as received on 'frame' `(frame, apiKeyId, connectionIndex)`. Default false. */
  rawFrames?: boolean;
  /**
   * Decode frames into ticks. Default true. False (with `rawFrames`, for raw-frame readers): no
   * 'ticks' events or tick channel messages; counters unchanged; not with `latestQuotes: true`.
   */
  decodeTicks?: boolean;
}

/** Why a key is not taking tokens. */
export type ApiKeyFailureReason = 'auth_failed' | 'unreachable' | 'start_failed';

/** The manager's view of one key. */
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
  /** Messages dropped by the overflow policies of this key's per-connection channels. */
  totalDrops: number;
  totalProtocolErrors: number;
  /** Times this key failed (auth, unreachable, start). */
  failovers: number;
  /** Order updates from this key's sockets dropped as copies (of this key's or another key's). */
  duplicateOrders: number;
  /** The key's pool: per-connection counters (totals never go down across reopened sockets). */
  manager: PoolStats;
  health: ManagerHealth;
}

/** The one stats shape, on both faces (a `KiteTickerManager` has one entry in `perApiStats`). */
export interface ManagerStats {
  totalApiKeys: number;
  /** Every key's connections (those opened or holding tokens), each tagged with its key id. */
  connections: (ConnectionStatsSnapshot & { apiKeyId: string })[];
  /** Connected sockets across keys. */
  activeConnections: number;
  /** The same number as `activeConnections` (the multi-key manager's historical name). */
  totalConnections: number;
  /** Tokens placed on a key. */
  totalSymbols: number;
  /** Tokens wanted but on no key (no capacity after a failover); placed as soon as capacity appears. */
  unplacedSymbols: number;
  totalFrames: number;
  totalTicks: number;
  totalBytes: number;
  /** Messages delivered to channels/listeners (tick batches, orders, text messages). */
  totalMessagesReceived: number;
  totalProtocolErrors: number;
  totalReconnects: number;
  /** Messages dropped by the overflow policy of any channel. */
  totalDrops: number;
  /** Order updates dropped as copies of one already delivered (Kite sends each to every socket). */
  duplicateOrders: number;
  /** Ticks dropped for instruments not subscribed on the socket (or key) that brought them. */
  unknownTokenDrops: number;
  /** Since start(); 0 before; frozen at the stop time after stop(). */
  uptimeMs: number;
  perApiStats: ApiKeyStats[];
}

/** @deprecated the one stats shape is `ManagerStats`. */
export type MultiApiStats = ManagerStats;

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

/** Typed events of both managers (listener argument tuples). `connectionIndex` is 0-based. */
export interface ManagerEvents {
  /** One batch per binary frame, on the hot path: the array the connection decoded (do not mutate it). */
  ticks: [ticks: Tick[], apiKeyId: string, connectionIndex: number];
  /** Each order update once, even when several sockets or keys deliver it (see `OrderDeduplicator`). */
  order: [order: OrderUpdate, apiKeyId: string, connectionIndex: number];
  status: [event: StatusEvent, apiKeyId: string, connectionIndex: number];
  /** A server `{"type":"error"}` text message. */
  serverError: [message: string, apiKeyId: string, connectionIndex: number];
  /** A server `{"type":"message"}` text message. */
  serverMessage: [data: unknown, apiKeyId: string, connectionIndex: number];
  /** A malformed packet was skipped (the rest of its frame was still delivered). */
  protocolError: [info: ProtocolErrorInfo, apiKeyId: string, connectionIndex: number];
  /** Every binary frame as received, heartbeats included; only with the `rawFrames` option. */
  frame: [frame: Uint8Array, apiKeyId: string, connectionIndex: number];
  /** Emitted by the health check when any of a key's connections changed state since the previous check. */
  health: [health: ManagerHealth, apiKeyId: string];
  failover: [event: FailoverEvent];
  unplaced: [event: UnplacedEvent];
  /** Previously unplaced tokens found a key. */
  placed: [placed: Map<string, number[]>];
  /** A key came back after a failure (reconnected or a new token). */
  recovered: [apiKeyId: string];
  /**
   * Background failures (connection, start, failover, token update). Emitted only when someone
   * listens (never an unhandled 'error'). `connectionIndex` is -1 when no one socket is concerned.
   */
  error: [error: KiteTickerError | Error, apiKeyId: string | undefined, connectionIndex: number];
}

/** @deprecated both managers emit `ManagerEvents`. */
export type KiteTickerManagerEvents = ManagerEvents;
/** @deprecated both managers emit `ManagerEvents`. */
export type MultiApiEvents = ManagerEvents;

/** The one-key face's methods (what `KiteTickerManager` implements). */
export interface TickerManager {
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void>;
  unsubscribeSymbols(tokens: readonly number[]): Promise<void>;
  changeMode(tokens: readonly number[], mode: Mode): Promise<void>;
  updateAccessToken(accessToken: string): void;
  /** A new bounded channel on one connection's messages; throws InvalidArgumentError for an unknown index. */
  getChannel(connectionIndex: number, options?: ChannelOptions): Channel<TickerMessage>;
  /** A new bounded channel on every connection's messages. */
  getMergedChannel(options?: ChannelOptions): Channel<TickerMessage>;
  /** connection index -> (token -> mode). */
  getSymbolDistribution(): Map<number, Map<number, Mode>>;
  getStats(): ManagerStats;
  getHealth(): ManagerHealth;
  /** Free slots left on this key. */
  availableCapacity(): number;
}
