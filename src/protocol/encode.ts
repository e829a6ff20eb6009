/**
 * Binary encoder: the inverse of the decoder, used by the simulator and by tests. The packet layout is
 * chosen from `tick.mode` and `tick.tradable` (ltp -> 8; index quote/full -> 28/32; tradable quote/full
 * -> 44/184). Prices are written as Math.round(price * divisor) with the divisor of the token's segment.
 */
import { InvalidArgumentError } from '../errors.js';
import { DIVISOR_BY_SEGMENT, PacketLength } from './constants.js';
import {
  D_ORDERS,
  D_PRICE,
  D_QTY,
  DEPTH_ENTRY,
  DEPTH_LEVELS,
  F_DEPTH,
  F_DEPTH_SELL,
  F_EXCHANGE_TS,
  F_LAST_TRADE_TIME,
  F_OI,
  F_OI_DAY_HIGH,
  F_OI_DAY_LOW,
  FRAME_HEADER,
  IDX_CHANGE,
  IDX_CLOSE,
  IDX_EXCHANGE_TS,
  IDX_HIGH,
  IDX_LOW,
  IDX_OPEN,
  LENGTH_PREFIX,
  OFF_LAST_PRICE,
  OFF_TOKEN,
  Q_AVG_PRICE,
  Q_BUY_QTY,
  Q_CLOSE,
  Q_HIGH,
  Q_LAST_QTY,
  Q_LOW,
  Q_OPEN,
  Q_SELL_QTY,
  Q_VOLUME,
} from './layout.js';
import type { DepthLevel, FullTick, IndexTick, QuoteTick, Tick } from './types.js';

/** The 1-byte heartbeat frame the server sends when idle (content unspecified by Kite; we send 0). */
export const HEARTBEAT: Uint8Array = Uint8Array.of(0);

const MAX_U16 = 0xffff;
const MAX_U32 = 0xffff_ffff;
const MIN_I32 = -0x8000_0000;
const MAX_I32 = 0x7fff_ffff;

/** Packet length for a tick: by mode, and for quote/full by `tradable` (index packets are shorter). */
export function encodedLength(tick: Tick): number {
  if (tick.mode === 'ltp') return PacketLength.LTP;
  if (tick.mode === 'quote') return tick.tradable ? PacketLength.Quote : PacketLength.IndexQuote;
  if (tick.mode === 'full') return tick.tradable ? PacketLength.Full : PacketLength.IndexFull;
  throw new InvalidArgumentError(`cannot encode a tick with mode ${JSON.stringify((tick as Tick).mode)}`);
}

/**
 * Writes the packet body of `tick` at `offset` (no length prefix) and returns the bytes written.
 * Allocates nothing. Throws InvalidArgumentError for a value that does not fit its wire field.
 */
export function writeTick(target: DataView, offset: number, tick: Tick): number {
  const length = encodedLength(tick);
  if (offset < 0 || offset + length > target.byteLength) {
    throw new InvalidArgumentError(
      `no room for a ${length}-byte packet at offset ${offset} of a ${target.byteLength}-byte buffer`,
    );
  }
  const token = tick.instrument_token;
  putU32(target, offset + OFF_TOKEN, token, 'instrument_token');
  const d = DIVISOR_BY_SEGMENT[token & 0xff]!;
  putPrice(target, offset + OFF_LAST_PRICE, tick.last_price, d, 'last_price');
  if (length === PacketLength.LTP) return length;

  if (length === PacketLength.IndexQuote || length === PacketLength.IndexFull) {
    const t = tick as IndexTick;
    const ohlc = t.ohlc ?? ZERO_OHLC;
    putPrice(target, offset + IDX_HIGH, ohlc.high, d, 'ohlc.high');
    putPrice(target, offset + IDX_LOW, ohlc.low, d, 'ohlc.low');
    putPrice(target, offset + IDX_OPEN, ohlc.open, d, 'ohlc.open');
    putPrice(target, offset + IDX_CLOSE, ohlc.close, d, 'ohlc.close');
    // The server's "price change" field has no documented unit; we send last - close in price units,
    // computed from the raw integers so it is exact.
    const rawChange = target.getInt32(offset + OFF_LAST_PRICE) - target.getInt32(offset + IDX_CLOSE);
    target.setInt32(offset + IDX_CHANGE, Math.max(MIN_I32, Math.min(MAX_I32, rawChange)));
    if (length === PacketLength.IndexFull) {
      putU32(target, offset + IDX_EXCHANGE_TS, epochSeconds(t.exchange_timestamp), 'exchange_timestamp');
    }
    return length;
  }

  const q = tick as QuoteTick;
  const ohlc = q.ohlc ?? ZERO_OHLC;
  putU32(target, offset + Q_LAST_QTY, q.last_traded_quantity ?? 0, 'last_traded_quantity');
  putPrice(target, offset + Q_AVG_PRICE, q.average_traded_price ?? 0, d, 'average_traded_price');
  putU32(target, offset + Q_VOLUME, q.volume_traded ?? 0, 'volume_traded');
  putU32(target, offset + Q_BUY_QTY, q.total_buy_quantity ?? 0, 'total_buy_quantity');
  putU32(target, offset + Q_SELL_QTY, q.total_sell_quantity ?? 0, 'total_sell_quantity');
  putPrice(target, offset + Q_OPEN, ohlc.open, d, 'ohlc.open');
  putPrice(target, offset + Q_HIGH, ohlc.high, d, 'ohlc.high');
  putPrice(target, offset + Q_LOW, ohlc.low, d, 'ohlc.low');
  putPrice(target, offset + Q_CLOSE, ohlc.close, d, 'ohlc.close');
  if (length === PacketLength.Quote) return length;

  const f = tick as Partial<FullTick>;
  putU32(target, offset + F_LAST_TRADE_TIME, epochSeconds(f.last_trade_time), 'last_trade_time');
  putU32(target, offset + F_OI, f.oi ?? 0, 'oi');
  putU32(target, offset + F_OI_DAY_HIGH, f.oi_day_high ?? 0, 'oi_day_high');
  putU32(target, offset + F_OI_DAY_LOW, f.oi_day_low ?? 0, 'oi_day_low');
  putU32(target, offset + F_EXCHANGE_TS, epochSeconds(f.exchange_timestamp), 'exchange_timestamp');
  writeSide(target, offset + F_DEPTH, f.depth?.buy, d, 'depth.buy');
  writeSide(target, offset + F_DEPTH_SELL, f.depth?.sell, d, 'depth.sell');
  return length;
}

