/**
 * The newest tick of each instrument, readable at any time.
 *
 * Why values and not references: keeping each tick object alive until the next tick of its instrument
 * (about a second at Kite's pace) makes every tick survive the young generation, so at 27,000 full
 * instruments the old generation churns (issue 19 measured 17.7 % CPU and 335 MB with the table vs 2.6 %
 * and 117 MB without). The table therefore copies each tick's numbers into preallocated per-instrument
 * rows of a Float64Array (a Map gives token -> slot) and builds a fresh tick object only when one is read.
 * Ticks then die young, and the storage is one typed array of STRIDE doubles per instrument (~0.4 KB).
 *
 * The ticks built on read have the decoder's shape (src/protocol/packet.ts): same fields, same order,
 * Dates as Dates. A tick whose shape is none of the decoder's five (hand-made, other depth sizes) is kept
 * by reference instead; extra properties on a decoder-shaped tick are not kept.
 */
import { EXCHANGE_BY_SEGMENT, type ExchangeName } from '../protocol/constants.js';
import type { DepthLevel, FullTick, IndexTick, LtpTick, QuoteTick, Tick } from '../protocol/types.js';

export interface LatestQuoteTableOptions {
  /**
   * Keep only tokens registered with `track()`; ticks of other tokens are ignored. The manager turns
   * this on so a tick still in flight after an unsubscribe does not bring the instrument back.
   * Default false (every tick is kept).
   */
  trackedOnly?: boolean;
}

/** What a slot holds; EMPTY only for free slots. */
const EMPTY = 0;
const LTP = 1;
const INDEX_QUOTE = 2;
const INDEX_FULL = 3;
const QUOTE = 4;
const FULL = 5;
/** A tick of no known shape, kept by reference. */
const OTHER = 6;

/**
 * Offsets inside a slot's row. Everything a tick writes lives in its row (kind and tradable included),
 * so recording a tick touches one Map entry and one contiguous run of memory: at 27,000 instruments the
 * rows do not stay in the CPU caches, and every separate per-slot array would cost another miss.
 */
const KIND = 0;
const TRADABLE = 1;
const LAST = 2;
const LTQ = 3;
const ATP = 4;
const VOLUME = 5;
const BUY_QTY = 6;
const SELL_QTY = 7;
const OPEN = 8;
const HIGH = 9;
const LOW = 10;
const CLOSE = 11;
const CHANGE = 12;
const NET_CHANGE = 13;
/** Epoch milliseconds; NaN stands for null. */
const LTT = 14;
const ETS = 15;
const OI = 16;
const OI_HIGH = 17;
const OI_LOW = 18;
/** Five bid levels then five offer levels, (quantity, price, orders) each. */
const DEPTH = 19;
const LEVELS = 5;
const STRIDE = DEPTH + 2 * LEVELS * 3; // 49 doubles, 392 bytes

const INITIAL_SLOTS = 64;

export class LatestQuoteTable {
  /**
   * token -> slot, for tokens with a quote and (with trackedOnly) tracked tokens still waiting for their
   * first tick (kind EMPTY): one hash lookup per tick answers both "tracked?" and "where?".
   */
  readonly #slots = new Map<number, number>();
  readonly #trackedOnly: boolean;
  /** Slots holding a quote (kind not EMPTY). */
  #count = 0;
  #capacity = INITIAL_SLOTS;
  #values = new Float64Array(INITIAL_SLOTS * STRIDE);
  /**
   * The exchange is the one the token's segment gives (as the decoder sets it); a tick saying otherwise
   * (hand-made) has its name kept here, by slot.
   */
  readonly #exchange = new Map<number, ExchangeName>();
  /** Ticks of unknown shape (kind OTHER), by slot. */
  readonly #other = new Map<number, Tick>();
  /** Slots freed by untrack(), reused before the storage grows. */
  #free: number[] = [];
  /** Slots ever handed out (the high-water mark). */
  #used = 0;

