import { describe, expect, it } from 'vitest';
import { decodeFrame, isHeartbeat } from '../../src/protocol/index.js';
import type { FullTick, IndexTick, ProtocolErrorInfo, QuoteTick, Tick } from '../../src/protocol/types.js';
import { Bytes, frame, offsetView } from './protocol-bytes.js';

// Golden packets: bytes written by hand, expected values computed by hand from kite-protocol.md 4.

const INFY = 408065; // 1594 << 8 | 1 (NSE)
const NIFTY = 256265; // 1001 << 8 | 9 (indices)
const USDINR_NSE = 1000 * 256 + 3; // NSE currency: divisor 1e7
const USDINR_BSE = 500 * 256 + 6; // BSE currency: divisor 1e4
const NFO = 2 * 256 + 2;

function decodeAll(bytes: Uint8Array | ArrayBuffer): { ticks: Tick[]; errors: ProtocolErrorInfo[] } {
  const errors: ProtocolErrorInfo[] = [];
  const ticks = decodeFrame(bytes, (e) => errors.push(e));
  return { ticks, errors };
}

function one(packet: Uint8Array): Tick {
  const { ticks, errors } = decodeAll(frame(packet));
  expect(errors).toEqual([]);
  expect(ticks).toHaveLength(1);
  return ticks[0]!;
}

const indexQuote = new Bytes()
  .i32(NIFTY)
  .i32(2400050) // last 24000.50
  .i32(2410000) // high 24100
  .i32(2380000) // low 23800
  .i32(2390000) // open 23900
  .i32(2395000) // close 23950
  .i32(-36) // server "price change": not exposed
  .build();

const quoteBcd = new Bytes()
  .i32(USDINR_BSE)
  .i32(831234) // last 83.1234
  .i32(2147483653) // last qty 2^31 + 5 (unsigned)
  .i32(831000) // avg 83.1
  .i32(4294967295) // volume: max uint32
  .i32(10)
  .i32(20)
  .i32(830000) // open 83
  .i32(840000) // high 84
  .i32(820000) // low 82
  .i32(0) // close 0 -> change 0
  .build();

function fullCds(): Uint8Array {
  const b = new Bytes()
    .i32(USDINR_NSE)
    .i32(831234567) // last 83.1234567
    .i32(7)
    .i32(830000000) // avg 83
    .i32(3000000000) // volume > 2^31
    .i32(256443)
    .i32(363009)
    .i32(830000000) // open 83
    .i32(840000000) // high 84
    .i32(820000000) // low 82
    .i32(825000000) // close 82.5
    .i32(1625461887) // last trade time
    .i32(2147483648) // oi 2^31
    .i32(4000000000) // oi day high
    .i32(1) // oi day low
    .i32(0); // exchange timestamp 0 -> null
  for (let i = 0; i < 5; i++)
    b.i32(10 + i)
      .i32(831000000 - i * 2500)
      .u16(i + 1)
      .u16(0);
  for (let i = 0; i < 5; i++)
    b.i32(4294967295 - i)
      .i32(831500000 + i * 2500)
      .u16(65535 - i)
      .u16(0);
  return b.build();
}

