/**
 * The life of a `KiteTicker`'s socket and of its status: opening attempts, the open (with the replay of
 * the subscriptions), every way an attempt ends (refusal, network fault, timeout, stall, server close),
 * reconnecting, waiting for a token, and the terminal `closed`.
 *
 * Separate from ticker.ts so that the public class holds only its API and the per-frame path. The frame
 * handler is the ticker's, handed here once as a bound function that the socket's message listener calls
 * directly (as it called the ticker's private method before): a frame costs no extra call.
 * Every failure path ends in the socket's single 'close' event, and `#onSocketClose` decides what happens
 * next from what the attempt recorded. Sockets we abandon (close(), abort) are detached first, so their
 * late events are ignored. It stays one file of about 400 lines because it is one state machine: split
 * further, the transitions of the one status field would sit in several files.
 */
import { AuthFailedError, closedError, type KiteTickerError, type TokenProviderError } from '../errors.js';
import type { ProtocolErrorHandler } from '../protocol/types.js';
import type { RandomSource } from './backoff.js';
import { LivenessWatchdog } from './liveness.js';
import type { ResolvedTickerOptions } from './options.js';
import { ReconnectSchedule } from './reconnect.js';
import {
  type Attempt,
  closeCause,
  closeSocket,
  connectionError,
  discardAttempt,
  isWritable,
  openAttempt,
  reportHandlerError,
  stopConnectTimer,
} from './socket.js';
import type { ClosedEvent, StatusAnnouncer } from './status-announcer.js';
import { replayCommands, type SubscriptionState } from './subscriptions.js';
import { TokenRefresher } from './token-refresh.js';
import type { ConnectionStatus, StatusEvent } from './types.js';
import { describeUrl } from './url.js';
import { ConnectWaiters } from './waiters.js';

/** What the session needs from its ticker. */
export interface SessionHooks {
  /** Delivers status changes and errors to the ticker's listeners and readers. */
  readonly announce: StatusAnnouncer;
  /** The per-frame handler, called for every frame of the current socket. */
  readonly onMessage: (data: Buffer, isBinary: boolean) => void;
  /** Counts and reports a frame handler that threw. */
  readonly onProtocolError: ProtocolErrorHandler;
  /** Epoch ms of the last frame of any kind; 0 before the first. */
  readonly lastFrameAt: () => number;
  /** The access token in use, and its replacement by a provider's. */
  readonly token: () => string;
  readonly setToken: (token: string) => void;
  /** The desired subscriptions, replayed on every open. */
  readonly state: SubscriptionState;
  readonly random: RandomSource;
}

export class TickerSession {
  readonly #opts: ResolvedTickerOptions;
  readonly #hooks: SessionHooks;
  readonly #onMessage: (data: Buffer, isBinary: boolean) => void;
  readonly #announce: StatusAnnouncer;
  readonly #waiters = new ConnectWaiters(() => this.#onConnectAbandoned());
  #closing: Promise<void> | undefined;

  #status: ConnectionStatus = 'idle';
  #attempt: Attempt | undefined;
  #authStatus = 403;
  #everConnected = false;
  #reconnects = 0;
  readonly #reconnect: ReconnectSchedule;
  readonly #liveness: LivenessWatchdog;
  /** Access-token provider: asked at connect(), after a 403, then every interval. */
  readonly #tokens: TokenRefresher;

