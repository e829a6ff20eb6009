/**
 * The reference row of `bench:decode`: the most straightforward decoder one would write by hand, a
 * `DataView` per frame and one loop, building exactly the tick objects decodeFrame builds (same fields in
 * the same order, 13 objects and two eager `Date`s per full tick). No validation beyond "the packet fits",
 * no error reports. It exists so the benchmark shows what plain code reaches on this machine and V8:
 * decodeFrame should be within 1.3x of it (issue 19). Written independently of src/protocol on purpose
 * (literal offsets from kite-protocol.md), so a slowdown in the library cannot hide in both rows.
 */

const EXCHANGES = ['', 'NSE', 'NFO', 'CDS', 'BSE', 'BFO', 'BCD', 'MCX', 'MCXSX', 'INDICES'];

function divisorOf(seg: number): number {
  if (seg === 3) return 10_000_000; // NSE currency
  if (seg === 6) return 10_000; // BSE currency
  return 100;
}

export function plainDecode(data: Uint8Array): object[] {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const size = data.byteLength;
  const out: object[] = [];
  if (size < 2) return out;
  const count = v.getUint16(0);
  let p = 2;
  for (let i = 0; i < count && p + 2 <= size; i++) {
    const len = v.getUint16(p);
    const o = p + 2;
    p = o + len;
    if (p > size) break;
    const token = v.getUint32(o);
    const seg = token & 0xff;
    const d = divisorOf(seg);
    const last = v.getInt32(o + 4) / d;
    if (len === 8) {
      out.push({
        tradable: seg !== 9,
        mode: 'ltp',
        instrument_token: token,
        last_price: last,
        exchange: EXCHANGES[seg],
      });
    } else if (len === 28 || len === 32) {
      const close = v.getInt32(o + 20) / d;
      const ohlc = {
        high: v.getInt32(o + 8) / d,
        low: v.getInt32(o + 12) / d,
        open: v.getInt32(o + 16) / d,
        close,
      };
      const change = close !== 0 ? ((last - close) * 100) / close : 0;
      const net = close !== 0 ? last - close : 0;
      if (len === 32) {
        const ts = v.getUint32(o + 28);
        out.push({
          tradable: seg !== 9,
          mode: 'full',
          instrument_token: token,
          last_price: last,
          ohlc,
          change,
          exchange_timestamp: ts === 0 ? null : new Date(ts * 1000),
          net_change: net,
          exchange: EXCHANGES[seg],
        });
      } else {
        out.push({
          tradable: seg !== 9,
          mode: 'quote',
          instrument_token: token,
          last_price: last,
          ohlc,
          change,
          net_change: net,
          exchange: EXCHANGES[seg],
        });
      }
    } else if (len === 44) {
      const close = v.getInt32(o + 40) / d;
      out.push({
        tradable: seg !== 9,
        mode: 'quote',
        instrument_token: token,
        last_price: last,
        last_traded_quantity: v.getUint32(o + 8),
        average_traded_price: v.getInt32(o + 12) / d,
        volume_traded: v.getUint32(o + 16),
        total_buy_quantity: v.getUint32(o + 20),
        total_sell_quantity: v.getUint32(o + 24),
        ohlc: {
          open: v.getInt32(o + 28) / d,
          high: v.getInt32(o + 32) / d,
          low: v.getInt32(o + 36) / d,
          close,
        },
        change: close !== 0 ? ((last - close) * 100) / close : 0,
        net_change: close !== 0 ? last - close : 0,
        exchange: EXCHANGES[seg],
      });
    } else if (len === 184) {
      const close = v.getInt32(o + 40) / d;
      const ltt = v.getUint32(o + 44);
      const ets = v.getUint32(o + 60);
      const buy = [];
      const sell = [];
      for (let k = 0; k < 5; k++) {
        const b = o + 64 + k * 12;
        buy.push({ quantity: v.getUint32(b), price: v.getInt32(b + 4) / d, orders: v.getUint16(b + 8) });
        const s = o + 124 + k * 12;
        sell.push({ quantity: v.getUint32(s), price: v.getInt32(s + 4) / d, orders: v.getUint16(s + 8) });
      }
      out.push({
        tradable: seg !== 9,
        mode: 'full',
        instrument_token: token,
        last_price: last,
        last_traded_quantity: v.getUint32(o + 8),
        average_traded_price: v.getInt32(o + 12) / d,
        volume_traded: v.getUint32(o + 16),
        total_buy_quantity: v.getUint32(o + 20),
        total_sell_quantity: v.getUint32(o + 24),
        ohlc: {
          open: v.getInt32(o + 28) / d,
          high: v.getInt32(o + 32) / d,
          low: v.getInt32(o + 36) / d,
          close,
        },
        change: close !== 0 ? ((last - close) * 100) / close : 0,
        last_trade_time: ltt === 0 ? null : new Date(ltt * 1000),
        exchange_timestamp: ets === 0 ? null : new Date(ets * 1000),
        oi: v.getUint32(o + 48),
        oi_day_high: v.getUint32(o + 52),
        oi_day_low: v.getUint32(o + 56),
        depth: { buy, sell },
        net_change: close !== 0 ? last - close : 0,
        exchange: EXCHANGES[seg],
      });
    }
  }
  return out;
}
