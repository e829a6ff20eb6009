/**
 * `KiteTicker`: one Kite ticker WebSocket that reconnects, replays its subscriptions exactly, tells a
 * refused token from a network fault, detects a silent socket, and never ends its host process.
 *
 * Life of a socket ("attempt"): every failure path (refused upgrade, network error, connect timeout,
 * stall, server close) ends in the socket's single 'close' event, and `#onSocketClose` decides what
 * happens next from what the attempt recorded. Sockets we abandon (close(), abort) are detached first,
 * so their late events are ignored.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import { Broadcaster } from '../delivery/broadcaster.js';
import {
  AuthFailedError,
  abortedError,
  ConnectionError,
  ConnectTimeoutError,
  closedError,
  InvalidArgumentError,
  type KiteTickerError,
  ReconnectExhaustedError,
  redact,
  TokenProviderError,
} from '../errors.js';
import { isMode, Mode } from '../protocol/constants.js';
import { FrameView } from '../protocol/frame-view.js';
import { parseTextMessage, validateTokens } from '../protocol/index.js';
import { boundText } from '../protocol/text-guard.js';
import type { ProtocolErrorHandler, ProtocolErrorInfo } from '../protocol/types.js';
import { backoffDelay, type RandomSource } from './backoff.js';
import { type ResolvedTickerOptions, resolveTickerOptions, validateAccessToken } from './options.js';
import { deltaCommands, replayCommands, SubscriptionState } from './subscriptions.js';
import { callProvider } from './token-provider.js';
import type {
  ConnectionStatus,
  KiteTickerEvents,
  KiteTickerOptions,
  StatusEvent,
  TickerConnection,
  TickerStats,
} from './types.js';
import { buildConnectUrl, describeUrl } from './url.js';
import { USER_AGENT } from './version.js';

/** Kite documents no frame cap; 3000 full packets are ~0.5 MB. 64 MiB leaves room without being unbounded. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** How long close() waits for the server's close frame before cutting the TCP connection. */
const CLOSE_GRACE_MS = 1000;

type ClosedEvent = StatusEvent & { status: 'closed' };

/** One socket's life: what happened to it decides the next step when it closes. */
interface Attempt {
  readonly socket: WebSocket;
  opened: boolean;
  openedAt: number;
  /** Status of a refused upgrade. */
  httpStatus: number | undefined;
  /** First error the socket reported. */
  error: (Error & { code?: string }) | undefined;
  /** Set when we cut the socket ourselves. */
  endedBy: 'stale' | 'timeout' | undefined;
  connectTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  resolve: () => void;
  reject: (error: KiteTickerError) => void;
  cleanup: () => void;
}

/** Test seams; not part of the documented options. */
export interface KiteTickerInternals {
  /** Source of backoff jitter. Default Math.random. */
  random?: RandomSource;
}

export class KiteTicker extends EventEmitter<KiteTickerEvents> implements TickerConnection {
  readonly #opts: ResolvedTickerOptions;
  readonly #random: RandomSource;
  readonly #state = new SubscriptionState();
  // Status changes are rare; a reader that never reads keeps only the newest 256.
  readonly #feed = new Broadcaster<StatusEvent>({ capacity: 256, overflow: 'drop-oldest' });
  readonly #view = new FrameView();
  readonly #waiters = new Set<Waiter>();
  readonly #closed: Promise<ClosedEvent>;
  #resolveClosed!: (event: ClosedEvent) => void;
  #closing: Promise<void> | undefined;

  #accessToken: string;
  #status: ConnectionStatus = 'idle';
  #attempt: Attempt | undefined;
  /** Reconnect attempts in the current series (0 while the first connection is being made). */
  #retries = 0;
  #authStatus = 403;
  #everConnected = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #livenessTimer: NodeJS.Timeout | undefined;

  // Access-token provider (token-provider.ts): asked at connect(), after a 403, then every interval.
  /** Waiting for a provider's token: its result (re)starts the connection. */
  #awaitingToken = false;
  #providerTimer: NodeJS.Timeout | undefined;
  /** Provider calls whose promise has not settled (a hung one may never). */
  #providerInFlight = 0;
  /** The token the server refused last: the provider returning it again is not an answer. */
  #refusedToken: string | undefined;
  /** When the provider was last asked straight after a 403 (a token refused at once is not re-asked at once). */
  #lastRefusalAsk = 0;