  constructor(opts: ResolvedTickerOptions, hooks: SessionHooks) {
    this.#opts = opts;
    this.#hooks = hooks;
    this.#announce = hooks.announce;
    this.#onMessage = hooks.onMessage;
    this.#reconnect = new ReconnectSchedule(opts.reconnect, hooks.random, () => this.#startAttempt());
    this.#liveness = new LivenessWatchdog(opts.livenessTimeoutMs, {
      attempt: () => this.#attempt,
      lastFrameAt: hooks.lastFrameAt,
      stale: (attempt, silentMs) => this.#onStale(attempt, silentMs),
    });
    this.#tokens = new TokenRefresher(opts, {
      token: hooks.token,
      isClosed: () => this.#status === 'closed',
      isStopping: () => this.#status === 'closed' || this.#closing !== undefined,
      accept: (token) => this.#onProviderToken(token),
      fail: (error) => this.#onProviderFailed(error),
    });
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  /** The HTTP status of the last refused upgrade (0: a provider has given no token yet). */
  get authStatus(): number {
    return this.#authStatus;
  }

  /** Reconnections that opened (the first open is not one). */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** When the open socket opened; undefined unless connected. */
  get openedAt(): number | undefined {
    const attempt = this.#attempt;
    return this.#status === 'connected' && attempt !== undefined ? attempt.openedAt : undefined;
  }

  // ---------------------------------------------------------------- lifecycle

  /** A promise for one more connect() caller (see KiteTicker.connect). */
  wait(signal: AbortSignal | undefined): Promise<void> {
    return this.#waiters.add(signal);
  }

  /** The first connect() from 'idle': opens the first socket, or asks the provider for a token first. */
  start(): void {
    this.#reconnect.reset();
    if (this.#tokens.enabled && this.#hooks.token() === '') {
      // No token yet: the provider's answer starts the first attempt.
      this.#status = 'connecting';
      this.#tokens.start();
    } else this.#startAttempt();
  }

  /** Stops everything: socket, timers, retries. Idempotent; resolves once the socket is gone. */
  close(): Promise<void> {
    if (!this.#closing) this.#closing = this.#shutdown();
    return this.#closing;
  }

  /** The ticker holds a new token from updateAccessToken(): see there. */
  tokenUpdated(): void {
    this.#opts.logger.info({ apiKey: this.#opts.apiKey }, 'kite ticker: access token updated');
    const firstToken = this.#tokens.awaiting && this.#status === 'connecting' && this.#attempt === undefined;
    this.#tokens.settle();
    if (firstToken) {
      this.#startAttempt();
      return;
    }
    if (this.#status === 'auth_failed') {
      this.#reconnect.reset();
      this.#startAttempt();
    }
  }

  /** Writes commands to the open socket; while none is open the desired state holds them for the replay. */
  send(commands: readonly string[]): void {
    if (commands.length === 0) return;
    const attempt = this.#attempt;
    // Not open: the state already holds the change and the next open replays it.
    if (!isWritable(attempt)) return;
    for (const command of commands) attempt.socket.send(command);
  }

  // ---------------------------------------------------------------- socket

  #startAttempt(): void {
    this.#reconnect.clear();
    const opts = this.#opts;
    const attemptNo = this.#reconnect.retries;
    let attempt: Attempt;
    try {
      attempt = openAttempt(opts.url, opts.apiKey, this.#hooks.token());
    } catch (err) {
      // The URL was validated at construction, so this is unexpected; still retry rather than throw.
      this.#status = 'connecting';
      this.#retryOrGiveUp(
        'invalid_url',
        connectionError('could not create the socket', err, this.#secrets()),
      );
      return;
    }
    const socket = attempt.socket;
    this.#attempt = attempt;
    attempt.connectTimer = setTimeout(() => this.#onConnectTimeout(attempt), opts.connectTimeoutMs);

    socket.on('open', () => this.#onOpen(attempt));
    socket.on('message', (data, isBinary) => {
      if (this.#attempt !== attempt) return;
      // The last line between a server frame and an uncaught exception in ws's callback (which would end
      // the host process): the decoders never throw, but a listener or an unforeseen input still could.
      try {
        this.#onMessage(data as Buffer, isBinary);
      } catch (error) {
        reportHandlerError(error, isBinary, this.#secrets(), this.#hooks.onProtocolError, this.#opts);
      }
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
    stopConnectTimer(attempt);
    attempt.opened = true;
    attempt.openedAt = Date.now();
    if (this.#everConnected) this.#reconnects++;
    this.#everConnected = true;
    this.#liveness.start();

    // Replay the desired state before anyone hears 'connected', so the server holds exactly it.
    const state = this.#hooks.state;
    const commands = replayCommands(state.view(), this.#opts.maxTokensPerMessage);
    for (const command of commands) attempt.socket.send(command);

    this.#opts.logger.info(
      {
        apiKey: this.#opts.apiKey,
        attempt: this.#reconnect.retries,
        replayed: state.size,
        messages: commands.length,
      },
      'kite ticker: connected',
    );
    this.#waiters.resolveAll();
    this.#setStatus({ status: 'connected', attempt: this.#reconnect.retries });
  }

  /** The watchdog found `attempt` silent (and marked it stale). */
  #onStale(attempt: Attempt, silentMs: number): void {
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, silentMs },
      'kite ticker: no frame in time, reconnecting',
    );
    // The 'close' that follows the terminate schedules the reconnect.
    attempt.socket.terminate();
    this.#setStatus({ status: 'stale', silentMs });
  }

  #onSocketClose(attempt: Attempt, code: number): void {
    stopConnectTimer(attempt);
    if (this.#attempt !== attempt) return; // abandoned by close() or an abort
    this.#attempt = undefined;
    this.#liveness.stop();
    if (this.#status === 'closed') return;

    const http = attempt.httpStatus;
    if (http === 401 || http === 403) {
      this.#onAuthFailed(http);
      return;
    }
    const cause = closeCause(attempt, code, this.#opts, this.#secrets());
    if (attempt.opened && Date.now() - attempt.openedAt >= this.#opts.reconnect.resetAfterMs) {
      this.#reconnect.reset(); // it was stable: start the backoff over
    }
    this.#retryOrGiveUp(cause.reason, cause.error);
  }

  #retryOrGiveUp(reason: string, error: KiteTickerError): void {
    this.#emitError(error);
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, reason, error: error.message },
      'kite ticker: disconnected',
    );
    if (this.#status === 'closed' || this.#closing) return; // an error listener closed us
    // The timer exists before the status is announced, so a listener calling close() clears it.
    const delayMs = this.#reconnect.next();
    if (delayMs === undefined) {
      const exhausted = this.#reconnect.exhausted(error);
      this.#finish({ status: 'closed', reason: 'reconnect_exhausted', error: exhausted });
      return;
    }
    this.#setStatus({ status: 'reconnecting', attempt: this.#reconnect.retries, delayMs, reason });
  }

  #onAuthFailed(httpStatus: number): void {
    this.#authStatus = httpStatus;
    const provider = this.#tokens.enabled;
    const reason = provider
      ? 'access token refused; waiting for the token provider to return a new token'
      : 'access token refused; waiting for updateAccessToken()';
    const error = new AuthFailedError(
      httpStatus,
      this.#opts.apiKey,
      provider ? 'the access token is invalid or expired; waiting for the token provider' : undefined,
    );
    this.#status = 'auth_failed';
    this.#tokens.refused(this.#hooks.token());
    this.#waiters.rejectAll(error);
    this.#opts.logger.error({ apiKey: this.#opts.apiKey, httpStatus }, `kite ticker: ${reason}`);
    this.#emitError(error);
    if (this.#status !== 'auth_failed') return; // a listener already acted (close, new token)
    this.#setStatus({ status: 'auth_failed', httpStatus, reason });
    if (this.#status === 'auth_failed' && !this.#opts.reconnect.enabled) {
      this.#finish({ status: 'closed', reason: 'auth_failed', error });
      return;
    }
    if (provider && this.#status === 'auth_failed') this.#tokens.askAfterRefusal();
  }

  // ---------------------------------------------------------------- token provider

  /** The provider gave a new token: use it and connect. */
  #onProviderToken(token: string): void {
    this.#hooks.setToken(token);
    this.#opts.logger.info({ apiKey: this.#opts.apiKey }, 'kite ticker: access token from the provider');
    this.#reconnect.reset();
    this.#startAttempt();
  }

  /** A provider call failed: reported, and the key waits (auth_failed) for the next call. */
  #onProviderFailed(error: TokenProviderError): void {
    this.#opts.logger.warn(
      { apiKey: this.#opts.apiKey, error: error.message },
      'kite ticker: token provider failed',
    );
    this.#emitError(error);
    if (this.#status === 'closed' || this.#closing || !this.#tokens.awaiting) return; // a listener acted
    if (this.#status !== 'auth_failed') {
      // The first token never came: the key waits like one whose token was refused.
      this.#authStatus = 0;
      const reason = `waiting for a token from the token provider (${error.message})`;
      this.#status = 'auth_failed';
      this.#waiters.rejectAll(
        new AuthFailedError(0, this.#opts.apiKey, `the token provider gave no usable token; waiting for it`),
      );
      if (this.#status !== 'auth_failed') return;
      this.#setStatus({ status: 'auth_failed', httpStatus: 0, reason });
      if (this.#status !== 'auth_failed' || !this.#tokens.awaiting) return;
    }
    this.#tokens.retryLater();
  }

  // ---------------------------------------------------------------- ending

  /** An abort left no connect() waiting: a connection that never came up stops trying. */
  #onConnectAbandoned(): void {
    const pending =
      this.#status === 'connecting' || this.#status === 'reconnecting' || this.#status === 'stale';
    if (this.#everConnected || !pending) return;
    this.#reconnect.clear();
    this.#tokens.stop();
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) discardAttempt(attempt);
    this.#reconnect.reset();
    this.#setStatus({ status: 'idle', reason: 'aborted' });
  }

  async #shutdown(): Promise<void> {
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (this.#status !== 'closed') this.#finish({ status: 'closed', reason: 'user' });
    if (attempt) {
      stopConnectTimer(attempt);
      await closeSocket(attempt.socket);
    }
    this.#opts.logger.debug({ apiKey: this.#opts.apiKey }, 'kite ticker: closed');
  }

  /** The terminal transition: nothing runs after this. */
  #finish(event: ClosedEvent): void {
    this.#reconnect.clear();
    this.#tokens.stop();
    this.#liveness.stop();
    const attempt = this.#attempt;
    this.#attempt = undefined;
    if (attempt) discardAttempt(attempt);
    this.#status = 'closed';
    this.#waiters.rejectAll(event.error ?? closedError('KiteTicker'));
    if (event.reason !== 'user') {
      this.#opts.logger.error(
        { apiKey: this.#opts.apiKey, reason: event.reason, error: event.error?.message },
        'kite ticker: closed for good',
      );
    }
    this.#setStatus(event);
    this.#announce.end(event);
  }

  // ---------------------------------------------------------------- helpers

  #setStatus(event: StatusEvent): void {
    this.#status = event.status;
    this.#announce.publish(event);
  }

  #emitError(error: KiteTickerError): void {
    this.#announce.error(error);
  }

  /** The tokens that must never appear in a message: the one in use and the one first given. */
  #secrets(): string[] {
    return [this.#hooks.token(), this.#opts.accessToken];
  }
}
