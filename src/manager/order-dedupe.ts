/**
 * Kite posts each order update to every socket of the user, so a key with 3 connections hears it 3
 * times. This remembers recent updates by (order_id, status, filled_quantity, exchange_update_timestamp)
 * in a small LRU so each reaches consumers once, while a genuinely new state of the same order passes.
 */
import type { OrderUpdate } from '../protocol/types.js';

/** Default number of remembered updates. */
export const DEFAULT_ORDER_DEDUPE_SIZE = 1024;

export function orderUpdateKey(order: OrderUpdate): string {
  return `${String(order.order_id)}\u0000${String(order.status)}\u0000${String(order.filled_quantity)}\u0000${String(
    order.exchange_update_timestamp,
  )}`;
}

export class OrderDeduplicator {
  // A Map iterates in insertion order: the first key is the least recently seen.
  readonly #seen = new Map<string, true>();
  readonly #capacity: number;

  constructor(capacity = DEFAULT_ORDER_DEDUPE_SIZE) {
    this.#capacity = Math.max(1, Math.floor(capacity));
  }

  /** True the first time an update is seen (deliver it), false for a repeat (drop it). */
  accept(order: OrderUpdate): boolean {
    const key = orderUpdateKey(order);
    if (this.#seen.has(key)) {
      // Refresh recency so a burst of repeats keeps the entry.
      this.#seen.delete(key);
      this.#seen.set(key, true);
      return false;
    }
    this.#seen.set(key, true);
    if (this.#seen.size > this.#capacity) {
      const oldest = this.#seen.keys().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }

  get size(): number {
    return this.#seen.size;
  }

  clear(): void {
    this.#seen.clear();
  }
}