/** Encodes one tick as a bare packet body (no frame header, no length prefix). */
export function encodeTick(tick: Tick): Uint8Array {
  const out = new Uint8Array(encodedLength(tick));
  writeTick(new DataView(out.buffer), 0, tick);
  return out;
}

/** Wraps packet bodies in a frame: uint16 N, then (uint16 length, body) for each. */
export function encodeFrame(packets: readonly Uint8Array[]): Uint8Array {
  if (packets.length > MAX_U16) {
    throw new InvalidArgumentError(`a frame holds at most 65535 packets, got ${packets.length}`);
  }
  let total = FRAME_HEADER;
  for (const p of packets) {
    if (p.byteLength > MAX_U16) {
      throw new InvalidArgumentError(`a packet is at most 65535 bytes, got ${p.byteLength}`);
    }
    total += LENGTH_PREFIX + p.byteLength;
  }
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, packets.length);
  let pos = FRAME_HEADER;
  for (const p of packets) {
    view.setUint16(pos, p.byteLength);
    out.set(p, pos + LENGTH_PREFIX);
    pos += LENGTH_PREFIX + p.byteLength;
  }
  return out;
}

/** Encodes ticks straight into one frame buffer (one allocation for the whole frame). */
export function encodeTicks(ticks: readonly Tick[]): Uint8Array {
  if (ticks.length > MAX_U16) {
    throw new InvalidArgumentError(`a frame holds at most 65535 packets, got ${ticks.length}`);
  }
  let total = FRAME_HEADER;
  for (const t of ticks) total += LENGTH_PREFIX + encodedLength(t);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint16(0, ticks.length);
  let pos = FRAME_HEADER;
  for (const t of ticks) {
    const written = writeTick(view, pos + LENGTH_PREFIX, t);
    view.setUint16(pos, written);
    pos += LENGTH_PREFIX + written;
  }
  return out;
}

const ZERO_OHLC = { open: 0, high: 0, low: 0, close: 0 } as const;
const ZERO_LEVEL: DepthLevel = { quantity: 0, price: 0, orders: 0 };

function writeSide(
  target: DataView,
  at: number,
  levels: readonly DepthLevel[] | undefined,
  d: number,
  name: string,
): void {
  for (let i = 0; i < DEPTH_LEVELS; i++) {
    const level = levels?.[i] ?? ZERO_LEVEL;
    const o = at + i * DEPTH_ENTRY;
    putU32(target, o + D_QTY, level.quantity, name);
    putPrice(target, o + D_PRICE, level.price, d, name);
    const orders = level.orders;
    if (!Number.isInteger(orders) || orders < 0 || orders > MAX_U16) {
      throw new InvalidArgumentError(`${name} orders must be a whole number in 0..65535, got ${orders}`);
    }
    target.setUint16(o + D_ORDERS, orders);
    target.setUint16(o + D_ORDERS + 2, 0);
  }
}

function putU32(target: DataView, at: number, value: number, name: string): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_U32) {
    throw new InvalidArgumentError(`${name} must be a whole number in 0..4294967295, got ${value}`);
  }
  target.setUint32(at, value);
}

function putPrice(target: DataView, at: number, price: number, divisor: number, name: string): void {
  const raw = Math.round(price * divisor);
  if (!(raw >= MIN_I32 && raw <= MAX_I32)) {
    throw new InvalidArgumentError(`${name} ${price} does not fit a price field (int32 / ${divisor})`);
  }
  target.setInt32(at, raw);
}

/** Date (or null/undefined -> 0) to whole Unix seconds. */
function epochSeconds(value: Date | null | undefined): number {
  if (value == null) return 0;
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw new InvalidArgumentError('a timestamp is an invalid Date');
  return Math.floor(ms / 1000);
}
