/**
 * A drop-in for the official `kiteconnect` npm client's `KiteTicker`: the same constructor options,
 * methods, events (with the same arguments) and mode constants, so switching is one import line:
 *
 *   import { KiteTicker } from 'kiteticker-manager/compat';   // was: from 'kiteconnect'
 *
 * Built on this library's connection, it fixes what the official one gets wrong: every instance has its
 * own socket (the official keeps one in module globals), subscriptions are replayed after a reconnect,
 * a refused token (403) stops the retries instead of hammering the server, a silent socket is detected,
 * and giving up emits 'noreconnect' without calling process.exit(1).
 *
 * Just over 400 lines because it is one public class whose surface is fixed by the official client (every
 * method, event and snake_case option it has); the work itself happens in src/connection.
 */
import type { InspectOptionsStylized, inspect as nodeInspect } from 'node:util';
import { MAX_TIMER_SECONDS } from '../config/validate.js';
import { groupByMode } from '../connection/subscriptions.js';
import { KiteTicker as CoreTicker } from '../connection/ticker.js';
import type { KiteTickerOptions, ReconnectPolicy, StatusEvent, TickerStats } from '../connection/types.js';
import type { KiteTickerError } from '../errors.js';
import type { Logger } from '../logger.js';
import { isMode, MAX_TOKEN } from '../protocol/constants.js';
import { decodeFrame } from '../protocol/index.js';
import type { OrderUpdate, Tick } from '../protocol/types.js';

/** The official client's constructor parameters. */
export interface KiteTickerParams {
  api_key: string;
  access_token: string;
  /** Reconnect after a drop. Default true. */
  reconnect?: boolean;
  /** Reconnect attempts before 'noreconnect'. Default 50, at most 300 (as the official client). */
  max_retry?: number;
  /** Cap on the reconnect delay, in seconds. Default 60, at least 5 (as the official client), at most 2147483 (a timer's limit). */
  max_delay?: number;
  /** WebSocket root. Default 'wss://ws.kite.trade/'. */
  root?: string;
}

/** Extensions the official client does not have (all optional). */
export interface CompatOptions {
  /** Default silent. */
  logger?: Logger;
  /** Default 5000 ms (the official client's read timeout). */
  livenessTimeoutMs?: number;
  /** Default 10 000 ms. */
  connectTimeoutMs?: number;
  maxTokensPerMessage?: number;
  /** Overrides the backoff derived from max_retry / max_delay (first delay 1 s, doubling, no jitter). */
  reconnect?: Partial<ReconnectPolicy>;
}

/** Event name -> callback arguments, as the official client passes them. */
export interface CompatEvents {
  /** Each time a socket opens (subscriptions are already replayed). */
  connect: [];
  ticks: [ticks: Tick[]];
  /** Each time a socket is lost (or an attempt fails), with the reason. */
  disconnect: [error: Error | undefined];
  error: [error: Error];
  /** Each time a socket closes, with a short reason (e.g. 'closed_1006', 'http_503', 'stale', 'user'). */
  close: [reason: string];
  /** A reconnect is scheduled: attempt number and delay in seconds. */
  reconnect: [reconnectCount: number, reconnectIntervalSeconds: number];
  /** Reconnecting stopped: attempts exhausted, or the access token was refused. */
  noreconnect: [];
  /** Every binary frame, heartbeats included, as an ArrayBuffer. */
  message: [binaryData: ArrayBuffer];
  order_update: [order: OrderUpdate];
}
export type CompatEventName = keyof CompatEvents;

type Callback = (...args: never[]) => void;
/** Events fed by per-frame data; wired to the connection lazily. */
type DataEvent = 'ticks' | 'order_update' | 'message';
const DATA_EVENTS: readonly DataEvent[] = ['ticks', 'order_update', 'message'];

function isDataEvent(event: CompatEventName): event is DataEvent {
  return event === 'ticks' || event === 'order_update' || event === 'message';
}

const DEFAULT_ROOT = 'wss://ws.kite.trade/';
const DEFAULT_MAX_RETRY = 50;
const MAXIMUM_MAX_RETRY = 300;
const DEFAULT_MAX_DELAY_S = 60;
const MINIMUM_MAX_DELAY_S = 5;

