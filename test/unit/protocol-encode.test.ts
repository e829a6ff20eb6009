import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiteTickerError } from '../../src/errors.js';
import {
  DIVISOR_BY_SEGMENT,
  decodeFrame,
  EXCHANGE_BY_SEGMENT,
  encodedLength,
  encodeFrame,
  encodeTick,
  encodeTicks,
  HEARTBEAT,
  isHeartbeat,
  writeTick,
} from '../../src/protocol/index.js';
import type { DepthLevel, Tick } from '../../src/protocol/types.js';
import { Bytes } from './protocol-bytes.js';

const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const uint32 = fc.integer({ min: 0, max: 0xffffffff });
const segment = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 255 }));
const tokenArb = fc.tuple(fc.integer({ min: 0, max: 0xffffff }), segment).map(([x, s]) => x * 256 + s);
const date = uint32.map((s) => (s === 0 ? null : new Date(s * 1000)));

/** The tick the decoder must produce for the given raw wire values (change/net_change from price). */
const tickArb: fc.Arbitrary<Tick> = fc
  .record({
    kind: fc.constantFrom('ltp', 'iq', 'if', 'q', 'f'),
    token: tokenArb,
    last: int32,
    o: int32,
    h: int32,
    l: int32,
    c: fc.oneof(int32, fc.constant(0)),
    u: fc.array(uint32, { minLength: 8, maxLength: 8 }),
    avg: int32,
    t1: date,
    t2: date,
    depth: fc.array(fc.tuple(uint32, int32, fc.integer({ min: 0, max: 0xffff })), {
      minLength: 10,
      maxLength: 10,
    }),
  })
  .map((r) => {
    const seg = r.token & 0xff;
    const d = DIVISOR_BY_SEGMENT[seg]!;
    const last = r.last / d;
    const close = r.c / d;
    const base = {
      tradable: seg !== 9,
      instrument_token: r.token,
      last_price: last,
      exchange: EXCHANGE_BY_SEGMENT[seg]!,
    };
    if (r.kind === 'ltp') return { ...base, mode: 'ltp' } as Tick;
    const ohlc = { open: r.o / d, high: r.h / d, low: r.l / d, close };
    const change = close !== 0 ? ((last - close) * 100) / close : 0;
    const net_change = close !== 0 ? last - close : 0;
    if (r.kind === 'iq' || r.kind === 'if') {
      const idx = {
        ...base,
        tradable: false,
        mode: r.kind === 'iq' ? 'quote' : 'full',
        ohlc,
        change,
        net_change,
      };
      return (r.kind === 'if' ? { ...idx, exchange_timestamp: r.t2 } : idx) as Tick;
    }
    const quote = {
      ...base,
      tradable: true,
      mode: r.kind === 'q' ? 'quote' : 'full',
      last_traded_quantity: r.u[0]!,
      average_traded_price: r.avg / d,
      volume_traded: r.u[1]!,
      total_buy_quantity: r.u[2]!,
      total_sell_quantity: r.u[3]!,
      ohlc,
      change,
      net_change,
    };
    if (r.kind === 'q') return quote as Tick;
    const lv = ([quantity, price, orders]: [number, number, number]): DepthLevel => ({
      quantity,
      price: price / d,
      orders,
    });
    return {
      ...quote,
      last_trade_time: r.t1,
      exchange_timestamp: r.t2,
      oi: r.u[4]!,
      oi_day_high: r.u[5]!,
      oi_day_low: r.u[6]!,
      depth: { buy: r.depth.slice(0, 5).map(lv), sell: r.depth.slice(5).map(lv) },
    } as Tick;
  });

/** The layout follows tick.tradable, the decoder's flag follows the segment: keep them consistent. */
const consistentTick = tickArb.filter(
  (t) => t.mode === 'ltp' || t.tradable === ((t.instrument_token & 0xff) !== 9),
);

