/**
 * The market model: per-instrument state in typed arrays (a few dozen bytes per instrument, no objects),
 * a seeded random walk on each instrument's tick size, and packet writing through the codec's
 * `writeTick` with reusable scratch tick objects (no allocation per tick).
 *
 * Every random draw is `hash(seed, instrument, step, salt)`, so an instrument's path depends only on the
 * seed and how many times it has been advanced. Instruments are advanced only while subscribed somewhere.
 */
import { DIVISOR_BY_SEGMENT, EXCHANGE_BY_SEGMENT, type Mode, Segment } from '../protocol/constants.js';
import { writeTick } from '../protocol/encode.js';
import type { DepthLevel, FullTick, IndexTick, LtpTick, QuoteTick, Tick } from '../protocol/types.js';
import { hash4, unit4 } from './random.js';
import type { SimulatorInstrument } from './types.js';

const MAX_I32 = 0x7fff_ffff;
const MAX_U32 = 0xffff_ffff;
/** Prices never walk below this many ticks, so five bid levels below the last price stay positive. */
const MIN_TICKS = 20;
const DEPTH_LEVELS = 5;

/** Instrument kinds that change what a tick carries (stored in a Uint8Array). */
const Kind = {
  Index: 0,
  Cash: 1,
  Derivative: 2,
} as const;

/** Packet length (without the 2-byte prefix) by mode for tradable / index instruments. */
export function packetLength(mode: Mode, index: boolean): number {
  if (mode === 'ltp') return 8;
  if (mode === 'quote') return index ? 28 : 44;
  return index ? 32 : 184;
}

function scratchLevels(): DepthLevel[] {
  const out: DepthLevel[] = [];
  for (let i = 0; i < DEPTH_LEVELS; i++) out.push({ quantity: 0, price: 0, orders: 0 });
  return out;
}

export class Market {
  readonly size: number;
  readonly seed: number;
  readonly instruments: readonly SimulatorInstrument[];
  readonly #indexByToken = new Map<number, number>();

  // Static per instrument.
  readonly token: Uint32Array;
  readonly segment: Uint8Array;
  readonly kind: Uint8Array;
  readonly divisor: Float64Array;
  readonly tickRaw: Int32Array;
  readonly lot: Uint32Array;

  // Moving state (prices in raw wire units: price * divisor).
  readonly last: Int32Array;
  readonly open: Int32Array;
  readonly high: Int32Array;
  readonly low: Int32Array;
  readonly close: Int32Array;
  readonly avg: Int32Array;
  readonly lastQty: Uint32Array;
  readonly volume: Float64Array;
  readonly turnover: Float64Array;
  readonly buyQty: Uint32Array;
  readonly sellQty: Uint32Array;
  readonly oi: Uint32Array;
  readonly oiHigh: Uint32Array;
  readonly oiLow: Uint32Array;
  readonly lastTradeTime: Uint32Array;
  readonly exchangeTime: Uint32Array;
  /** How many times each instrument has been advanced (the random walk's step counter). */
  readonly steps: Uint32Array;

  // Scratch ticks, reused for every packet written (writeTick reads them synchronously).
  readonly #ltp: LtpTick;
  readonly #indexQuote: IndexTick;
  readonly #indexFull: IndexTick & { exchange_timestamp: Date };
  readonly #quote: QuoteTick;
  readonly #full: FullTick & { last_trade_time: Date; exchange_timestamp: Date };