  // Counters: plain numbers bumped per frame.
  #frames = 0;
  #ticks = 0;
  #bytes = 0;
  #heartbeats = 0;
  #textMessages = 0;
  #protocolErrors = 0;
  #reconnects = 0;
  /** Epoch ms of the last frame of any kind; 0 before the first. */
  #lastFrameAt = 0;

  // Bound once so the hot path and timers create no closures.
  readonly #onProtocolError: ProtocolErrorHandler = (info: ProtocolErrorInfo): void => {
    this.#protocolErrors++;
    if (this.listenerCount('protocolError') > 0) this.emit('protocolError', info);
  };
  readonly #checkLiveness = (): void => this.#livenessTick();

  /**
   * @throws InvalidArgumentError for a bad option (checked here, once).
   */
  constructor(options: KiteTickerOptions, internals: KiteTickerInternals = {}) {
    super();
    this.#opts = resolveTickerOptions(options);
    this.#accessToken = this.#opts.accessToken;
    this.#random = internals.random ?? Math.random;
    this.#closed = new Promise<ClosedEvent>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get apiKey(): string {
    return this.#opts.apiKey;
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.#status === 'connected';
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Opens the socket and resolves once it is open (and the subscriptions are replayed). Network faults,
   * 429/5xx and timeouts are retried per the reconnect policy while this waits. Rejects with
   * AuthFailedError on 401/403 (no retry with the same token), with ERR_RECONNECT_EXHAUSTED when the
   * attempts run out, with ERR_CLOSED on close(), and with ERR_ABORTED when `signal` aborts (if nothing
   * else waits and the ticker never connected, the attempt stops and the status returns to 'idle').
   */
  connect(signal?: AbortSignal): Promise<void> {
    switch (this.#status) {
      case 'closed':
        return Promise.reject(closedError('KiteTicker'));
      case 'connected':
        return Promise.resolve();
      case 'auth_failed':
        return Promise.reject(new AuthFailedError(this.#authStatus, this.#opts.apiKey));
      default:
        break;
    }
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    const promise = new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cleanup: noop };
      if (signal) {
        const onAbort = (): void => this.#abortWaiter(waiter, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.add(waiter);
    });
    if (this.#status === 'idle') {
      this.#retries = 0;
      if (this.#opts.tokenProvider && this.#accessToken === '') {
        // No token yet: the provider's answer starts the first attempt.
        this.#status = 'connecting';
        this.#awaitingToken = true;
        this.#askProvider();
      } else this.#startAttempt();
    }
    return promise;
  }

  /** Stops everything: socket, timers, retries. Idempotent; resolves once the socket is gone. */
  close(): Promise<void> {
    if (!this.#closing) this.#closing = this.#shutdown();
    return this.#closing;
  }

  closed(): Promise<ClosedEvent> {
    return this.#closed;
  }

  /** Status changes from now on; ends after 'closed'. */
  statuses(): AsyncIterable<StatusEvent> {
    return this.#feed.iterate();
  }

  /**
   * Replaces the access token. After an auth failure this reconnects at once (and replays the
   * subscriptions); otherwise the new token is used from the next (re)connect on, and a healthy
   * socket is left alone.
   */
  updateAccessToken(accessToken: string): void {
    this.#accessToken = validateAccessToken(accessToken);
    this.#opts.logger.info({ apiKey: this.#opts.apiKey }, 'kite ticker: access token updated');
    this.#refusedToken = undefined;
    if (this.#awaitingToken && this.#status === 'connecting' && this.#attempt === undefined) {
      this.#awaitingToken = false;
      this.#clearProviderTimer();
      this.#startAttempt();
      return;
    }
    this.#awaitingToken = false;
    this.#clearProviderTimer();
    if (this.#status === 'auth_failed') {
      this.#retries = 0;
      this.#startAttempt();
    }
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Adds tokens in `mode` (default 'quote') to the desired state and sends what the server lacks:
   * `subscribe` for new tokens, then `mode` unless the mode is quote; a `mode` message alone for tokens
   * held in another mode; nothing for tokens already held in this mode.
   * @throws InvalidTokenError, InvalidArgumentError (bad mode), ERR_CLOSED after close().
   */
  subscribe(tokens: readonly number[], mode: Mode = Mode.Quote): void {
    this.#assertUsable();
    assertMode(mode);
    const valid = validateTokens(tokens);
    this.#send(deltaCommands(this.#state.subscribe(valid, mode), this.#opts.maxTokensPerMessage));
  }

  /** Removes tokens from the desired state; sends `unsubscribe` for those that were held. */
  unsubscribe(tokens: readonly number[]): void {
    const valid = validateTokens(tokens);
    const delta = this.#state.unsubscribe(valid);
    if (this.#status !== 'closed') this.#send(deltaCommands(delta, this.#opts.maxTokensPerMessage));
  }

  /** Changes the mode of subscribed tokens (tokens not subscribed are ignored). */
  setMode(mode: Mode, tokens: readonly number[]): void {
    this.#assertUsable();
    assertMode(mode);
    const valid = validateTokens(tokens);
    const delta = this.#state.setMode(mode, valid);
    if (delta.ignored.length > 0) {
      this.#opts.logger.debug(
        { apiKey: this.#opts.apiKey, ignored: delta.ignored.length },
        'kite ticker: setMode ignored tokens that are not subscribed',
      );
    }
    this.#send(deltaCommands(delta, this.#opts.maxTokensPerMessage));
  }

  subscriptions(): ReadonlyMap<number, Mode> {
    return this.#state.snapshot();
  }

  stats(): TickerStats {
    const now = Date.now();
    const attempt = this.#attempt;
    const open = this.#status === 'connected' && attempt !== undefined;
    return {
      status: this.#status,
      connected: open,
      frames: this.#frames,
      ticks: this.#ticks,
      bytes: this.#bytes,
      heartbeats: this.#heartbeats,
      textMessages: this.#textMessages,
      protocolErrors: this.#protocolErrors,
      reconnects: this.#reconnects,
      lastFrameAgeMs: this.#lastFrameAt === 0 ? null : now - this.#lastFrameAt,
      subscribed: this.#state.size,
      uptimeMs: open ? now - attempt.openedAt : 0,
    };
  }

  // ---------------------------------------------------------------- socket

  #startAttempt(): void {
    this.#clearReconnectTimer();
    const opts = this.#opts;
    const attemptNo = this.#retries;
    let socket: WebSocket;
    try {
      socket = new WebSocket(buildConnectUrl(opts.url, opts.apiKey, this.#accessToken), {
        headers: { 'X-Kite-Version': '3', 'User-Agent': USER_AGENT },
        perMessageDeflate: false,
        maxPayload: MAX_PAYLOAD_BYTES,
      });
    } catch (err) {
      // The URL was validated at construction, so this is unexpected; still retry rather than throw.
      this.#status = 'connecting';
      this.#retryOrGiveUp('invalid_url', this.#connectionError('could not create the socket', err));
      return;
    }
    // Buffers straight from ws: no copy; the decoder honours byteOffset.
    socket.binaryType = 'nodebuffer';
    const attempt: Attempt = {
      socket,
      opened: false,
      openedAt: 0,
      httpStatus: undefined,
      error: undefined,
      endedBy: undefined,
      connectTimer: undefined,
    };
    this.#attempt = attempt;
    attempt.connectTimer = setTimeout(() => this.#onConnectTimeout(attempt), opts.connectTimeoutMs);

    socket.on('unexpected-response', (_req, res) => {
      attempt.httpStatus = res.statusCode;
      res.resume();
      // While CONNECTING, terminate() aborts the request and ws then emits 'error' and 'close'.
      socket.terminate();
    });
    socket.on('open', () => this.#onOpen(attempt));
    socket.on('message', (data, isBinary) => {
      if (this.#attempt !== attempt) return;
      // The last line between a server frame and an uncaught exception in ws's callback (which would end
      // the host process): the decoders never throw, but a listener or an unforeseen input still could.
      try {
        this.#onMessage(data as Buffer, isBinary);
      } catch (error) {
        this.#onHandlerError(error, isBinary);
      }
    });
    // Always listened: an 'error' on a socket nobody listens to would crash the host.
    socket.on('error', (err: Error & { code?: string }) => {
      attempt.error ??= err;
    });
    socket.on('close', (code: number) => this.#onSocketClose(attempt, code));

    opts.logger.debug(
      { apiKey: opts.apiKey, url: describeUrl(opts.url), attempt: attemptNo },
      'kite ticker: connecting',
    );
    this.#setStatus({ status: 'connecting', attempt: attemptNo });
  }

  #onConnectTimeout(attempt: Attempt): void {
    attempt.connectTimer = undefined;
    if (this.#attempt !== attempt || attempt.opened) return;
    attempt.endedBy = 'timeout';
    attempt.socket.terminate();
  }

  #onOpen(attempt: Attempt): void {
    if (this.#attempt !== attempt) {
      attempt.socket.terminate();
      return;
    }
    clearTimeout(attempt.connectTimer);
    attempt.connectTimer = undefined;
    attempt.opened = true;
    attempt.openedAt = Date.now();
    if (this.#everConnected) this.#reconnects++;
    this.#everConnected = true;
    const period = Math.max(10, Math.floor(this.#opts.livenessTimeoutMs / 4));
    this.#livenessTimer = setInterval(this.#checkLiveness, period);

    // Replay the desired state before anyone hears 'connected', so the server holds exactly it.
    const commands = replayCommands(this.#state.view(), this.#opts.maxTokensPerMessage);
    for (const command of commands) attempt.socket.send(command);

    this.#opts.logger.info(
      {
        apiKey: this.#opts.apiKey,
        attempt: this.#retries,
        replayed: this.#state.size,
        messages: commands.length,
      },
      'kite ticker: connected',
    );
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.resolve();
    }
    this.#setStatus({ status: 'connected', attempt: this.#retries });
  }

  /** The hot path: one call per frame, no allocation beyond what listeners ask for. */
  #onMessage(data: Buffer, isBinary: boolean): void {
    this.#lastFrameAt = Date.now();
    const length = data.length;
    this.#bytes += length;
    if (!isBinary) {
      this.#textMessages++;
      this.#onText(data.toString('utf8'));
      return;
    }
    if (this.listenerCount('rawFrame') > 0) this.emit('rawFrame', data);
    if (length < 2) {
      this.#heartbeats++;
      return;
    }
    this.#frames++;
    // The view walks the packet headers (validating and counting) without decoding fields.
    const view = this.#view.reset(data, this.#onProtocolError);
    this.#ticks += view.count;
    if (this.listenerCount('frame') > 0) this.emit('frame', view);
    if (view.count > 0 && this.listenerCount('ticks') > 0) this.emit('ticks', view.toTicks());
  }

  #onText(text: string): void {
    const message = parseTextMessage(text, this.#onProtocolError);
    if (message === undefined) return;
    switch (message.type) {
      case 'order':
        this.emit('order', message.data);
        break;
      case 'error': {
        // The server may quote the request (token included): the text is redacted before anyone sees it.
        const text = redact(message.data, [this.#accessToken, this.#opts.accessToken]);
        this.#opts.logger.warn(
          { apiKey: this.#opts.apiKey, message: text },
          'kite ticker: server error message',
        );
        this.emit('serverError', text);
        break;
      }
      case 'message':
        this.emit(
          'serverMessage',
          typeof message.data === 'string'
            ? redact(message.data, [this.#accessToken, this.#opts.accessToken])
            : message.data,
        );
        break;
    }
  }

  /** Reports (never rethrows) an exception thrown while a frame was being handled. */
  #onHandlerError(error: unknown, isBinary: boolean): void {
    let detail = `handling a ${isBinary ? 'binary' : 'text'} frame threw`;
    try {
      const what = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
      // Redacted before it is cut, so that no cut can leave part of a token behind.
      detail = boundText(redact(`${detail} ${what}`, [this.#accessToken, this.#opts.accessToken]), 300);
    } catch {
      // An error whose name or message cannot be read: the bare detail says enough.
    }
    try {
      this.#onProtocolError({ kind: 'handler_error', detail });
    } catch {
      // A protocolError listener that throws too: the count is kept, and the log line below.
    }
    try {
      this.#opts.logger.error(
        { apiKey: this.#opts.apiKey, detail },
        'kite ticker: a frame handler threw; frame skipped',
      );
    } catch {
      // Nothing more can be done from inside the socket callback.
    }
  }

  #livenessTick(): void {
    const attempt = this.#attempt;
    if (attempt === undefined || !attempt.opened || attempt.endedBy !== undefined) return;
    const silentMs = Date.now() - Math.max(this.#lastFrameAt, attempt.openedAt);
    if (silentMs < this.#opts.livenessTimeoutMs) return;
    attempt.endedBy = 'stale';
    this.#stopLiveness();
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, silentMs },
      'kite ticker: no frame in time, reconnecting',
    );
    // The 'close' that follows the terminate schedules the reconnect.
    attempt.socket.terminate();
    this.#setStatus({ status: 'stale', silentMs });
  }

  #onSocketClose(attempt: Attempt, code: number): void {
    clearTimeout(attempt.connectTimer);
    attempt.connectTimer = undefined;
    if (this.#attempt !== attempt) return; // abandoned by close() or an abort
    this.#attempt = undefined;
    this.#stopLiveness();
    if (this.#status === 'closed') return;

    const http = attempt.httpStatus;
    if (http === 401 || http === 403) {
      this.#onAuthFailed(http);
      return;
    }
    let reason: string;
    let error: KiteTickerError;
    if (attempt.endedBy === 'stale') {
      reason = 'stale';
      error = new ConnectionError(
        `no frame for ${this.#opts.livenessTimeoutMs} ms: the connection was stale`,
      );
    } else if (attempt.endedBy === 'timeout') {
      reason = 'connect_timeout';
      error = new ConnectTimeoutError(`connection not established within ${this.#opts.connectTimeoutMs} ms`);
    } else if (http !== undefined) {
      reason = `http_${http}`;
      error = new ConnectionError(`upgrade refused with HTTP ${http}`, { status: http });
    } else if (attempt.opened) {
      reason = `closed_${code}`;
      error = this.#connectionError(`connection closed (code ${code})`, attempt.error);
    } else {
      reason = attempt.error?.code ? `network_${attempt.error.code}` : 'network';
      error = this.#connectionError('connection failed', attempt.error);
    }
    if (attempt.opened && Date.now() - attempt.openedAt >= this.#opts.reconnect.resetAfterMs) {
      this.#retries = 0; // it was stable: start the backoff over
    }
    this.#retryOrGiveUp(reason, error);
  }

  #retryOrGiveUp(reason: string, error: KiteTickerError): void {
    const policy = this.#opts.reconnect;
    const maxAttempts = policy.enabled ? policy.maxAttempts : 0;
    this.#emitError(error);
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, reason, error: error.message },
      'kite ticker: disconnected',
    );
    if (this.#status === 'closed' || this.#closing) return; // an error listener closed us
    if (this.#retries >= maxAttempts) {
      const exhausted = new ReconnectExhaustedError(
        policy.enabled
          ? `gave up after ${this.#retries} reconnect attempts; last failure: ${error.message}`
          : `reconnect is disabled; connection lost: ${error.message}`,
        { cause: error },
      );
      this.#finish({ status: 'closed', reason: 'reconnect_exhausted', error: exhausted });
      return;
    }
    this.#retries++;
    const delayMs = backoffDelay(this.#retries, policy, this.#random);
    // The timer exists before the status is announced, so a listener calling close() clears it.
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#startAttempt();
    }, delayMs);
    this.#setStatus({ status: 'reconnecting', attempt: this.#retries, delayMs, reason });
  }

  #onAuthFailed(httpStatus: number): void {
    this.#authStatus = httpStatus;
    const provider = this.#opts.tokenProvider !== undefined;
    const reason = provider
      ? 'access token refused; waiting for the token provider to return a new token'
      : 'access token refused; waiting for updateAccessToken()';
    const error = new AuthFailedError(
      httpStatus,
      this.#opts.apiKey,
      provider ? 'the access token is invalid or expired; waiting for the token provider' : undefined,
    );
    this.#status = 'auth_failed';
    this.#refusedToken = this.#accessToken;
    this.#rejectWaiters(error);
    this.#opts.logger.error({ apiKey: this.#opts.apiKey, httpStatus }, `kite ticker: ${reason}`);
    this.#emitError(error);
    if (this.#status !== 'auth_failed') return; // a listener already acted (close, new token)
    this.#setStatus({ status: 'auth_failed', httpStatus, reason });
    if (this.#status === 'auth_failed' && !this.#opts.reconnect.enabled) {
      this.#finish({ status: 'closed', reason: 'auth_failed', error });
      return;
    }
    if (provider && this.#status === 'auth_failed') {
      this.#awaitingToken = true;
      // At once after a 403, unless the last token was refused at once too: then at the interval, so a
      // provider cycling through dead tokens cannot drive a loop of upgrades.
      const sinceLast = Date.now() - this.#lastRefusalAsk;
      const wait =
        sinceLast >= this.#opts.tokenRefreshIntervalMs ? 0 : this.#opts.tokenRefreshIntervalMs - sinceLast;
      if (wait === 0) {
        this.#lastRefusalAsk = Date.now();
        this.#askProvider();
      } else this.#scheduleProviderAsk(wait);
    }
  }

  // ---------------------------------------------------------------- token provider

  #askProvider(): void {
    const provider = this.#opts.tokenProvider;
    this.#clearProviderTimer();
    if (!provider || !this.#awaitingToken || this.#status === 'closed') return;
    if (this.#providerInFlight >= MAX_PROVIDER_CALLS_IN_FLIGHT) {
      this.#onProviderFailed(
        new TokenProviderError(
          `the access-token provider has ${this.#providerInFlight} calls still unanswered; not calling it again yet`,
        ),
      );
      return;
    }
    this.#providerInFlight++;
    let settled = false;
    callProvider(provider, this.#opts.tokenProviderTimeoutMs, [this.#accessToken], () => {
      if (!settled) this.#providerInFlight--;
      settled = true;
    }).then((result) => {
      if (this.#status === 'closed' || this.#closing || !this.#awaitingToken) return;
      if (!result.ok) {
        this.#onProviderFailed(result.error);
        return;
      }
      if (result.token === this.#refusedToken) {
        // Still the refused token: ask again later (the user has not logged in yet).
        this.#scheduleProviderAsk(this.#opts.tokenRefreshIntervalMs);
        return;
      }
      this.#awaitingToken = false;
      this.#accessToken = result.token;
      this.#refusedToken = undefined;
      this.#opts.logger.info({ apiKey: this.#opts.apiKey }, 'kite ticker: access token from the provider');
      this.#retries = 0;
      this.#startAttempt();
    }, noop);
  }

  /** A provider call failed: reported, and the key waits (auth_failed) for the next call. */
  #onProviderFailed(error: TokenProviderError): void {
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, error: error.message },
      'kite ticker: token provider failed',
    );
    this.#emitError(error);
    if (this.#status === 'closed' || this.#closing || !this.#awaitingToken) return; // a listener acted
    if (this.#status !== 'auth_failed') {
      // The first token never came: the key waits like one whose token was refused.
      this.#authStatus = 0;
      const reason = `waiting for a token from the token provider (${error.message})`;
      this.#status = 'auth_failed';
      this.#rejectWaiters(
        new AuthFailedError(0, this.#opts.apiKey, `the token provider gave no usable token; waiting for it`),
      );
      if (this.#status !== 'auth_failed') return;
      this.#setStatus({ status: 'auth_failed', httpStatus: 0, reason });
      if (this.#status !== 'auth_failed' || !this.#awaitingToken) return;
    }
    this.#scheduleProviderAsk(this.#opts.tokenRefreshIntervalMs);
  }

  #scheduleProviderAsk(ms: number): void {
    this.#clearProviderTimer();
    this.#providerTimer = setTimeout(() => {
      this.#providerTimer = undefined;
      this.#askProvider();
    }, ms);
  }

  #clearProviderTimer(): void {
    if (this.#providerTimer !== undefined) {
      clearTimeout(this.#providerTimer);
      this.#providerTimer = undefined;
    }
  }

  #abortWaiter(waiter: Waiter, reason: unknown): void {
    if (!this.#waiters.delete(waiter)) return;
    waiter.reject(abortedError(reason));
    const pending =
      this.#status === 'connecting' || this.#status === 'reconnecting' || this.#status === 'stale';
    if (this.#waiters.size > 0 || this.#everConnected || !pending) return;
    // Nobody wants this connection any more and it never came up: stop trying.
    this.#clearReconnectTimer();
    this.#clearProviderTimer();
    this.#awaitingToken = false;
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) {
      clearTimeout(attempt.connectTimer);
      attempt.socket.terminate();
    }
    this.#retries = 0;
    this.#setStatus({ status: 'idle', reason: 'aborted' });
  }

  async #shutdown(): Promise<void> {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (this.#status !== 'closed') this.#finish({ status: 'closed', reason: 'user' });
    if (attempt) {
      clearTimeout(attempt.connectTimer);
      await closeSocket(attempt.socket);
    }
    this.#opts.logger.debug({ apiKey: this.#opts.apiKey }, 'kite ticker: closed');
  }

  /** The terminal transition: nothing runs after this. */
  #finish(event: ClosedEvent): void {
    this.#clearReconnectTimer();
    this.#clearProviderTimer();
    this.#awaitingToken = false;
    this.#stopLiveness();
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) {
      clearTimeout(attempt.connectTimer);
      attempt.socket.terminate();
    }
    this.#status = 'closed';
    this.#rejectWaiters(event.error ?? closedError('KiteTicker'));
    if (event.reason !== 'user') {
      this.#opts.logger.error(
        { apiKey: this.#opts.apiKey, reason: event.reason, error: event.error?.message },
        'kite ticker: closed for good',
      );
    }
    this.#setStatus(event);
    this.#feed.close();
    this.#resolveClosed(event);
  }

  // ---------------------------------------------------------------- helpers

  #setStatus(event: StatusEvent): void {
    this.#status = event.status;
    this.#feed.publish(event);
    this.emit('status', event);
  }

  #send(commands: readonly string[]): void {
    if (commands.length === 0) return;
    const attempt = this.#attempt;
    // Not open: the state already holds the change and the next open replays it.
    if (attempt === undefined || !attempt.opened || attempt.socket.readyState !== WebSocket.OPEN) return;
    for (const command of commands) attempt.socket.send(command);
  }

  #rejectWaiters(error: KiteTickerError): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  #emitError(error: KiteTickerError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** A ConnectionError whose message carries the cause's code and text with every secret removed. */
  #connectionError(what: string, cause: unknown): ConnectionError {
    const err = cause as (Error & { code?: string }) | undefined;
    const detail = err?.message
      ? `: ${redact(err.message, [this.#accessToken, this.#opts.accessToken])}`
      : '';
    const code = err?.code && !detail.includes(err.code) ? ` (${err.code})` : '';
    // The raw error is not attached as `cause`: ws errors can quote the URL, token included.
    return new ConnectionError(`${what}${detail}${code}`);
  }

  #assertUsable(): void {
    if (this.#status === 'closed') throw closedError('KiteTicker');
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== undefined) {
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = undefined;
    }
  }

  #stopLiveness(): void {
    if (this.#livenessTimer !== undefined) {
      clearInterval(this.#livenessTimer);
      this.#livenessTimer = undefined;
    }
  }
}

function assertMode(mode: unknown): asserts mode is Mode {
  if (!isMode(mode)) {
    throw new InvalidArgumentError(`unknown mode ${JSON.stringify(mode)}: expected "ltp", "quote" or "full"`);
  }
}

/** Polite close (close frame), cut after a grace period; resolves once the socket is closed. */
function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    socket.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000, 'client close');
      grace = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    } else {
      socket.terminate();
    }
  });
}

function noop(): void {}

/** Provider calls allowed to hang at once; a provider that never answers is not called without bound. */
const MAX_PROVIDER_CALLS_IN_FLIGHT = 2;
