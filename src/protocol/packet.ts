/**
 * Builds one tick object from a packet body already known to fit in the view. Shared by decodeFrame and
 * FrameView.tick(). Internal: not re-exported.
 *
 * Hot path: each kind is built as one object literal with its fields always in the same order, so V8
 * gives every tick of a kind the same hidden class; no slices, one DataView read per field.
 * Field order follows the official kiteconnect client, with our additions (`net_change`, `exchange`) last.
 */
import { DIVISOR_BY_SEGMENT, EXCHANGE_BY_SEGMENT, Segment } from './constants.js';
import {
  D_ORDERS,
  D_PRICE,
  DEPTH_ENTRY,
  F_DEPTH,
  F_DEPTH_SELL,
  F_EXCHANGE_TS,
  F_LAST_TRADE_TIME,
  F_OI,
  F_OI_DAY_HIGH,
  F_OI_DAY_LOW,
  IDX_CLOSE,
  IDX_EXCHANGE_TS,
  IDX_HIGH,
  IDX_LOW,
  IDX_OPEN,
  OFF_LAST_PRICE,
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
import type { DepthLevel, FullTick, IndexTick, LtpTick, QuoteTick, Tick } from './types.js';

/**
 * Decodes the packet of `length` bytes at `o`. The caller has checked that the length is one of the five
 * known lengths and that the body lies inside the view.
 */
export function readPacket(v: DataView, o: number, length: number): Tick {
  switch (length) {
    case 184:
      return readFull(v, o);
    case 44:
      return readQuote(v, o);
    case 8:
      return readLtp(v, o);
    case 32:
      return readIndex(v, o, true);
    default:
      return readIndex(v, o, false);
  }
}

/** Unix seconds -> Date, 0 -> null (the official client's rendering). */
function toDate(seconds: number): Date | null {
  return seconds === 0 ? null : new Date(seconds * 1000);
}

/** Percent change with the official client's exact arithmetic, 0 when close is 0. */
function percent(last: number, close: number): number {
  return close !== 0 ? ((last - close) * 100) / close : 0;
}

export function readLtp(v: DataView, o: number): LtpTick {
  const token = v.getUint32(o);
  const seg = token & 0xff;
  return {
    tradable: seg !== Segment.Indices,
    mode: 'ltp',
    instrument_token: token,
    last_price: v.getInt32(o + OFF_LAST_PRICE) / DIVISOR_BY_SEGMENT[seg]!,
    exchange: EXCHANGE_BY_SEGMENT[seg]!,
  };
}

export function readIndex(v: DataView, o: number, full: boolean): IndexTick {
  const token = v.getUint32(o);
  const seg = token & 0xff;
  const d = DIVISOR_BY_SEGMENT[seg]!;
  const last = v.getInt32(o + OFF_LAST_PRICE) / d;
  const close = v.getInt32(o + IDX_CLOSE) / d;
  // tradable comes from the segment (as the official client), not from the layout.
  const tradable = (seg !== Segment.Indices) as false;
  // Wire order (high, low, open, close), which is also the official client's key order for index ticks.
  const ohlc = {
    high: v.getInt32(o + IDX_HIGH) / d,
    low: v.getInt32(o + IDX_LOW) / d,
    open: v.getInt32(o + IDX_OPEN) / d,
    close,
  };
  if (full) {
    return {
      tradable,
      mode: 'full',
      instrument_token: token,
      last_price: last,
      ohlc,
      change: percent(last, close),
      exchange_timestamp: toDate(v.getUint32(o + IDX_EXCHANGE_TS)),
      net_change: close !== 0 ? last - close : 0,
      exchange: EXCHANGE_BY_SEGMENT[seg]!,
    };
  }
  return {
    tradable,
    mode: 'quote',
    instrument_token: token,
    last_price: last,
    ohlc,
    change: percent(last, close),
    net_change: close !== 0 ? last - close : 0,
    exchange: EXCHANGE_BY_SEGMENT[seg]!,
  };
}

export function readQuote(v: DataView, o: number): QuoteTick {
  const token = v.getUint32(o);
  const seg = token & 0xff;
  const d = DIVISOR_BY_SEGMENT[seg]!;
  const last = v.getInt32(o + OFF_LAST_PRICE) / d;
  const close = v.getInt32(o + Q_CLOSE) / d;
  return {
    tradable: seg !== Segment.Indices,
    mode: 'quote',
    instrument_token: token,
    last_price: last,
    last_traded_quantity: v.getUint32(o + Q_LAST_QTY),
    average_traded_price: v.getInt32(o + Q_AVG_PRICE) / d,
    volume_traded: v.getUint32(o + Q_VOLUME),
    total_buy_quantity: v.getUint32(o + Q_BUY_QTY),
    total_sell_quantity: v.getUint32(o + Q_SELL_QTY),
    ohlc: {
      open: v.getInt32(o + Q_OPEN) / d,
      high: v.getInt32(o + Q_HIGH) / d,
      low: v.getInt32(o + Q_LOW) / d,
      close,
    },
    change: percent(last, close),
    net_change: close !== 0 ? last - close : 0,
    exchange: EXCHANGE_BY_SEGMENT[seg]!,
  };
}

function level(v: DataView, o: number, d: number): DepthLevel {
  return { quantity: v.getUint32(o), price: v.getInt32(o + D_PRICE) / d, orders: v.getUint16(o + D_ORDERS) };
}

export function readFull(v: DataView, o: number): FullTick {
  const token = v.getUint32(o);
  const seg = token & 0xff;
  const d = DIVISOR_BY_SEGMENT[seg]!;
  const last = v.getInt32(o + OFF_LAST_PRICE) / d;
  const close = v.getInt32(o + Q_CLOSE) / d;
  const b = o + F_DEPTH;
  const s = o + F_DEPTH_SELL;
  return {
    tradable: seg !== Segment.Indices,
    mode: 'full',
    instrument_token: token,
    last_price: last,
    last_traded_quantity: v.getUint32(o + Q_LAST_QTY),
    average_traded_price: v.getInt32(o + Q_AVG_PRICE) / d,
    volume_traded: v.getUint32(o + Q_VOLUME),
    total_buy_quantity: v.getUint32(o + Q_BUY_QTY),
    total_sell_quantity: v.getUint32(o + Q_SELL_QTY),
    ohlc: {
      open: v.getInt32(o + Q_OPEN) / d,
      high: v.getInt32(o + Q_HIGH) / d,
      low: v.getInt32(o + Q_LOW) / d,
      close,
    },
    change: percent(last, close),
    last_trade_time: toDate(v.getUint32(o + F_LAST_TRADE_TIME)),
    exchange_timestamp: toDate(v.getUint32(o + F_EXCHANGE_TS)),
    oi: v.getUint32(o + F_OI),
    oi_day_high: v.getUint32(o + F_OI_DAY_HIGH),
    oi_day_low: v.getUint32(o + F_OI_DAY_LOW),
    depth: {
      buy: [
        level(v, b, d),
        level(v, b + DEPTH_ENTRY, d),
        level(v, b + 2 * DEPTH_ENTRY, d),
        level(v, b + 3 * DEPTH_ENTRY, d),
        level(v, b + 4 * DEPTH_ENTRY, d),
      ],
      sell: [
        level(v, s, d),
        level(v, s + DEPTH_ENTRY, d),
        level(v, s + 2 * DEPTH_ENTRY, d),
        level(v, s + 3 * DEPTH_ENTRY, d),
        level(v, s + 4 * DEPTH_ENTRY, d),
      ],
    },
    net_change: close !== 0 ? last - close : 0,
    exchange: EXCHANGE_BY_SEGMENT[seg]!,
  };
}
