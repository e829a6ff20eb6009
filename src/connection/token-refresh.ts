/**
 * When the ticker asks its access-token provider, and what it does with the answer: asked at connect()
 * when there is no token yet, at once after a 403 (unless the last token was refused at once too), then
 * every `tokenRefreshIntervalMs` while it fails or returns the refused token; at most two calls hang at once.
 *
 * Separate from ticker.ts because it is a state machine of its own (waiting or not, one timer, calls in
 * flight, the refused token) that only meets the socket's life at two points: a refusal starts it, a new
 * token ends it. One call to the provider (bounded, typed failures) is token-provider.ts.
 */
import { TokenProviderError } from '../errors.js';
import type { ResolvedTickerOptions } from './options.js';
import { type AccessTokenProvider, callProvider } from './token-provider.js';

/** Provider calls allowed to hang at once; a provider that never answers is not called without bound. */
const MAX_PROVIDER_CALLS_IN_FLIGHT = 2;

/** What the refresher needs from its ticker. */
export interface TokenRefreshHost {
  /** The token in use: a provider's error message is cleaned of it. */
  token(): string;
  /** Closed: nobody is asked any more. */
  isClosed(): boolean;
  /** Closed or closing: a late answer is dropped. */
  isStopping(): boolean;
  /** A new token: use it and connect. */
  accept(token: string): void;
  /** A call failed: report it, and call retryLater() while still waiting. */
  fail(error: TokenProviderError): void;
}

export class TokenRefresher {
  readonly #provider: AccessTokenProvider | undefined;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #host: TokenRefreshHost;
  /** Waiting for a provider's token: its result (re)starts the connection. */
  #awaiting = false;
  #timer: NodeJS.Timeout | undefined;
  /** Provider calls whose promise has not settled (a hung one may never). */
  #inFlight = 0;
  /** The token the server refused last: the provider returning it again is not an answer. */
  #refused: string | undefined;
  /** When the provider was last asked straight after a 403 (a token refused at once is not re-asked at once). */
  #lastRefusalAsk = 0;
  // Bound once: the timer callback creates no closure per schedule.
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.ask();
  };

  constructor(
    options: Pick<
      ResolvedTickerOptions,
      'tokenProvider' | 'tokenRefreshIntervalMs' | 'tokenProviderTimeoutMs'
    >,
    host: TokenRefreshHost,
  ) {
    this.#provider = options.tokenProvider;
    this.#intervalMs = options.tokenRefreshIntervalMs;
    this.#timeoutMs = options.tokenProviderTimeoutMs;
    this.#host = host;
  }

  /** True when a provider was given. */
  get enabled(): boolean {
    return this.#provider !== undefined;
  }

  /** True while a provider's token is awaited. */
  get awaiting(): boolean {
    return this.#awaiting;
  }

  /** connect() without a token: wait for the provider's first one. */
  start(): void {
    this.#awaiting = true;
    this.ask();
  }

  /** The server refused `token`: the provider returning it again is not an answer. */
  refused(token: string): void {
    this.#refused = token;
  }

  /**
   * After a refusal: ask at once, unless the last token was refused at once too; then at the interval,
   * so a provider cycling through dead tokens cannot drive a loop of upgrades.
   */
  askAfterRefusal(): void {
    this.#awaiting = true;
    const sinceLast = Date.now() - this.#lastRefusalAsk;
    const wait = sinceLast >= this.#intervalMs ? 0 : this.#intervalMs - sinceLast;
    if (wait === 0) {
      this.#lastRefusalAsk = Date.now();
      this.ask();
    } else this.#schedule(wait);
  }

  /** A failed call while still waiting: ask again at the interval. */
  retryLater(): void {
    this.#schedule(this.#intervalMs);
  }

  /** A token came from elsewhere (updateAccessToken): no longer refused, no longer awaited. */
  settle(): void {
    this.#refused = undefined;
    this.stop();
  }

  /** Nothing more is awaited (abort, close). Calls in flight finish and are ignored. */
  stop(): void {
    this.#awaiting = false;
    this.#clearTimer();
  }

  ask(): void {
    const provider = this.#provider;
    const host = this.#host;
    this.#clearTimer();
    if (!provider || !this.#awaiting || host.isClosed()) return;
    if (this.#inFlight >= MAX_PROVIDER_CALLS_IN_FLIGHT) {
      host.fail(
        new TokenProviderError(
          `the access-token provider has ${this.#inFlight} calls still unanswered; not calling it again yet`,
        ),
      );
      return;
    }
    this.#inFlight++;
    let settled = false;
    callProvider(provider, this.#timeoutMs, [host.token()], () => {
      if (!settled) this.#inFlight--;
      settled = true;
    }).then((result) => {
      if (host.isStopping() || !this.#awaiting) return;
      if (!result.ok) {
        host.fail(result.error);
        return;
      }
      if (result.token === this.#refused) {
        // Still the refused token: ask again later (the user has not logged in yet).
        this.#schedule(this.#intervalMs);
        return;
      }
      this.#awaiting = false;
      this.#refused = undefined;
      host.accept(result.token);
    }, noop);
  }

  #schedule(ms: number): void {
    this.#clearTimer();
    this.#timer = setTimeout(this.#onTimer, ms);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

function noop(): void {}
