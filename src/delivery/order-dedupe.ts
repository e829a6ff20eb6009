/**
 * Kite posts each order update to every socket of the user: a key with 3 sockets hears it 3 times, and a
 * user behind N API keys up to 3 x N times. `OrderDeduplicator` remembers recent updates so consumers see
 * each one once, while a genuinely new state of the same order (filled more, modified, cancelled) passes.
 * The single-key manager uses one per key (copies across its sockets), the multi-key manager one more
 * across keys.
 *
 * Memory is bounded in bytes, not only in count: each remembered update is a fixed-size digest (a
 * SHA-256 of its identifying fields, never the fields themselves, which a server may make megabytes
 * long) and a timestamp, about 150 bytes. An entry is forgotten `windowMs` after it was first seen (by
 * an unref'd timer as well as on the next insert, so a quiet table empties itself), and at most
 * `maxEntries` are kept (the oldest goes first). Copies of one update arrive within milliseconds of each
 * other, so both bounds are far above what de-duplication needs.
 *
 * Nothing here throws on what a server sends: any field may hold any JSON value (objects with a
 * `toString` key, arrays, huge strings, nesting), and an update that cannot be keyed at all is delivered.
 */
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../errors.js';
import type { OrderUpdate } from '../protocol/types.js';

/** Default of `OrderDeduplicatorOptions.windowMs`. */
export const DEFAULT_ORDER_DEDUPE_WINDOW_MS = 60_000;
/** Default of `OrderDeduplicatorOptions.maxEntries`. */
export const DEFAULT_ORDER_DEDUPE_ENTRIES = 10_000;
/** Largest `maxEntries` accepted: about 150 MB of digests. */
export const MAX_ORDER_DEDUPE_ENTRIES = 1_000_000;
/** Longest timer Node can arm (2^31-1 ms); a longer window is re-armed when it fires. */
const MAX_TIMER_MS = 2_147_483_647;

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

/** The fields that tell one update of an order from another (see `orderUpdateKey`). */
const KEY_FIELDS = [
  'order_id',
  'status',
  'filled_quantity',
  'pending_quantity',
  'cancelled_quantity',
  'quantity',
  'price',
  'trigger_price',
  'average_price',
  'exchange_update_timestamp',
  'status_message',
] as const;

/**
 * Deepest level of a field's value written into the key. Kite's key fields are strings and numbers;
 * only a hostile server nests them, and parts deeper than this are summarised by their size.
 */
const MAX_KEY_DEPTH = 8;

/**
 * The identity of one order *update*: a SHA-256 digest (43 characters, base64url) of the order id plus
 * every field that changes between its updates, so a modification (new price or quantity with the same
 * status) is not mistaken for a copy. The checksum is left out on purpose: it is derived from each app's
 * secret, so copies of one update that reach different API keys carry different checksums. An absent
 * field and an explicit null compare equal. Throws only for values JSON cannot produce (a getter that
 * throws); `OrderDeduplicator.accept` copes with that.
 */
export function orderUpdateKey(order: OrderUpdate): string {
  let canonical = '';
  for (const field of KEY_FIELDS)
    canonical = writeValue(canonical, (order as Record<string, unknown>)[field], 0);
  return createHash('sha256').update(canonical).digest('base64url');
}

/**
 * Appends an unambiguous encoding of `value` (a type tag, and a length before every string) so that no
 * two different field lists give the same text. Recursion is bounded by MAX_KEY_DEPTH.
 */