  constructor(options?: LatestQuoteTableOptions) {
    this.#trackedOnly = options?.trackedOnly ?? false;
  }

  /** Records a batch (hot path: one Map lookup and one row write per tick, no allocation). */
  update(ticks: readonly Tick[]): void {
    for (let i = 0; i < ticks.length; i++) this.set(ticks[i]!);
  }

  /** Records one tick. */
  set(tick: Tick): void {
    const token = tick.instrument_token;
    let slot = this.#slots.get(token);
    if (slot === undefined) {
      if (this.#trackedOnly) return;
      slot = this.#newSlot(token);
    }
    if (this.#values[slot * STRIDE + KIND] === EMPTY) this.#count++;
    this.#store(tick, slot);
  }

  /** Starts accepting ticks of these tokens (only matters with `trackedOnly`). */
  track(tokens: Iterable<number>): void {
    if (!this.#trackedOnly) return;
    for (const token of tokens) if (!this.#slots.has(token)) this.#newSlot(token);
  }

  /** Forgets these tokens: their quotes are removed and later ticks ignored (with `trackedOnly`). */
  untrack(tokens: Iterable<number>): void {
    for (const token of tokens) {
      const slot = this.#slots.get(token);
      if (slot === undefined) continue;
      this.#slots.delete(token);
      const v = this.#values;
      if (v[slot * STRIDE + KIND] !== EMPTY) this.#count--;
      v[slot * STRIDE + KIND] = EMPTY;
      this.#other.delete(slot);
      this.#exchange.delete(slot);
      this.#free.push(slot);
    }
  }

  /** The newest tick of `token` (a fresh object on every call), or undefined when none arrived. */
  get(token: number): Tick | undefined {
    const slot = this.#slots.get(token);
    return slot === undefined || this.#isEmpty(slot) ? undefined : this.#build(token, slot);
  }

  has(token: number): boolean {
    const slot = this.#slots.get(token);
    return slot !== undefined && !this.#isEmpty(slot);
  }

  /** Instruments with a quote. */
  get size(): number {
    return this.#count;
  }

  /**
   * Iteration over (token, tick), each tick built as it is reached (O(instruments) for the whole
   * table). Live: ticks recorded during the iteration show up in the ticks not yet reached.
   */
  *entries(): IterableIterator<[number, Tick]> {
    for (const [token, slot] of this.#slots) {
      if (!this.#isEmpty(slot)) yield [token, this.#build(token, slot)];
    }
  }

  [Symbol.iterator](): IterableIterator<[number, Tick]> {
    return this.entries();
  }

  /** A copy, safe to keep: token -> newest tick at the time of the call. */
  snapshot(): Map<number, Tick> {
    const out = new Map<number, Tick>();
    for (const [token, slot] of this.#slots) {
      if (!this.#isEmpty(slot)) out.set(token, this.#build(token, slot));
    }
    return out;
  }

  /** Removes every quote and tracked token, and gives the storage back. */
  clear(): void {
    this.#slots.clear();
    this.#count = 0;
    this.#capacity = INITIAL_SLOTS;
    this.#values = new Float64Array(INITIAL_SLOTS * STRIDE);
    this.#exchange.clear();
    this.#other.clear();
    this.#free = [];
    this.#used = 0;
  }

  /** A free slot (kind EMPTY) for `token`, growing the storage when none is left. */
  #newSlot(token: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      if (this.#used === this.#capacity) this.#grow();
      slot = this.#used++;
    }
    this.#slots.set(token, slot);
    return slot;
  }

  /** Doubles the storage: amortised O(1) per instrument, bounded by the number of instruments kept. */
  #grow(): void {
    const capacity = this.#capacity * 2;
    const values = new Float64Array(capacity * STRIDE);
    values.set(this.#values);
    this.#values = values;
    this.#capacity = capacity;
  }

  #store(tick: Tick, slot: number): void {
    const v = this.#values;
    const o = slot * STRIDE;
    let kind: number;
    v[o + LAST] = tick.last_price;
    if (tick.mode === 'ltp') {
      kind = LTP;
    } else if ('depth' in tick) {
      const t = tick as FullTick;
      const buy = t.depth.buy;
      const sell = t.depth.sell;
      if (buy.length !== LEVELS || sell.length !== LEVELS) {
        kind = OTHER;
      } else {
        kind = FULL;
        writeQuote(v, o, t);
        v[o + LTT] = t.last_trade_time === null ? Number.NaN : t.last_trade_time.getTime();
        v[o + ETS] = t.exchange_timestamp === null ? Number.NaN : t.exchange_timestamp.getTime();
        v[o + OI] = t.oi;
        v[o + OI_HIGH] = t.oi_day_high;
        v[o + OI_LOW] = t.oi_day_low;
        writeLevels(v, o + DEPTH, buy);
        writeLevels(v, o + DEPTH + LEVELS * 3, sell);
      }
    } else if ((tick as QuoteTick).last_traded_quantity !== undefined) {
      kind = QUOTE;
      writeQuote(v, o, tick as QuoteTick);
    } else if ((tick as IndexTick).ohlc !== undefined) {
      const t = tick as IndexTick;
      const ohlc = t.ohlc;
      v[o + OPEN] = ohlc.open;
      v[o + HIGH] = ohlc.high;
      v[o + LOW] = ohlc.low;
      v[o + CLOSE] = ohlc.close;
      v[o + CHANGE] = t.change;
      v[o + NET_CHANGE] = t.net_change;
      if (t.mode === 'full') {
        const ts = t.exchange_timestamp;
        if (ts === undefined) kind = OTHER;
        else {
          kind = INDEX_FULL;
          v[o + ETS] = ts === null ? Number.NaN : ts.getTime();
        }
      } else kind = INDEX_QUOTE;
    } else {
      kind = OTHER;
    }
    v[o + KIND] = kind;
    if (kind === OTHER) {
      this.#other.set(slot, tick);
      return;
    }
    if (this.#other.size !== 0) this.#other.delete(slot);
    v[o + TRADABLE] = tick.tradable ? 1 : 0;
    if (tick.exchange !== EXCHANGE_BY_SEGMENT[tick.instrument_token & 0xff])
      this.#exchange.set(slot, tick.exchange);
    else if (this.#exchange.size !== 0) this.#exchange.delete(slot);
  }

  #isEmpty(slot: number): boolean {
    return this.#values[slot * STRIDE + KIND] === EMPTY;
  }

  /** Builds the stored tick with the decoder's field order (src/protocol/packet.ts). */
  #build(token: number, slot: number): Tick {
    const v = this.#values;
    const o = slot * STRIDE;
    const kind = v[o + KIND]!;
    if (kind === OTHER) return this.#other.get(slot)!;
    const tradable = v[o + TRADABLE] === 1;
    const exchange = this.#exchange.get(slot) ?? EXCHANGE_BY_SEGMENT[token & 0xff]!;
    if (kind === FULL) {
      const full: FullTick = {
        tradable,
        mode: 'full',
        instrument_token: token,
        last_price: v[o + LAST]!,
        last_traded_quantity: v[o + LTQ]!,
        average_traded_price: v[o + ATP]!,
        volume_traded: v[o + VOLUME]!,
        total_buy_quantity: v[o + BUY_QTY]!,
        total_sell_quantity: v[o + SELL_QTY]!,
        ohlc: { open: v[o + OPEN]!, high: v[o + HIGH]!, low: v[o + LOW]!, close: v[o + CLOSE]! },
        change: v[o + CHANGE]!,
        last_trade_time: dateOf(v[o + LTT]!),
        exchange_timestamp: dateOf(v[o + ETS]!),
        oi: v[o + OI]!,
        oi_day_high: v[o + OI_HIGH]!,
        oi_day_low: v[o + OI_LOW]!,
        depth: { buy: readLevels(v, o + DEPTH), sell: readLevels(v, o + DEPTH + LEVELS * 3) },
        net_change: v[o + NET_CHANGE]!,
        exchange,
      };
      return full;
    }
    if (kind === QUOTE) {
      const quote: QuoteTick = {
        tradable,
        mode: 'quote',
        instrument_token: token,
        last_price: v[o + LAST]!,
        last_traded_quantity: v[o + LTQ]!,
        average_traded_price: v[o + ATP]!,
        volume_traded: v[o + VOLUME]!,
        total_buy_quantity: v[o + BUY_QTY]!,
        total_sell_quantity: v[o + SELL_QTY]!,
        ohlc: { open: v[o + OPEN]!, high: v[o + HIGH]!, low: v[o + LOW]!, close: v[o + CLOSE]! },
        change: v[o + CHANGE]!,
        net_change: v[o + NET_CHANGE]!,
        exchange,
      };
      return quote;
    }
    if (kind === LTP) {
      const ltp: LtpTick = {
        tradable,
        mode: 'ltp',
        instrument_token: token,
        last_price: v[o + LAST]!,
        exchange,
      };
      return ltp;
    }
    // Index ticks list OHLC in wire order, as the decoder and the official client do.
    const ohlc = { high: v[o + HIGH]!, low: v[o + LOW]!, open: v[o + OPEN]!, close: v[o + CLOSE]! };
    if (kind === INDEX_FULL) {
      const index: IndexTick = {
        tradable: tradable as false,
        mode: 'full',
        instrument_token: token,
        last_price: v[o + LAST]!,
        ohlc,
        change: v[o + CHANGE]!,
        exchange_timestamp: dateOf(v[o + ETS]!),
        net_change: v[o + NET_CHANGE]!,
        exchange,
      };
      return index;
    }
    const index: IndexTick = {
      tradable: tradable as false,
      mode: 'quote',
      instrument_token: token,
      last_price: v[o + LAST]!,
      ohlc,
      change: v[o + CHANGE]!,
      net_change: v[o + NET_CHANGE]!,
      exchange,
    };
    return index;
  }
}

function writeQuote(v: Float64Array, o: number, t: QuoteTick): void {
  const ohlc = t.ohlc;
  v[o + LTQ] = t.last_traded_quantity;
  v[o + ATP] = t.average_traded_price;
  v[o + VOLUME] = t.volume_traded;
  v[o + BUY_QTY] = t.total_buy_quantity;
  v[o + SELL_QTY] = t.total_sell_quantity;
  v[o + OPEN] = ohlc.open;
  v[o + HIGH] = ohlc.high;
  v[o + LOW] = ohlc.low;
  v[o + CLOSE] = ohlc.close;
  v[o + CHANGE] = t.change;
  v[o + NET_CHANGE] = t.net_change;
}

function writeLevels(v: Float64Array, o: number, levels: readonly DepthLevel[]): void {
  for (let k = 0; k < LEVELS; k++) {
    const level = levels[k]!;
    const at = o + k * 3;
    v[at] = level.quantity;
    v[at + 1] = level.price;
    v[at + 2] = level.orders;
  }
}

function readLevels(v: Float64Array, o: number): DepthLevel[] {
  return [
    { quantity: v[o]!, price: v[o + 1]!, orders: v[o + 2]! },
    { quantity: v[o + 3]!, price: v[o + 4]!, orders: v[o + 5]! },
    { quantity: v[o + 6]!, price: v[o + 7]!, orders: v[o + 8]! },
    { quantity: v[o + 9]!, price: v[o + 10]!, orders: v[o + 11]! },
    { quantity: v[o + 12]!, price: v[o + 13]!, orders: v[o + 14]! },
  ];
}

/** Epoch milliseconds back to a Date; NaN stands for null. */
function dateOf(ms: number): Date | null {
  return Number.isNaN(ms) ? null : new Date(ms);
}