describe('decoder', () => {
  it('decoder - LTP packet of NSE equity (divisor 100)', () => {
    expect(one(new Bytes().i32(INFY).i32(157315).build())).toEqual({
      tradable: true,
      mode: 'ltp',
      instrument_token: 408065,
      last_price: 1573.15,
      exchange: 'NSE',
    });
  });

  it('decoder - LTP prices use the segment divisor: NSE currency 1e7, BSE currency 1e4', () => {
    expect(one(new Bytes().i32(USDINR_NSE).i32(831234567).build())).toMatchObject({
      last_price: 83.1234567,
      exchange: 'CDS',
    });
    expect(one(new Bytes().i32(USDINR_BSE).i32(831234).build())).toMatchObject({
      last_price: 83.1234,
      exchange: 'BCD',
    });
  });

  it('decoder - prices are signed int32', () => {
    expect(one(new Bytes().i32(NFO).i32(-150).build()).last_price).toBe(-1.5);
    expect(one(new Bytes().i32(NFO).i32(-2147483648).build()).last_price).toBe(-21474836.48);
  });

  it('decoder - tokens are unsigned (>= 2^31)', () => {
    const token = 2 ** 31 + 0x101; // segment 1
    expect(one(new Bytes().i32(token).i32(100).build())).toMatchObject({
      instrument_token: 2147483905,
      exchange: 'NSE',
      last_price: 1,
    });
  });

  it('decoder - index quote packet (28): OHLC read in wire order high, low, open, close', () => {
    const tick = one(indexQuote) as IndexTick;
    expect(tick).toEqual({
      tradable: false,
      mode: 'quote',
      instrument_token: 256265,
      last_price: 24000.5,
      ohlc: { open: 23900, high: 24100, low: 23800, close: 23950 },
      change: ((24000.5 - 23950) * 100) / 23950,
      net_change: 50.5,
      exchange: 'INDICES',
    });
    expect('exchange_timestamp' in tick).toBe(false);
  });

  it('decoder - index full packet (32) carries the exchange timestamp; 0 reads as null', () => {
    const withTs = new Bytes().raw(indexQuote).i32(1625461887).build();
    const tick = one(withTs) as IndexTick;
    expect(tick.mode).toBe('full');
    expect(tick.exchange_timestamp).toEqual(new Date('2021-07-05T10:41:27+05:30'));
    expect(tick.ohlc).toEqual({ open: 23900, high: 24100, low: 23800, close: 23950 });
    const zero = one(new Bytes().raw(indexQuote).i32(0).build()) as IndexTick;
    expect(zero.exchange_timestamp).toBeNull();
  });

  it('decoder - quote packet (44), BSE currency divisor, unsigned quantities, close 0 -> change 0', () => {
    expect(one(quoteBcd)).toEqual({
      tradable: true,
      mode: 'quote',
      instrument_token: USDINR_BSE,
      last_price: 83.1234,
      last_traded_quantity: 2147483653,
      average_traded_price: 83.1,
      volume_traded: 4294967295,
      total_buy_quantity: 10,
      total_sell_quantity: 20,
      ohlc: { open: 83, high: 84, low: 82, close: 0 },
      change: 0,
      net_change: 0,
      exchange: 'BCD',
    } satisfies QuoteTick);
  });

  it('decoder - full packet (184) with depth, NSE currency divisor, unsigned OI/volume', () => {
    const tick = one(fullCds()) as FullTick;
    expect(tick).toEqual({
      tradable: true,
      mode: 'full',
      instrument_token: USDINR_NSE,
      last_price: 83.1234567,
      last_traded_quantity: 7,
      average_traded_price: 83,
      volume_traded: 3000000000,
      total_buy_quantity: 256443,
      total_sell_quantity: 363009,
      ohlc: { open: 83, high: 84, low: 82, close: 82.5 },
      change: ((83.1234567 - 82.5) * 100) / 82.5,
      last_trade_time: new Date(1625461887000),
      exchange_timestamp: null,
      oi: 2147483648,
      oi_day_high: 4000000000,
      oi_day_low: 1,
      depth: {
        buy: [
          { quantity: 10, price: 83.1, orders: 1 },
          { quantity: 11, price: 83.09975, orders: 2 },
          { quantity: 12, price: 83.0995, orders: 3 },
          { quantity: 13, price: 83.09925, orders: 4 },
          { quantity: 14, price: 83.099, orders: 5 },
        ],
        sell: [
          { quantity: 4294967295, price: 83.15, orders: 65535 },
          { quantity: 4294967294, price: 83.15025, orders: 65534 },
          { quantity: 4294967293, price: 83.1505, orders: 65533 },
          { quantity: 4294967292, price: 83.15075, orders: 65532 },
          { quantity: 4294967291, price: 83.151, orders: 65531 },
        ],
      },
      net_change: 83.1234567 - 82.5,
      exchange: 'CDS',
    } satisfies FullTick);
  });

  it('decoder - a mixed multi-packet frame decodes every packet in order', () => {
    const ltp = new Bytes().i32(INFY).i32(157315).build();
    const indexFull = new Bytes().raw(indexQuote).i32(1625461887).build();
    const { ticks, errors } = decodeAll(frame(ltp, indexQuote, fullCds(), quoteBcd, indexFull, ltp));
    expect(errors).toEqual([]);
    expect(ticks.map((t) => [t.instrument_token, t.mode, t.tradable])).toEqual([
      [INFY, 'ltp', true],
      [NIFTY, 'quote', false],
      [USDINR_NSE, 'full', true],
      [USDINR_BSE, 'quote', true],
      [NIFTY, 'full', false],
      [INFY, 'ltp', true],
    ]);
  });

  it('decoder - honours the byteOffset of a view into a larger buffer (as ws hands frames over)', () => {
    const bytes = frame(new Bytes().i32(INFY).i32(157315).build(), fullCds());
    const expected = decodeFrame(bytes);
    const view = offsetView(bytes);
    expect(view.byteOffset).toBeGreaterThan(0);
    expect(decodeFrame(view)).toEqual(expected);
    expect(decodeFrame(bytes.slice().buffer)).toEqual(expected);
    expect(expected[0]).toMatchObject({ instrument_token: INFY, last_price: 1573.15 });
  });

  it('decoder - consecutive frames sharing one buffer, or a reused/transferred buffer, decode correctly', () => {
    const a = frame(new Bytes().i32(INFY).i32(157315).build());
    const b = frame(new Bytes().i32(USDINR_BSE).i32(831234).build());
    const chunk = new Uint8Array(100);
    chunk.set(a, 3);
    chunk.set(b, 50);
    const viewA = chunk.subarray(3, 3 + a.length);
    const viewB = chunk.subarray(50, 50 + b.length);
    expect(decodeFrame(viewA)[0]).toMatchObject({ instrument_token: INFY, last_price: 1573.15 });
    expect(decodeFrame(viewB)[0]).toMatchObject({ instrument_token: USDINR_BSE, last_price: 83.1234 });
    chunk.set(b, 3); // the buffer is reused for the next frame: fresh bytes are read
    expect(decodeFrame(viewA)[0]).toMatchObject({ instrument_token: USDINR_BSE });
    const moved = structuredClone(chunk.buffer, { transfer: [chunk.buffer] }); // detaches `chunk`
    expect(decodeFrame(new Uint8Array(moved, 50, b.length))[0]).toMatchObject({ last_price: 83.1234 });
  });

  it('decoder - a 1-byte frame is a heartbeat: no ticks, no error', () => {
    const { ticks, errors } = decodeAll(Uint8Array.of(0x2a));
    expect(ticks).toEqual([]);
    expect(errors).toEqual([]);
    expect(isHeartbeat(Uint8Array.of(0))).toBe(true);
    expect(isHeartbeat(new ArrayBuffer(1))).toBe(true);
    expect(isHeartbeat(frame())).toBe(false);
  });

  it('decoder - a frame announcing 0 packets is empty and valid', () => {
    expect(decodeAll(frame())).toEqual({ ticks: [], errors: [] });
  });
});
