/**
 * The contract between one API key's connection pool and the manager that owns it. The pool owns
 * sockets and their counters; everything a consumer sees (events, channels, de-duplication, quotes,
 * health timer) is the owner's, reached through the small `PoolOwner` callback interface.
 */
import type { AccessTokenSource } from '../connection/token-provider.js';
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

/**
 * How a key's new tokens are spread over its sockets.
 * - 'fill' (default): first fit: socket 0 up to `maxSymbolsPerConnection`, then 1, then 2. Opens a
 *   socket only when the previous ones are full (fewest sockets, fewest handshakes).
 * - 'spread': each new token goes to the allowed socket holding the fewest, so instruments are even
 *   over all `maxConnections` sockets; a dropped socket takes about 1/N of them with it, at the cost of
 *   opening every allowed socket as soon as there is anything to place.
 */
export type Placement = 'fill' | 'spread';

/** What a pool needs to know: the connection-level part of the manager's configuration. */
export interface PoolConfig {
  /** Sockets for this key, 1-3. */
  maxConnections: number;
  /** Instruments per socket, 1-3000. */
  maxSymbolsPerConnection: number;
  connectionTimeoutMs: number;
  reconnect: Partial<ReconnectPolicy>;
  livenessTimeoutMs: number;
  url: string;
  maxTokensPerMessage: number;
  logger: Logger;
  placement: Placement;
  /** How often a waiting access-token provider is asked again (KiteTickerOptions.tokenRefreshIntervalMs). */
  tokenRefreshIntervalMs: number;
  /** Longest wait for one answer of an access-token provider (KiteTickerOptions.tokenProviderTimeoutMs). */
  tokenProviderTimeoutMs: number;
  /**
   * Decode frames into ticks for `PoolOwner.ticks`. Default true. False: the pool reads only each
   * packet's token (for its filter and counters) and reports the frame with `PoolOwner.undecoded`.
   */
  decodeTicks?: boolean;
}

/** Makes one connection; injectable so tests can use a fake. `index` is the 0-based connection index. */
export type ConnectionFactory = (options: KiteTickerOptions, index: number) => TickerConnection;

/**
 * Where a pool reports what its sockets deliver, one call per frame or message. The owner decides
 * everything else (filtering against its own table, de-duplication, fan-out).
 */
export interface PoolOwner {
  /** Ticks of one frame, already limited to instruments subscribed on that socket. */
  ticks(ticks: Tick[], connectionIndex: number): void;
  order(order: OrderUpdate, connectionIndex: number): void;
  serverError(message: string, connectionIndex: number): void;
  serverMessage(data: unknown, connectionIndex: number): void;
  status(event: StatusEvent, connectionIndex: number): void;
  protocolError(info: ProtocolErrorInfo, connectionIndex: number): void;
  error(error: KiteTickerError, connectionIndex: number): void;
  /**
   * Instead of `ticks`, when the pool does not decode (`PoolConfig.decodeTicks` false): how many
   * packets of one frame are for instruments subscribed on that socket (at least 1).
   */
  undecoded?: ((packets: number, connectionIndex: number) => void) | undefined;
  /** Set only when the owner wants raw frames (the tap costs nothing otherwise). */
  frame?: ((data: Uint8Array, connectionIndex: number) => void) | undefined;
}

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
  /** Text frames received (order updates, messages); counted in `bytes` too. */
  textMessages: number;
  protocolErrors: number;
  reconnects: number;
  lastFrameAgeMs: number | null;
  /** Messages dropped by this connection's channels' overflow policy (filled in by the manager). */
  drops: number;
}

/** One key's counters, as its pool keeps them (totals never go down, even across reopened sockets). */
export interface PoolStats {
  connections: ConnectionStatsSnapshot[];
  activeConnections: number;
  totalSymbols: number;
  totalFrames: number;
  totalTicks: number;
  totalBytes: number;
  totalProtocolErrors: number;
  totalReconnects: number;
  /** Ticks dropped because their instrument is not subscribed on the socket that brought them. */
  unknownTokenDrops: number;
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

/** One API key's sockets as the manager drives them. Calls are serialised by the manager. */
export interface KeyPool {
  readonly apiKey: string;
  /** Opens socket 0 and every socket holding tokens; on failure closes what it opened and rejects. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Places new tokens (all or none: CapacityError), changes the mode of known ones. Before start: records only. */
  subscribeSymbols(tokens: readonly number[], mode: Mode): Promise<void>;
  unsubscribeSymbols(tokens: readonly number[]): Promise<void>;
  changeMode(tokens: readonly number[], mode: Mode): Promise<void>;
  /** Validates and stores the token (used from every socket's next connect). */
  updateAccessToken(accessToken: string): void;
  /** Reopens sockets that gave up (auth, retries exhausted) with their exact tokens and modes. */
  reopen(): Promise<void>;
  /** connection index -> (token -> mode), for sockets that hold tokens or are open. */
  getSymbolDistribution(): Map<number, Map<number, Mode>>;
  availableCapacity(): number;
  getStats(): PoolStats;
  getHealth(): ManagerHealth;
}

/**
 * Makes one key's pool. The default builds a `ConnectionPool`; tests inject fakes so that planning
 * and failover are exercised without sockets.
 */
export type PoolFactory = (
  apiKey: string,
  accessToken: AccessTokenSource,
  config: PoolConfig,
  owner: PoolOwner,
) => KeyPool;
