/**
 * The newest tick of each instrument, readable at any time. Updating stores the tick object's
 * reference in a Map keyed by token: no copy and no allocation per tick (the decoder makes a fresh
 * object per tick, so holding the reference is safe).
 */
import type { Tick } from '../protocol/types.js';

export interface LatestQuoteTableOptions {
  /**
   * Keep only tokens registered with `track()`; ticks of other tokens are ignored. The manager turns
   * this on so a tick still in flight after an unsubscribe does not bring the instrument back.
   * Default false (every tick is kept).
   */
  trackedOnly?: boolean;
}

export class LatestQuoteTable {
  readonly #quotes = new Map<number, Tick>();
  readonly #tracked = new Set<number>();
  readonly #trackedOnly: boolean;

  constructor(options?: LatestQuoteTableOptions) {
    this.#trackedOnly = options?.trackedOnly ?? false;
  }

  /** Records a batch (hot path: one Map write per tick). */
  update(ticks: readonly Tick[]): void {
    const quotes = this.#quotes;
    if (this.#trackedOnly) {
      const tracked = this.#tracked;
      for (let i = 0; i < ticks.length; i++) {
        const tick = ticks[i]!;
        if (tracked.has(tick.instrument_token)) quotes.set(tick.instrument_token, tick);
      }
    } else {
      for (let i = 0; i < ticks.length; i++) {
        const tick = ticks[i]!;
        quotes.set(tick.instrument_token, tick);
      }
    }
  }

  /** Records one tick. */
  set(tick: Tick): void {
    if (this.#trackedOnly && !this.#tracked.has(tick.instrument_token)) return;
    this.#quotes.set(tick.instrument_token, tick);
  }

  /** Starts accepting ticks of these tokens (only matters with `trackedOnly`). */
  track(tokens: Iterable<number>): void {
    for (const token of tokens) this.#tracked.add(token);
  }

  /** Forgets these tokens: their quotes are removed and later ticks ignored (with `trackedOnly`). */
  untrack(tokens: Iterable<number>): void {
    for (const token of tokens) {
      this.#tracked.delete(token);
      this.#quotes.delete(token);
    }
  }

  /** The newest tick of `token`, or undefined when none arrived (or it was unsubscribed). */
  get(token: number): Tick | undefined {
    return this.#quotes.get(token);
  }

  has(token: number): boolean {
    return this.#quotes.has(token);
  }

  /** Instruments with a quote. */
  get size(): number {
    return this.#quotes.size;
  }

  /** Live iteration over (token, tick); do not hold it across awaits if the table is being updated. */
  entries(): IterableIterator<[number, Tick]> {
    return this.#quotes.entries();
  }

  [Symbol.iterator](): IterableIterator<[number, Tick]> {
    return this.#quotes.entries();
  }

  /** A copy, safe to keep: token -> newest tick at the time of the call. */
  snapshot(): Map<number, Tick> {
    return new Map(this.#quotes);
  }

  /** Removes every quote and tracked token. */
  clear(): void {
    this.#quotes.clear();
    this.#tracked.clear();
  }
}
