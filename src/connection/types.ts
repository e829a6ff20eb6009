/**
 * The public contract of one ticker connection (`KiteTicker`). The manager builds on this interface,
 * not on the implementation.
 */
import type { KiteTickerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { FrameView } from '../protocol/frame-view.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';
import type { AccessTokenSource } from './token-provider.js';

export type { AccessTokenProvider, AccessTokenSource } from './token-provider.js';

/** Backoff between reconnect attempts: delay = min(maxDelayMs, initialDelayMs * multiplier^(attempt-1)), then jitter. */
export interface ReconnectPolicy {
  /** Reconnect after a drop. Default true. */
  enabled: boolean;
  /** First delay, 0 to 2^31-1 ms. Default 500 ms. */
  initialDelayMs: number;
  /** Growth per attempt. Default 2. */
  multiplier: number;
  /** Cap on the delay, 0 to 2^31-1 ms. Default 30 000 ms. */
  maxDelayMs: number;
  /** 'full': a uniformly random delay in [0, computed]; 'none': the computed delay. Default 'full'. */
  jitter: 'full' | 'none';
  /** Attempts before giving up (status 'closed' with code ERR_RECONNECT_EXHAUSTED). Default Infinity. */
  maxAttempts: number;
  /** A connection that stays up this long resets the attempt counter (0 to 2^31-1 ms). Default 30 000 ms. */
  resetAfterMs: number;
}

export interface KiteTickerOptions {
  apiKey: string;
  /**
   * The access token, or a provider of it (`() => string | Promise<string>`), asked at connect(), at once
   * after a 403, then every `tokenRefreshIntervalMs` while it returns the refused token (or fails).
   */
  accessToken: AccessTokenSource;
  /** How often a waiting provider is asked again, 100 to 2^31-1 ms. Default 5 000 ms. */
  tokenRefreshIntervalMs?: number;
  /** Longest wait for one provider call, 100 to 2^31-1 ms (then a reported error). Default 10 000 ms. */
  tokenProviderTimeoutMs?: number;
  /** Default 'wss://ws.kite.trade'. */
  url?: string;
  /** Time allowed for TCP + TLS + upgrade, 100 to 2^31-1 ms. Default 10 000 ms. */
  connectTimeoutMs?: number;
  reconnect?: Partial<ReconnectPolicy>;
  /** No frame at all (heartbeats included) for this long (100 to 2^31-1 ms): the socket is stale, closed and reconnected. Default 5 000 ms. */
  livenessTimeoutMs?: number;
  /** Tokens per subscribe/unsubscribe/mode message; longer lists are split. Default 1000. */
  maxTokensPerMessage?: number;
  /** Default: silent. */
  logger?: Logger;
}

export type ConnectionStatus =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'reconnecting'
  | 'stale'
  | 'auth_failed'
  | 'closed';

export type StatusEvent =
  | { status: 'connecting'; attempt: number }
  | { status: 'connected'; attempt: number }
  | { status: 'reconnecting'; attempt: number; delayMs: number; reason: string }
  | { status: 'stale'; silentMs: number }
  /**
   * The token was refused (`httpStatus` 403), or a provider has not given one yet (`httpStatus` 0).
   * `reason` says what the connection waits for.
   */
  | { status: 'auth_failed'; httpStatus: number; reason?: string }
  | { status: 'closed'; reason: 'user' | 'reconnect_exhausted' | 'auth_failed'; error?: KiteTickerError }
  /** A pending connect() was aborted by its AbortSignal before the socket opened; connect() may be called again. */
  | { status: 'idle'; reason: 'aborted' };

export interface TickerStats {
  status: ConnectionStatus;
  connected: boolean;
  /** Binary frames received (heartbeats excluded). */
  frames: number;
  ticks: number;
  /** Bytes of every frame received (binary and text). */
  bytes: number;
  heartbeats: number;
  textMessages: number;
  protocolErrors: number;
  /** Successful reconnections (not counting the first connect). */
  reconnects: number;
  /** Milliseconds since the last frame of any kind; null before the first. */
  lastFrameAgeMs: number | null;
  /** Tokens in the desired subscription state. */
  subscribed: number;
  /** Milliseconds the current socket has been open; 0 when not connected. */
  uptimeMs: number;
}

/** Events of a `KiteTicker` (a typed EventEmitter). */
export interface KiteTickerEvents {
  /** One batch per binary frame. Only decoded when someone listens. */
  ticks: [ticks: Tick[]];
  /** Zero-copy view of each binary frame; valid only during the callback. */
  frame: [view: FrameView];
  order: [order: OrderUpdate];
  /** A server `{"type":"error"}` text frame. */
  serverError: [message: string];
  /** A server `{"type":"message"}` text frame. */
  serverMessage: [data: unknown];
  status: [event: StatusEvent];
  protocolError: [info: ProtocolErrorInfo];
  /** Connection-level errors; emitted only when a listener exists (never an unhandled 'error'). */
  error: [error: KiteTickerError];
  /**
   * Every binary frame as received, heartbeats included (what the official client's 'message' event
   * gives). Emitted only when someone listens; the bytes are not copied.
   */
  rawFrame: [data: Uint8Array];
}

/** What the manager needs of a connection. */
export interface TickerConnection {
  readonly status: ConnectionStatus;
  /** Opens the socket; resolves once connected. Rejects with AuthFailedError on 403, or on abort/close. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Stops everything; idempotent; resolves when the socket and every timer are gone. */
  close(): Promise<void>;
  subscribe(tokens: readonly number[], mode?: Mode): void;
  unsubscribe(tokens: readonly number[]): void;
  setMode(mode: Mode, tokens: readonly number[]): void;
  updateAccessToken(accessToken: string): void;
  /** The desired state: token -> mode. */
  subscriptions(): ReadonlyMap<number, Mode>;
  stats(): TickerStats;
  /** Resolves when the ticker is closed for good (by close(), exhausted retries). */
  closed(): Promise<StatusEvent & { status: 'closed' }>;
  statuses(): AsyncIterable<StatusEvent>;
  on<E extends keyof KiteTickerEvents>(event: E, listener: (...args: KiteTickerEvents[E]) => void): this;
  off<E extends keyof KiteTickerEvents>(event: E, listener: (...args: KiteTickerEvents[E]) => void): this;
}
