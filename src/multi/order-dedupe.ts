/**
 * Kite sends an order postback on every socket of the user, and a user may sit behind several API keys,
 * so one status change can arrive up to 3 x N times. This remembers recent updates (bounded, time-windowed)
 * so consumers see each one once.
 */
import type { OrderUpdate } from '../protocol/types.js';

export interface OrderDeduperOptions {
  /** An identical update seen again within this window is a duplicate. Default 60 000 ms. */
  windowMs?: number;
  /** Most updates remembered; the oldest is forgotten first. Default 10 000. */
  maxEntries?: number;
  /** Clock, for tests. Default Date.now. */
  now?: () => number;
}

/**
 * The identity of one order *update*: the order plus what changes between its updates. The checksum is
 * left out on purpose: it is derived from each app's secret, so the same update differs across keys.
 */
export function orderUpdateKey(order: OrderUpdate): string {
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
    order.exchange_update_timestamp ?? '',
    order.status_message ?? '',
  ].join('|');
}

export class OrderDeduper {
  readonly #windowMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  /** key -> time first seen; Map keeps insertion order, so the first entry is the oldest. */
  readonly #seen = new Map<string, number>();
  #duplicates = 0;

  constructor(options: OrderDeduperOptions = {}) {
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** Duplicates rejected so far. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** True the first time an update is seen within the window; false for a repeat. */
  accept(order: OrderUpdate): boolean {
    const now = this.#now();
    this.#expire(now);
    const key = orderUpdateKey(order);
    const seenAt = this.#seen.get(key);
    if (seenAt !== undefined && now - seenAt < this.#windowMs) {
      this.#duplicates++;
      return false;
    }
    this.#seen.delete(key);
    this.#seen.set(key, now);
    if (this.#seen.size > this.#maxEntries) {
      const oldest = this.#seen.keys().next();
      if (!oldest.done) this.#seen.delete(oldest.value);
    }
    return true;
  }

  #expire(now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at < this.#windowMs) break;
      this.#seen.delete(key);
    }
  }
}