  /**
   * @param startSec Epoch seconds used for the initial trade/exchange timestamps.
   */
  constructor(instruments: readonly SimulatorInstrument[], seed: number, startSec: number) {
    const n = instruments.length;
    this.size = n;
    this.seed = seed >>> 0;
    this.instruments = instruments;
    this.token = new Uint32Array(n);
    this.segment = new Uint8Array(n);
    this.kind = new Uint8Array(n);
    this.divisor = new Float64Array(n);
    this.tickRaw = new Int32Array(n);
    this.lot = new Uint32Array(n);
    this.last = new Int32Array(n);
    this.open = new Int32Array(n);
    this.high = new Int32Array(n);
    this.low = new Int32Array(n);
    this.close = new Int32Array(n);
    this.avg = new Int32Array(n);
    this.lastQty = new Uint32Array(n);
    this.volume = new Float64Array(n);
    this.turnover = new Float64Array(n);
    this.buyQty = new Uint32Array(n);
    this.sellQty = new Uint32Array(n);
    this.oi = new Uint32Array(n);
    this.oiHigh = new Uint32Array(n);
    this.oiLow = new Uint32Array(n);
    this.lastTradeTime = new Uint32Array(n);
    this.exchangeTime = new Uint32Array(n);
    this.steps = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.#init(i, instruments[i]!, startSec);

    const ohlc = () => ({ open: 0, high: 0, low: 0, close: 0 });
    this.#ltp = { instrument_token: 0, tradable: true, exchange: 'NSE', last_price: 0, mode: 'ltp' };
    const indexBase = (mode: 'quote' | 'full') => ({
      instrument_token: 0,
      tradable: false as const,
      exchange: 'INDICES' as const,
      last_price: 0,
      mode,
      ohlc: ohlc(),
      change: 0,
      net_change: 0,
    });
    // The 28-byte index quote carries no timestamp, so its tick has no exchange_timestamp at all.
    this.#indexQuote = indexBase('quote');
    this.#indexFull = { ...indexBase('full'), exchange_timestamp: new Date(0) };
    const quoteBase = () => ({
      instrument_token: 0,
      tradable: true,
      exchange: 'NSE' as const,
      last_price: 0,
      last_traded_quantity: 0,
      average_traded_price: 0,
      volume_traded: 0,
      total_buy_quantity: 0,
      total_sell_quantity: 0,
      ohlc: ohlc(),
      change: 0,
      net_change: 0,
    });
    this.#quote = { ...quoteBase(), mode: 'quote' };
    this.#full = {
      ...quoteBase(),
      mode: 'full',
      last_trade_time: new Date(0),
      oi: 0,
      oi_day_high: 0,
      oi_day_low: 0,
      exchange_timestamp: new Date(0),
      depth: { buy: scratchLevels(), sell: scratchLevels() },
    };
  }

  #init(i: number, ins: SimulatorInstrument, startSec: number): void {
    const token = ins.instrument_token >>> 0;
    if (!this.#indexByToken.has(token)) this.#indexByToken.set(token, i);
    const seg = token & 0xff;
    const divisor = DIVISOR_BY_SEGMENT[seg]!;
    const isIndex = seg === Segment.Indices;
    const isDerivative =
      !isIndex &&
      (ins.instrument_type === 'FUT' || ins.instrument_type === 'CE' || ins.instrument_type === 'PE');
    this.token[i] = token;
    this.segment[i] = seg;
    this.kind[i] = isIndex ? Kind.Index : isDerivative ? Kind.Derivative : Kind.Cash;
    this.divisor[i] = divisor;
    // Indices have tick_size 0 in Kite's dump; they still move in 0.05 steps.
    const tickSize = ins.tick_size > 0 ? ins.tick_size : 0.05;
    const tick = Math.max(1, Math.round(tickSize * divisor));
    this.tickRaw[i] = tick;
    this.lot[i] = isIndex ? 0 : Math.max(1, Math.round(ins.lot_size) || 1);
    const s = this.seed;
    // A dump's last_price is often 0.0: draw a plausible starting price instead.
    let price = ins.last_price > 0 ? ins.last_price : 20 + unit4(s, token, 0, 1) * 2000;
    if (seg === Segment.NseCD && price > 200) price = 83.1234; // must fit int32 at 1e7
    const maxTicks = Math.floor(MAX_I32 / 2 / tick);
    const closeTicks = Math.min(maxTicks, Math.max(MIN_TICKS, Math.round((price * divisor) / tick)));
    const close = closeTicks * tick;
    // The day opened within about 1% of the previous close.
    const gap = Math.round((unit4(s, token, 0, 2) - 0.5) * 0.02 * closeTicks);
    const open = Math.max(MIN_TICKS, closeTicks + gap) * tick;
    this.close[i] = close;
    this.open[i] = open;
    this.last[i] = open;
    this.high[i] = open;
    this.low[i] = open;
    this.avg[i] = isIndex ? 0 : open;
    const lot = this.lot[i]!;
    if (!isIndex) {
      const qty = lot * (1 + (hash4(s, token, 0, 3) % 500));
      this.lastQty[i] = lot;
      this.volume[i] = qty;
      this.turnover[i] = qty * open;
      this.buyQty[i] = lot * (1000 + (hash4(s, token, 0, 4) % 50_000));
      this.sellQty[i] = lot * (1000 + (hash4(s, token, 0, 5) % 50_000));
      if (isDerivative) {
        const oi = lot * (1000 + (hash4(s, token, 0, 6) % 100_000));
        this.oi[i] = oi;
        this.oiHigh[i] = oi;
        this.oiLow[i] = oi;
      }
    }
    this.lastTradeTime[i] = startSec;
    this.exchangeTime[i] = startSec;
  }

  /** Index of a token in the instrument arrays, or -1 when the token is not in the universe. */
  indexOf(token: number): number {
    return this.#indexByToken.get(token) ?? -1;
  }

  isIndex(i: number): boolean {
    return this.kind[i] === Kind.Index;
  }

  /**
   * One step of the random walk for instrument `i` at `nowSec`: a trade at a new price on the tick grid,
   * with OHLC, volume, average price, total quantities, OI and timestamps moved consistently.
   */
  advance(i: number, nowSec: number): void {
    const step = (this.steps[i]! + 1) >>> 0;
    this.steps[i] = step;
    const s = this.seed;
    const token = this.token[i]!;
    const tick = this.tickRaw[i]!;
    const lastTicks = Math.round(this.last[i]! / tick);
    const closeTicks = Math.round(this.close[i]! / tick);
    // Volatility: about 0.03% of the price per tick, at least one tick.
    const vol = Math.max(1, Math.round(lastTicks * 0.0003));
    let move = Math.round((unit4(s, token, step, 7) * 2 - 1) * vol);
    // Pull back towards the previous close once more than 8% away (a soft circuit).
    const drift = lastTicks - closeTicks;
    if (drift > closeTicks * 0.08) move -= vol;
    else if (drift < -closeTicks * 0.08) move += vol;
    const maxTicks = Math.floor(MAX_I32 / 2 / tick);
    const nextTicks = Math.min(maxTicks, Math.max(MIN_TICKS, lastTicks + move));
    const last = nextTicks * tick;
    this.last[i] = last;
    if (last > this.high[i]!) this.high[i] = last;
    if (last < this.low[i]!) this.low[i] = last;
    this.exchangeTime[i] = nowSec;
    if (this.kind[i] === Kind.Index) return;

    const lot = this.lot[i]!;
    const r = hash4(s, token, step, 8);
    const qty = lot * (1 + (r % 20));
    this.lastQty[i] = qty;
    const volume = Math.min(MAX_U32, this.volume[i]! + qty);
    if (volume > this.volume[i]!) {
      this.turnover[i] = this.turnover[i]! + qty * last;
      this.volume[i] = volume;
      this.avg[i] = Math.round(this.turnover[i]! / volume);
    }
    // Total quantities wander by up to 100 lots, never below 500 lots (so they cover the 5 depth levels).
    const r2 = hash4(s, token, step, 9);
    this.buyQty[i] = clampQty(this.buyQty[i]! + ((r2 % 201) - 100) * lot, lot);
    this.sellQty[i] = clampQty(this.sellQty[i]! + (((r2 >>> 8) % 201) - 100) * lot, lot);
    this.lastTradeTime[i] = nowSec;
    if (this.kind[i] === Kind.Derivative) {
      const oi = Math.max(lot, this.oi[i]! + (((r2 >>> 16) % 21) - 10) * lot);
      this.oi[i] = Math.min(MAX_U32, oi);
      if (oi > this.oiHigh[i]!) this.oiHigh[i] = oi;
      if (oi < this.oiLow[i]!) this.oiLow[i] = oi;
    }
  }

  /**
   * Writes instrument `i`'s packet in `mode` at `offset` (no length prefix); returns the bytes written.
   * Index instruments get the 28/32-byte index packets for quote/full.
   */
  write(view: DataView, offset: number, i: number, mode: Mode): number {
    return writeTick(view, offset, this.#fill(i, mode));
  }

  /** A fresh Tick object of instrument `i`'s current state, exactly as a decoder would read it back. */
  tick(i: number, mode: Mode): Tick {
    const t = this.#fill(i, mode);
    // structuredClone copies Dates and nested arrays; only used off the hot path.
    return structuredClone(t);
  }

  #fill(i: number, mode: Mode): Tick {
    const token = this.token[i]!;
    const d = this.divisor[i]!;
    const last = this.last[i]! / d;
    const exchange = EXCHANGE_BY_SEGMENT[this.segment[i]!]!;
    if (mode === 'ltp') {
      const t = this.#ltp;
      t.instrument_token = token;
      t.tradable = this.kind[i] !== Kind.Index;
      t.exchange = exchange;
      t.last_price = last;
      return t;
    }
    const close = this.close[i]! / d;
    const change = close !== 0 ? ((last - close) * 100) / close : 0;
    const netChange = close !== 0 ? last - close : 0;
    if (this.kind[i] === Kind.Index) {
      const t = mode === 'quote' ? this.#indexQuote : this.#indexFull;
      t.instrument_token = token;
      t.exchange = exchange;
      t.last_price = last;
      t.ohlc.open = this.open[i]! / d;
      t.ohlc.high = this.high[i]! / d;
      t.ohlc.low = this.low[i]! / d;
      t.ohlc.close = close;
      t.change = change;
      t.net_change = netChange;
      if (mode === 'full') this.#indexFull.exchange_timestamp.setTime(this.exchangeTime[i]! * 1000);
      return t;
    }
    const t = mode === 'quote' ? this.#quote : this.#full;
    t.instrument_token = token;
    t.exchange = exchange;
    t.last_price = last;
    t.last_traded_quantity = this.lastQty[i]!;
    t.average_traded_price = this.avg[i]! / d;
    t.volume_traded = this.volume[i]!;
    t.total_buy_quantity = this.buyQty[i]!;
    t.total_sell_quantity = this.sellQty[i]!;
    t.ohlc.open = this.open[i]! / d;
    t.ohlc.high = this.high[i]! / d;
    t.ohlc.low = this.low[i]! / d;
    t.ohlc.close = close;
    t.change = change;
    t.net_change = netChange;
    if (mode === 'quote') return t;
    const f = this.#full;
    f.last_trade_time.setTime(this.lastTradeTime[i]! * 1000);
    f.exchange_timestamp.setTime(this.exchangeTime[i]! * 1000);
    f.oi = this.oi[i]!;
    f.oi_day_high = this.oiHigh[i]!;
    f.oi_day_low = this.oiLow[i]!;
    this.#fillDepth(i, f.depth.buy, f.depth.sell, d);
    return f;
  }

  /**
   * Depth derived from the last price: best offer at the last price, best bid one tick below, each
   * further level one tick away. Quantities and order counts are drawn from the step's hash, so a
   * packet is the same every time it is written for the same step.
   */
  #fillDepth(i: number, buy: DepthLevel[], sell: DepthLevel[], d: number): void {
    const s = this.seed;
    const token = this.token[i]!;
    const step = this.steps[i]!;
    const tick = this.tickRaw[i]!;
    const last = this.last[i]!;
    const lot = this.lot[i]!;
    for (let k = 0; k < DEPTH_LEVELS; k++) {
      const hb = hash4(s, token, step, 16 + k);
      const ha = hash4(s, token, step, 32 + k);
      const bid = buy[k]!;
      const bidRaw = last - (k + 1) * tick;
      if (bidRaw > 0) {
        bid.price = bidRaw / d;
        bid.quantity = lot * (1 + (hb % 50));
        bid.orders = 1 + ((hb >>> 8) % 12);
      } else {
        bid.price = 0;
        bid.quantity = 0;
        bid.orders = 0;
      }
      const ask = sell[k]!;
      ask.price = (last + k * tick) / d;
      ask.quantity = lot * (1 + (ha % 50));
      ask.orders = 1 + ((ha >>> 8) % 12);
    }
  }
}

function clampQty(value: number, lot: number): number {
  return Math.min(MAX_U32, Math.max(500 * lot, value));
}
