/**
 * The reconnect series: how many attempts were made since the last stable connection, the timer of the
 * next one, and the verdict when the policy allows no more. The delays themselves are backoff.ts (pure).
 *
 * Separate from ticker.ts because the count and its timer follow the policy alone; the ticker only says
 * when a series starts over and when a socket was lost.
 */
import { type KiteTickerError, ReconnectExhaustedError } from '../errors.js';
import { backoffDelay, type RandomSource } from './backoff.js';
import type { ReconnectPolicy } from './types.js';

export class ReconnectSchedule {
  readonly #policy: ReconnectPolicy;
  readonly #random: RandomSource;
  /** Reconnect attempts in the current series (0 while the first connection is being made). */
  #retries = 0;
  #timer: NodeJS.Timeout | undefined;
  // Bound once: scheduling creates no closure.
  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#attempt();
  };
  readonly #attempt: () => void;

  /** `attempt` opens the next socket when a scheduled delay ends. */
  constructor(policy: ReconnectPolicy, random: RandomSource, attempt: () => void) {
    this.#policy = policy;
    this.#random = random;
    this.#attempt = attempt;
  }

  /** The attempt number in the current series: 0 for a first connection, n for the n-th reconnect. */
  get retries(): number {
    return this.#retries;
  }

  /** Starts the series over (a first connect, a new token, a connection that stayed up). */
  reset(): void {
    this.#retries = 0;
  }

  /**
   * Schedules the next attempt and returns its delay in ms, or returns undefined when the policy allows
   * no more (or reconnect is disabled): then `exhausted()` says why.
   */
  next(): number | undefined {
    const policy = this.#policy;
    const maxAttempts = policy.enabled ? policy.maxAttempts : 0;
    if (this.#retries >= maxAttempts) return undefined;
    this.#retries++;
    const delayMs = backoffDelay(this.#retries, policy, this.#random);
    this.#timer = setTimeout(this.#fire, delayMs);
    return delayMs;
  }

  /** The error that ends the ticker when next() found no attempt left; `last` is the failure that led here. */
  exhausted(last: KiteTickerError): ReconnectExhaustedError {
    return new ReconnectExhaustedError(
      this.#policy.enabled
        ? `gave up after ${this.#retries} reconnect attempts; last failure: ${last.message}`
        : `reconnect is disabled; connection lost: ${last.message}`,
      { cause: last },
    );
  }

  clear(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}