export class KiteTicker {
  readonly modeFull = 'full' as const;
  readonly modeQuote = 'quote' as const;
  readonly modeLTP = 'ltp' as const;
  readonly root: string;
  readonly api_key: string;
  /**
   * Kept in a private field behind an accessor: readable and writable as on the official client, but
   * not an own enumerable property, so console.log, util.inspect, JSON.stringify, object spread and
   * Object.keys of a ticker never show the token.
   */
  #accessToken: string;
  get access_token(): string {
    return this.#accessToken;
  }
  set access_token(value: string) {
    this.#accessToken = value;
  }

  /**
   * `util.inspect(ticker, { showHidden: true, getters: true })` would call the accessor above and
   * print the token: inspection gets this redacted view instead (the token is never read here).
   */
  [Symbol.for('nodejs.util.inspect.custom')](
    depth: number,
    options: InspectOptionsStylized,
    inspect: typeof nodeInspect,
  ): string {
    const view = { root: this.root, api_key: this.api_key, access_token: '***', status: this.#core.status };
    if (depth < 0) return '[KiteTicker]';
    return `KiteTicker ${inspect(view, { ...options, depth: options.depth === null ? null : depth })}`;
  }

  readonly #options: CompatOptions;
  readonly #triggers = new Map<CompatEventName, Callback[]>();
  #reconnect: { enabled: boolean; maxRetry: number; maxDelayS: number } = {
    enabled: true,
    maxRetry: DEFAULT_MAX_RETRY,
    maxDelayS: DEFAULT_MAX_DELAY_S,
  };
  #core: CoreTicker;
  #lastError: KiteTickerError | undefined;
  #wasOpen = false;
  readonly #attached = new Set<DataEvent>();

  constructor(params: KiteTickerParams, options: CompatOptions = {}) {
    this.root = params.root || DEFAULT_ROOT;
    this.api_key = params.api_key;
    this.#accessToken = params.access_token;
    this.#options = options;
    this.#setReconnect(params.reconnect ?? true, params.max_retry, params.max_delay);
    this.#core = this.#createCore();
  }