describe('encoder', () => {
  it('encoder - encode -> decode returns the same values for every kind, segment and edge value', () => {
    fc.assert(
      fc.property(fc.array(consistentTick, { minLength: 1, maxLength: 12 }), (ticks) => {
        expect(decodeFrame(encodeTicks(ticks))).toEqual(ticks);
        expect(decodeFrame(encodeFrame(ticks.map(encodeTick)))).toEqual(ticks);
      }),
      { numRuns: 200 },
    );
  });

  it('encoder - picks the packet length from mode and tradable', () => {
    const base = { instrument_token: 256265, exchange: 'INDICES', last_price: 1 } as const;
    const ohlc = { open: 1, high: 1, low: 1, close: 1 };
    expect(encodedLength({ ...base, tradable: false, mode: 'ltp' })).toBe(8);
    const idx = { ...base, tradable: false as const, ohlc, change: 0, net_change: 0 };
    expect(encodedLength({ ...idx, mode: 'quote' })).toBe(28);
    expect(encodedLength({ ...idx, mode: 'full' })).toBe(32);
    expect(encodeTick({ ...idx, mode: 'full', exchange_timestamp: null })).toHaveLength(32);
  });

  it('encoder - writes the golden index layout (high, low, open, close, change) byte for byte', () => {
    const bytes = encodeTick({
      tradable: false,
      mode: 'quote',
      instrument_token: 256265,
      exchange: 'INDICES',
      last_price: 24000.5,
      ohlc: { open: 23900, high: 24100, low: 23800, close: 23950 },
      change: 0,
      net_change: 0,
    });
    const expected = new Bytes()
      .i32(256265)
      .i32(2400050)
      .i32(2410000)
      .i32(2380000)
      .i32(2390000)
      .i32(2395000)
      .i32(5050)
      .build();
    expect([...bytes]).toEqual([...expected]);
  });

  it('encoder - rounds prices to the nearest wire unit', () => {
    const bytes = encodeTick({
      tradable: true,
      mode: 'ltp',
      instrument_token: 1000 * 256 + 3,
      exchange: 'CDS',
      last_price: 83.12345674,
    });
    expect(new DataView(bytes.buffer).getInt32(4)).toBe(831234567);
  });

  it('encoder - writeTick writes at an offset without touching other bytes', () => {
    const buf = new Uint8Array(20).fill(0xaa);
    const n = writeTick(new DataView(buf.buffer), 5, {
      tradable: true,
      mode: 'ltp',
      instrument_token: 408065,
      exchange: 'NSE',
      last_price: 1573.15,
    });
    expect(n).toBe(8);
    expect([...buf.subarray(0, 5)]).toEqual([0xaa, 0xaa, 0xaa, 0xaa, 0xaa]);
    expect([...buf.subarray(5, 13)]).toEqual([0, 6, 0x3a, 1, 0, 2, 0x66, 0x83]);
    expect([...buf.subarray(13)]).toEqual(new Array(7).fill(0xaa));
  });

  it('encoder - rejects values that do not fit their wire field with a typed error', () => {
    const ltp = { tradable: true, mode: 'ltp', exchange: 'NSE', instrument_token: 1, last_price: 1 } as const;
    const cases: Tick[] = [
      { ...ltp, instrument_token: -1 },
      { ...ltp, instrument_token: 2 ** 32 },
      { ...ltp, instrument_token: 1.5 },
      { ...ltp, last_price: 21474836.48 }, // 2^31 / 100
      { ...ltp, last_price: Number.NaN },
      { ...ltp, mode: 'bogus' as 'ltp' },
    ];
    for (const tick of cases) {
      expect(() => encodeTick(tick)).toThrow(KiteTickerError);
    }
    expect(() => writeTick(new DataView(new ArrayBuffer(7)), 0, ltp)).toThrow(/no room/);
    expect(() => encodeFrame(new Array(65536).fill(new Uint8Array(8)))).toThrow(/65535/);
  });

  it('encoder - HEARTBEAT is a 1-byte frame', () => {
    expect(HEARTBEAT).toHaveLength(1);
    expect(isHeartbeat(HEARTBEAT)).toBe(true);
    expect(decodeFrame(HEARTBEAT)).toEqual([]);
  });
});
