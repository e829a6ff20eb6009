/**
 * The public contract of the one-API-key manager (`KiteTickerManager`): up to 3 connections x 3000
 * instruments. The multi-key manager builds on this interface.
 */
import type {
  ConnectionStatus,
  KiteTickerOptions,
  ReconnectPolicy,
  StatusEvent,
  TickerConnection,
} from '../connection/types.js';
import type { KiteTickerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';
import type { Channel, ChannelOptions, OverflowPolicy } from '../stream/types.js';

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
}

/** What consumers receive on channels. `connectionIndex` is 0-based. */
export type TickerMessage =
  | { type: 'ticks'; connectionIndex: number; ticks: Tick[] }
  | { type: 'order'; connectionIndex: number; order: OrderUpdate }
  | { type: 'error'; connectionIndex: number; message: string }
  | { type: 'message'; connectionIndex: number; data: unknown }
  | { type: 'status'; connectionIndex: number; event: StatusEvent };

export interface ConnectionStatsSnapshot {
  index: number;
  /** The connection's status; 'idle' for a slot not opened yet, 'closed' once stopped. */
  status: ConnectionStatus;
  connected: boolean;
  symbols: number;
  frames: number;
  ticks: number;
  bytes: number;
  heartbeats: number;
  protocolErrors: number;
  reconnects: number;
  lastFrameAgeMs: number | null;
  /** Messages dropped by this connection's channels' overflow policy. */
  drops: number;
}

export interface ManagerStats {
  connections: ConnectionStatsSnapshot[];
  activeConnections: number;
  totalSymbols: number;
  totalFrames: number;
  totalTicks: number;
  totalBytes: number;
  /** Messages delivered to channels/listeners (tick batches, orders, text messages). */
  totalMessagesReceived: number;
  totalProtocolErrors: number;
  totalReconnects: number;
  totalDrops: number;
  /** Order updates dropped as copies of one already delivered (Kite sends each to every socket). */
  duplicateOrders: number;
  /**
   * Ticks dropped because their instrument is not subscribed on the connection that brought them (a
   * misbehaving server, or ticks still in flight just after an unsubscribe).
   */
  unknownTokenDrops: number;
  /** Since start(); 0 before. */
  uptimeMs: number;
}

export type ConnectionHealthState =
  | 'healthy'
  | 'connecting'
  | 'stale'
  | 'reconnecting'
  | 'auth_failed'
  | 'closed';

export interface ManagerHealth {
  healthy: boolean;
  connections: { index: number; state: ConnectionHealthState; lastFrameAgeMs: number | null }[];
}

export interface TickerManager {
  start(): Promise<void>;
  stop(): Promise<void>;
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void>;
  unsubscribeSymbols(tokens: readonly number[]): Promise<void>;
  changeMode(tokens: readonly number[], mode: Mode): Promise<void>;
  updateAccessToken(accessToken: string): void;
  /** A new bounded channel on one connection's messages; undefined for an index that does not exist. */
  getChannel(connectionIndex: number, options?: ChannelOptions): Channel<TickerMessage> | undefined;
  /** A new bounded channel on every connection's messages. */
  getMergedChannel(options?: ChannelOptions): Channel<TickerMessage>;
  /** connection index -> (token -> mode). */
  getSymbolDistribution(): Map<number, Map<number, Mode>>;
  getStats(): ManagerStats;
  getHealth(): ManagerHealth;
  /** Free slots left on this key. */
  availableCapacity(): number;
}

/** Makes one connection; injectable so tests can use a fake. `index` is the 0-based connection index. */
export type ConnectionFactory = (options: KiteTickerOptions, index: number) => TickerConnection;

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
}

/** Events of a `KiteTickerManager` (typed EventEmitter). `connectionIndex` is 0-based. */
export interface KiteTickerManagerEvents {
  /** One batch per binary frame, the same array the connection decoded (do not mutate it). */
  ticks: [ticks: Tick[], connectionIndex: number];
  /** Each order update once, even when several sockets of the key deliver it (see `OrderDeduplicator`). */
  order: [order: OrderUpdate, connectionIndex: number];
  /** A server `{"type":"error"}` text message. */
  serverError: [message: string, connectionIndex: number];
  /** A server `{"type":"message"}` text message. */
  serverMessage: [data: unknown, connectionIndex: number];
  status: [event: StatusEvent, connectionIndex: number];
  protocolError: [info: ProtocolErrorInfo, connectionIndex: number];
  /** Emitted by the health check when any connection's state changed since the previous check. */
  health: [health: ManagerHealth];
  /** Connection-level errors; emitted only when a listener exists (never an unhandled 'error'). */
  error: [error: KiteTickerError, connectionIndex: number];
}