  /** As the official client: enable/disable reconnects, max attempts (<= 300), max delay in s (>= 5). */
  autoReconnect(enable: boolean, max_retry?: number, max_delay?: number): void {
    this.#setReconnect(enable, max_retry, max_delay);
    // The policy is fixed per connection; an idle one is rebuilt now, a live one at the next connect().
    if (this.#core.status === 'idle') this.#core = this.#createCore(this.#core);
  }

  /** Opens the socket. Failures arrive as events ('error', 'disconnect', 'reconnect', 'noreconnect'). */
  connect(): void {
    const status = this.#core.status;
    if (status === 'closed') this.#core = this.#createCore(this.#core);
    else if (status !== 'idle') return; // connecting, connected or waiting: nothing to do
    this.#core.connect().catch(noop);
  }

  /** Closes the socket and stops reconnecting (never exits the process). connect() may be called again. */
  disconnect(): void {
    if (this.#core.status !== 'closed') this.#core.close().catch(noop);
  }

  connected(): boolean {
    return this.#core.status === 'connected';
  }

  on<E extends CompatEventName>(event: E, callback: (...args: CompatEvents[E]) => void): void {
    if (!isCompatEvent(event) || typeof callback !== 'function') return;
    let list = this.#triggers.get(event);
    if (!list) this.#triggers.set(event, (list = []));
    list.push(callback as Callback);
    if (isDataEvent(event)) this.#attach(this.#core, event);
  }

  /**
   * Subscribes tokens (mode quote for new ones; tokens already subscribed keep their mode). Numeric
   * strings are accepted and sent as numbers (Kite ignores string tokens). Returns `tokens`.
   */
  subscribe<T extends readonly (number | string)[]>(tokens: T): T {
    const valid = this.#validTokens(tokens, 'subscribe');
    const current = this.#core.subscriptions();
    const fresh = valid.filter((t) => !current.has(t));
    if (fresh.length > 0) this.#core.subscribe(fresh, 'quote');
    return tokens;
  }

  unsubscribe<T extends readonly (number | string)[]>(tokens: T): T {
    this.#core.unsubscribe(this.#validTokens(tokens, 'unsubscribe'));
    return tokens;
  }

  /**
   * Sets the mode of tokens. Tokens not subscribed yet are subscribed in that mode (the official
   * client sends the mode message regardless). Returns `tokens`.
   */
  setMode<T extends readonly (number | string)[]>(mode: 'ltp' | 'quote' | 'full', tokens: T): T {
    if (!isMode(mode)) {
      // The official client sends any mode and Kite ignores what it does not know; throwing here
      // would crash a handler written against it (the same for bad tokens, below).
      this.#options.logger?.warn(
        { event: 'invalid_mode', mode: String(mode) },
        `setMode: unknown mode ${JSON.stringify(String(mode))} ignored: expected "ltp", "quote" or "full"`,
      );
      return tokens;
    }
    const valid = this.#validTokens(tokens, 'setMode');
    const current = this.#core.subscriptions();
    const fresh = valid.filter((t) => !current.has(t));
    if (fresh.length > 0) this.#core.subscribe(fresh, mode);
    this.#core.setMode(mode, valid);
    return tokens;
  }

  /** As the official client: decodes one binary frame. */
  parseBinary(binpacks: ArrayBuffer | Uint8Array): Tick[] {
    return decodeFrame(binpacks);
  }

  // ---- extensions

  /** Replaces the access token; after a 403 this reconnects and resubscribes. */
  updateAccessToken(accessToken: string): void {
    this.#core.updateAccessToken(accessToken);
    this.#accessToken = accessToken;
  }

  /** Counters of the current connection. */
  stats(): TickerStats {
    return this.#core.stats();
  }

  /** The underlying connection (statuses(), closed(), frame views...). */
  get ticker(): CoreTicker {
    return this.#core;
  }

  // ---- wiring

  /**
   * The whole-number tokens of `tokens`. The official client never throws here (it sends the list and
   * Kite drops what it cannot use), so anything else is left out and reported to the logger.
   */
  #validTokens(tokens: readonly (number | string)[], method: string): number[] {
    const { valid, invalid } = toTokens(tokens);
    if (invalid > 0) {
      this.#options.logger?.warn(
        { event: 'invalid_tokens', method, invalid },
        `${method}: ${invalid} invalid instrument token(s) ignored (expected whole numbers 0..4294967295)`,
      );
    }
    return valid;
  }

  #setReconnect(enable: boolean, maxRetry?: number, maxDelay?: number): void {
    const retry = maxRetry || DEFAULT_MAX_RETRY;
    const delay = maxDelay || DEFAULT_MAX_DELAY_S;
    this.#reconnect = {
      enabled: Boolean(enable),
      maxRetry: Math.min(Math.max(0, Math.floor(retry)), MAXIMUM_MAX_RETRY),
      // Clamped both ways like the official client's minimum: a cap past what a timer holds would make
      // Node fire every reconnect after 1 ms.
      maxDelayS: Math.min(Math.max(delay, MINIMUM_MAX_DELAY_S), MAX_TIMER_SECONDS),
    };
  }

  /** A fresh connection with the current settings, carrying over the subscriptions of `previous`. */
  #createCore(previous?: CoreTicker): CoreTicker {
    const o = this.#options;
    const options: KiteTickerOptions = {
      apiKey: this.api_key,
      accessToken: this.#accessToken,
      url: this.root,
      reconnect: {
        enabled: this.#reconnect.enabled,
        initialDelayMs: 1000,
        multiplier: 2,
        maxDelayMs: this.#reconnect.maxDelayS * 1000,
        jitter: 'none',
        maxAttempts: this.#reconnect.maxRetry,
        // The official client resets its counter on every successful open.
        resetAfterMs: 0,
        ...o.reconnect,
      },
    };
    if (o.logger) options.logger = o.logger;
    if (o.livenessTimeoutMs !== undefined) options.livenessTimeoutMs = o.livenessTimeoutMs;
    if (o.connectTimeoutMs !== undefined) options.connectTimeoutMs = o.connectTimeoutMs;
    if (o.maxTokensPerMessage !== undefined) options.maxTokensPerMessage = o.maxTokensPerMessage;
    const core = new CoreTicker(options);
    if (previous) {
      for (const [mode, tokens] of groupByMode(previous.subscriptions())) core.subscribe(tokens, mode);
    }
    this.#wasOpen = false;
    core.on('status', (event) => {
      if (this.#core === core) this.#onStatus(event);
    });
    core.on('error', (error) => {
      if (this.#core !== core) return;
      this.#lastError = error;
      this.#trigger('error', error);
    });
    this.#attached.clear();
    for (const event of DATA_EVENTS) if (this.#has(event)) this.#attach(core, event);
    return core;
  }

  #onStatus(event: StatusEvent): void {
    switch (event.status) {
      case 'connected':
        this.#wasOpen = true;
        this.#lastError = undefined;
        this.#trigger('connect');
        break;
      case 'reconnecting':
        this.#trigger('close', event.reason);
        this.#trigger('disconnect', this.#lastError);
        this.#trigger('reconnect', event.attempt, event.delayMs / 1000);
        break;
      case 'auth_failed':
        this.#trigger('close', `http_${event.httpStatus}`);
        this.#trigger('disconnect', this.#lastError);
        this.#trigger('noreconnect');
        break;
      case 'closed':
        if (event.reason === 'reconnect_exhausted') {
          this.#trigger('close', 'reconnect_exhausted');
          this.#trigger('disconnect', event.error);
          this.#trigger('noreconnect');
        } else if (event.reason === 'user' && this.#wasOpen) {
          this.#trigger('close', 'user');
          this.#trigger('disconnect', undefined);
        }
        break;
      default:
        break;
    }
  }

  /**
   * Data listeners go on the connection only once someone listens here, so that a ticker nobody reads
   * ticks from does not decode them (the connection decodes only for 'ticks' listeners).
   */
  #attach(core: CoreTicker, event: DataEvent): void {
    if (this.#attached.has(event)) return;
    this.#attached.add(event);
    if (event === 'ticks') {
      // Per frame: call the callbacks directly, without #trigger's rest-argument array and iterator.
      core.on('ticks', (ticks) => {
        if (this.#core !== core) return;
        const list = this.#triggers.get('ticks');
        if (list === undefined) return;
        for (let i = 0; i < list.length; i++) (list[i] as (ticks: Tick[]) => void)(ticks);
      });
    } else if (event === 'order_update') {
      core.on('order', (order) => {
        if (this.#core === core) this.#trigger('order_update', order);
      });
    } else {
      core.on('rawFrame', (data) => {
        if (this.#core === core) this.#trigger('message', toArrayBuffer(data));
      });
    }
  }

  #has(event: CompatEventName): boolean {
    const list = this.#triggers.get(event);
    return list !== undefined && list.length > 0;
  }

  #trigger<E extends CompatEventName>(event: E, ...args: CompatEvents[E]): void {
    const list = this.#triggers.get(event);
    if (!list) return;
    for (const callback of list) (callback as (...a: CompatEvents[E]) => void)(...args);
  }
}

const COMPAT_EVENTS: ReadonlySet<string> = new Set<CompatEventName>([
  'connect',
  'ticks',
  'disconnect',
  'error',
  'close',
  'reconnect',
  'noreconnect',
  'message',
  'order_update',
]);

function isCompatEvent(event: string): event is CompatEventName {
  return COMPAT_EVENTS.has(event);
}

/** Numbers as they are; digit-only strings as numbers (the official typings allow strings). */
function isToken(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN;
}

/** Numeric strings become numbers; anything else that is not a token is counted, not kept. */
function toTokens(tokens: readonly (number | string)[]): { valid: number[]; invalid: number } {
  if (!Array.isArray(tokens)) return { valid: [], invalid: tokens == null ? 0 : 1 };
  const valid: number[] = [];
  let invalid = 0;
  for (const t of tokens) {
    const n = typeof t === 'string' && /^\d+$/.test(t) ? Number(t) : t;
    if (isToken(n)) valid.push(n);
    else invalid++;
  }
  return { valid, invalid };
}

function toArrayBuffer(data: Uint8Array): ArrayBuffer {
  return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
}

function noop(): void {}
