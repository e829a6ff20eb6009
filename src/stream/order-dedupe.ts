/**
 * Kite posts each order update to every socket of the user: a key with 3 sockets hears it 3 times, and a
 * user behind N API keys up to 3 x N times. `OrderDeduplicator` remembers recent updates so consumers see
 * each one once, while a genuinely new state of the same order (filled more, modified, cancelled) passes.
 * The single-key manager uses one per key (copies across its sockets), the multi-key manager one more
 * across keys.
 *
 * Memory is bounded twice: an entry is forgotten `windowMs` after it was first seen, and at most
 * `maxEntries` are kept (the oldest goes first). Copies of one update arrive within milliseconds of each
 * other, so both bounds are far above what de-duplication needs.
 */
import { InvalidArgumentError } from '../errors.js';
import type { OrderUpdate } from '../protocol/types.js';

/** Default of `OrderDeduplicatorOptions.windowMs`. */
export const DEFAULT_ORDER_DEDUPE_WINDOW_MS = 60_000;
/** Default of `OrderDeduplicatorOptions.maxEntries`. */
export const DEFAULT_ORDER_DEDUPE_ENTRIES = 10_000;

export interface OrderDeduplicatorOptions {
  /**
   * An identical update seen again within this many milliseconds of its first sighting is a duplicate;
   * after that it is delivered again. 0 turns de-duplication off; Infinity forgets only by `maxEntries`.
   * Default 60 000.
   */
  windowMs?: number;
  /** Most updates remembered; the oldest is forgotten first. Default 10 000. */
  maxEntries?: number;
  /** Clock in epoch milliseconds, for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * The identity of one order *update*: the order id plus every field that changes between its updates,
 * so a modification (new price or quantity with the same status) is not mistaken for a copy. The
 * checksum is left out on purpose: it is derived from each app's secret, so copies of one update that
 * reach different API keys carry different checksums.
 */
export function orderUpdateKey(order: OrderUpdate): string {
  // join() writes null and undefined as '', so an absent field and an explicit null compare equal.
  return [
    order.order_id,
    order.status,
    order.filled_quantity,
    order.pending_quantity,
    order.cancelled_quantity,
    order.quantity,
    order.price,
    order.trigger_price,
    order.average_price,
    order.exchange_update_timestamp,
    order.status_message,
  ].join('|');
}

export class OrderDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  readonly #now: () => number;
  // key -> time first seen. A Map iterates in insertion order and entries are never re-inserted while
  // remembered, so the first entry is always the oldest: expiry and eviction both stop at the front.
  readonly #seen = new Map<string, number>();
  #duplicates = 0;

  /** @throws InvalidArgumentError for a negative or non-numeric window, or maxEntries < 1. */
  constructor(options: OrderDeduplicatorOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULT_ORDER_DEDUPE_WINDOW_MS;
    const maxEntries = options.maxEntries ?? DEFAULT_ORDER_DEDUPE_ENTRIES;
    if (typeof windowMs !== 'number' || Number.isNaN(windowMs) || windowMs < 0) {
      throw new InvalidArgumentError(`order dedupe windowMs must be a number >= 0, got ${String(windowMs)}`);
    }
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError(
        `order dedupe maxEntries must be a whole number >= 1, got ${String(maxEntries)}`,
      );
    }
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** True the first time an update is seen within the window (deliver it); false for a copy (drop it). */
  accept(order: OrderUpdate): boolean {
    if (this.windowMs === 0) return true;
    const now = this.#now();
    this.#expire(now);
    const key = orderUpdateKey(order);
    if (this.#seen.has(key)) {
      // Still there after #expire, so within the window.
      this.#duplicates++;
      return false;
    }
    this.#seen.set(key, now);
    if (this.#seen.size > this.maxEntries) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    return true;
  }

  /** Copies rejected so far. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Updates remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  /** Forgets every remembered update (the duplicate count stays). */
  clear(): void {
    this.#seen.clear();
  }

  #expire(now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at < this.windowMs) break;
      this.#seen.delete(key);
    }
  }
}
