/**
 * `KiteTicker`: one Kite ticker WebSocket that reconnects, replays its subscriptions exactly, tells a
 * refused token from a network fault, detects a silent socket, and never ends its host process.
 *
 * This file holds the public class: its API, the desired subscriptions, the counters and the per-frame
 * path (kept here, in private fields, so a frame costs no more than before the split). The socket's life
 * and the status machine are session.ts; its parts sit beside it: socket.ts (opening a socket, naming why
 * it closed), reconnect.ts (the retry series), liveness.ts (the stall watchdog), token-refresh.ts (when the
 * token provider is asked), waiters.ts (the callers of connect()), status-announcer.ts (status delivery).
 */
import { EventEmitter } from 'node:events';
import { AuthFailedError, abortedError, closedError, InvalidArgumentError, redact } from '../errors.js';
import { isMode, Mode } from '../protocol/constants.js';
import { FrameView } from '../protocol/frame-view.js';
import { parseTextMessage, validateTokens } from '../protocol/index.js';
import type { ProtocolErrorHandler, ProtocolErrorInfo } from '../protocol/types.js';
import type { RandomSource } from './backoff.js';
import { type ResolvedTickerOptions, resolveTickerOptions, validateAccessToken } from './options.js';
import { TickerSession } from './session.js';
import { type ClosedEvent, StatusAnnouncer } from './status-announcer.js';
import { deltaCommands, SubscriptionState } from './subscriptions.js';
import type {
  ConnectionStatus,
  KiteTickerEvents,
  KiteTickerOptions,
  StatusEvent,
  TickerConnection,
  TickerStats,
} from './types.js';

/** Test seams; not part of the documented options. */
export interface KiteTickerInternals {
  /** Source of backoff jitter. Default Math.random. */
  random?: RandomSource;
}

export class KiteTicker extends EventEmitter<KiteTickerEvents> implements TickerConnection {
  readonly #opts: ResolvedTickerOptions;
  readonly #state = new SubscriptionState();
  readonly #view = new FrameView();
  readonly #announce = new StatusAnnouncer(this);
  readonly #session: TickerSession;
  #accessToken: string;

  // Counters: plain numbers bumped per frame.
  #frames = 0;
  #ticks = 0;
  #bytes = 0;
  #heartbeats = 0;
  #textMessages = 0;
  #protocolErrors = 0;
  /** Epoch ms of the last frame of any kind; 0 before the first. */
  #lastFrameAt = 0;

  // Bound once so the hot path creates no closures.
  readonly #onProtocolError: ProtocolErrorHandler = (info: ProtocolErrorInfo): void => {
    this.#protocolErrors++;
    if (this.listenerCount('protocolError') > 0) this.emit('protocolError', info);
  };

  /**
   * The hot path: one call per frame, no allocation beyond what listeners ask for. An arrow bound once,
   * handed to the session, whose socket listener calls it as directly as it called a private method.
   */
  readonly #onMessage = (data: Buffer, isBinary: boolean): void => {
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
  };

  /**
   * @throws InvalidArgumentError for a bad option (checked here, once).
   */
  constructor(options: KiteTickerOptions, internals: KiteTickerInternals = {}) {
    super();
    this.#opts = resolveTickerOptions(options);
    this.#accessToken = this.#opts.accessToken;
    this.#session = new TickerSession(this.#opts, {
      announce: this.#announce,
      onMessage: this.#onMessage,
      onProtocolError: this.#onProtocolError,
      lastFrameAt: () => this.#lastFrameAt,
      token: () => this.#accessToken,
      setToken: (token) => {
        this.#accessToken = token;
      },
      state: this.#state,
      random: internals.random ?? Math.random,
    });
  }

  get status(): ConnectionStatus {
    return this.#session.status;
  }

  get apiKey(): string {
    return this.#opts.apiKey;
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.#session.status === 'connected';
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
    const session = this.#session;
    switch (session.status) {
      case 'closed':
        return Promise.reject(closedError('KiteTicker'));
      case 'connected':
        return Promise.resolve();
      case 'auth_failed':
        return Promise.reject(new AuthFailedError(session.authStatus, this.#opts.apiKey));
      default:
        break;
    }
    if (signal?.aborted) return Promise.reject(abortedError(signal.reason));
    const promise = session.wait(signal);
    if (session.status === 'idle') session.start();
    return promise;
  }

  /** Stops everything: socket, timers, retries. Idempotent; resolves once the socket is gone. */
  close(): Promise<void> {
    return this.#session.close();
  }

  closed(): Promise<ClosedEvent> {
    return this.#announce.closed();
  }

  /** Status changes from now on; ends after 'closed'. */
  statuses(): AsyncIterable<StatusEvent> {
    return this.#announce.statuses();
  }

  /**
   * Replaces the access token. After an auth failure this reconnects at once (and replays the
   * subscriptions); otherwise the new token is used from the next (re)connect on, and a healthy
   * socket is left alone.
   */
  updateAccessToken(accessToken: string): void {
    this.#accessToken = validateAccessToken(accessToken);
    this.#session.tokenUpdated();
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
    this.#session.send(deltaCommands(this.#state.subscribe(valid, mode), this.#opts.maxTokensPerMessage));
  }

  /** Removes tokens from the desired state; sends `unsubscribe` for those that were held. */
  unsubscribe(tokens: readonly number[]): void {
    const valid = validateTokens(tokens);
    const delta = this.#state.unsubscribe(valid);
    if (this.#session.status !== 'closed') {
      this.#session.send(deltaCommands(delta, this.#opts.maxTokensPerMessage));
    }
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
    this.#session.send(deltaCommands(delta, this.#opts.maxTokensPerMessage));
  }

  subscriptions(): ReadonlyMap<number, Mode> {
    return this.#state.snapshot();
  }

  stats(): TickerStats {
    const now = Date.now();
    const session = this.#session;
    const openedAt = session.openedAt;
    return {
      status: session.status,
      connected: openedAt !== undefined,
      frames: this.#frames,
      ticks: this.#ticks,
      bytes: this.#bytes,
      heartbeats: this.#heartbeats,
      textMessages: this.#textMessages,
      protocolErrors: this.#protocolErrors,
      reconnects: session.reconnects,
      lastFrameAgeMs: this.#lastFrameAt === 0 ? null : now - this.#lastFrameAt,
      subscribed: this.#state.size,
      uptimeMs: openedAt !== undefined ? now - openedAt : 0,
    };
  }

  // ---------------------------------------------------------------- frames

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

  #assertUsable(): void {
    if (this.#session.status === 'closed') throw closedError('KiteTicker');
  }
}

function assertMode(mode: unknown): asserts mode is Mode {
  if (!isMode(mode)) {
    throw new InvalidArgumentError(`unknown mode ${JSON.stringify(mode)}: expected "ltp", "quote" or "full"`);
  }
}