function writeValue(out: string, value: unknown, depth: number): string {
  switch (typeof value) {
    case 'string':
      return `${out}s${value.length}:${value}`;
    case 'number':
      return `${out}n${String(value)};`;
    case 'bigint':
      return `${out}b${String(value)};`;
    case 'boolean':
      return `${out}${value ? 'T' : 'F'}`;
    case 'undefined':
      return `${out}z`;
    case 'object': {
      if (value === null) return `${out}z`;
      if (Array.isArray(value)) {
        let text = `${out}a${value.length}[`;
        if (depth >= MAX_KEY_DEPTH) return `${text}]`;
        for (let i = 0; i < value.length; i++) text = writeValue(text, value[i], depth + 1);
        return `${text}]`;
      }
      const keys = Object.keys(value);
      let text = `${out}o${keys.length}{`;
      if (depth >= MAX_KEY_DEPTH) return `${text}}`;
      for (const key of keys) {
        text = writeValue(text, key, depth + 1);
        text = writeValue(text, (value as Record<string, unknown>)[key], depth + 1);
      }
      return `${text}}`;
    }
    default:
      // Functions and symbols: not from JSON; their kind is enough.
      return `${out}x${typeof value};`;
  }
}

export class OrderDeduplicator {
  readonly windowMs: number;
  readonly maxEntries: number;
  readonly #now: () => number;
  // digest -> time first seen. A Map iterates in insertion order and entries are never re-inserted while
  // remembered, so the first entry is always the oldest: expiry and eviction both stop at the front.
  readonly #seen = new Map<string, number>();
  #duplicates = 0;
  #unkeyable = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #onTimer = (): void => {
    this.#timer = undefined;
    const now = this.#now();
    this.#expire(now);
    this.#arm(now);
  };

  /**
   * @throws InvalidArgumentError for a negative or non-numeric window, or maxEntries not a whole number
   *   from 1 to MAX_ORDER_DEDUPE_ENTRIES.
   */
  constructor(options: OrderDeduplicatorOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULT_ORDER_DEDUPE_WINDOW_MS;
    const maxEntries = options.maxEntries ?? DEFAULT_ORDER_DEDUPE_ENTRIES;
    if (typeof windowMs !== 'number' || Number.isNaN(windowMs) || windowMs < 0) {
      throw new InvalidArgumentError(`order dedupe windowMs must be a number >= 0, got ${String(windowMs)}`);
    }
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1 || maxEntries > MAX_ORDER_DEDUPE_ENTRIES) {
      throw new InvalidArgumentError(
        `order dedupe maxEntries must be a whole number from 1 to ${MAX_ORDER_DEDUPE_ENTRIES}, got ${String(maxEntries)}`,
      );
    }
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /**
   * True the first time an update is seen within the window (deliver it); false for a copy (drop it).
   * Never throws: an update that cannot be keyed is delivered (and counted in `unkeyable`).
   */
  accept(order: OrderUpdate): boolean {
    if (this.windowMs === 0) return true;
    let key: string;
    let now: number;
    try {
      key = orderUpdateKey(order);
      now = this.#now();
    } catch {
      this.#unkeyable++;
      return true;
    }
    this.#expire(now);
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
    this.#arm(now);
    return true;
  }

  /** Copies rejected so far. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Updates delivered without de-duplication because they could not be keyed (not from JSON). */
  get unkeyable(): number {
    return this.#unkeyable;
  }

  /** Updates remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  /** Forgets every remembered update and stops the expiry timer (the duplicate count stays). */
  clear(): void {
    this.#seen.clear();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #expire(now: number): void {
    for (const [key, at] of this.#seen) {
      if (now - at < this.windowMs) break;
      this.#seen.delete(key);
    }
  }

  /** Schedules the expiry of the oldest entry, unless a timer is pending or nothing can expire. */
  #arm(now: number): void {
    if (this.#timer !== undefined || this.#seen.size === 0 || !Number.isFinite(this.windowMs)) return;
    const first = this.#seen.values().next();
    if (first.done) return;
    const due = first.value + this.windowMs - now;
    // At least 1 ms (a clock that went back must not spin); at most what a timer can hold.
    this.#timer = setTimeout(this.#onTimer, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(due))));
    // Forgetting old updates must never keep the host process alive.
    this.#timer.unref();
  }
}
