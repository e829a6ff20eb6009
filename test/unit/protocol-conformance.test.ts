import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, encodeTicks, parseTextMessage } from '../../src/protocol/index.js';
import type { FullTick, QuoteTick, Tick } from '../../src/protocol/types.js';
import { mocksGate } from '../helpers/fixtures.js';
import { Bytes, frame } from './protocol-bytes.js';

const gate = mocksGate('ticker_full.packet', import.meta.url);
const MOCKS = gate.dir;
const haveMocks = !gate.skip;

/** The mocks' *.packet files are base64 text of one bare packet (kite-protocol.md 7). */
function mockPacket(name: string): Uint8Array {
  return Buffer.from(readFileSync(join(MOCKS, name), 'utf8').trim(), 'base64');
}
function mockJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(MOCKS, name), 'utf8'));
}

/** The mocks use the pre-v4 field names (kite-protocol.md 4.12). */
function expectWireFieldsEqual(tick: QuoteTick, json: Record<string, unknown>): void {
  expect(tick.mode).toBe(json.mode);
  expect(tick.tradable).toBe(json.tradable);
  expect(tick.instrument_token).toBe(json.instrument_token);
  expect(tick.last_price).toBe(json.last_price);
  expect(tick.last_traded_quantity).toBe(json.last_quantity);
  expect(tick.average_traded_price).toBe(json.average_price);
  expect(tick.volume_traded).toBe(json.volume);
  expect(tick.total_buy_quantity).toBe(json.buy_quantity);
  expect(tick.total_sell_quantity).toBe(json.sell_quantity);
  expect(tick.ohlc).toEqual(json.ohlc);
}

describe('conformance (kiteconnect-mocks)', () => {
  it.skipIf(!haveMocks)('codec - every wire field of ticker_full.packet equals ticker_full.json', () => {
    const [tick, ...rest] = decodeFrame(frame(mockPacket('ticker_full.packet'))) as FullTick[];
    expect(rest).toEqual([]);
    const json = mockJson('ticker_full.json');
    expectWireFieldsEqual(tick!, json);
    expect(tick!.last_trade_time?.getTime()).toBe(new Date(json.last_trade_time as string).getTime());
    expect(tick!.exchange_timestamp?.getTime()).toBe(new Date(json.timestamp as string).getTime());
    expect([tick!.oi, tick!.oi_day_high, tick!.oi_day_low]).toEqual([
      json.oi,
      json.oi_day_high,
      json.oi_day_low,
    ]);
    expect(tick!.depth).toEqual(json.depth);
    // The mock's `change` is absolute (Go semantics): that is our net_change; `change` is percent.
    expect(tick!.net_change).toBe(json.change);
    expect(tick!.change).toBe(0.3763235106518747);
  });

  it.skipIf(!haveMocks)('codec - every wire field of ticker_quote.packet equals ticker_quote.json', () => {
    const [tick] = decodeFrame(frame(mockPacket('ticker_quote.packet'))) as QuoteTick[];
    expectWireFieldsEqual(tick!, mockJson('ticker_quote.json'));
    // ticker_quote.json's change (5.9000...) is copied from the full mock and is wrong; computed by hand:
    expect(tick!.net_change).toBe(5.350000000000136);
    expect(tick!.change).toBe(0.3412425054216186);
  });

  it.skipIf(!haveMocks)('codec - the mock packets re-encode byte for byte', () => {
    for (const name of ['ticker_full.packet', 'ticker_quote.packet']) {
      const bytes = frame(mockPacket(name));
      expect([...encodeTicks(decodeFrame(bytes))]).toEqual([...bytes]);
    }
  });

  it.skipIf(!haveMocks)('codec - postback.json through parseTextMessage gives a typed order update', () => {
    const postback = mockJson('postback.json');
    const msg = parseTextMessage(JSON.stringify({ type: 'order', data: postback }));
    expect(msg).toEqual({ type: 'order', data: postback });
    if (msg?.type !== 'order') throw new Error('expected an order');
    expect(msg.data.order_id).toBe('220303000308932');
    expect(msg.data.instrument_token).toBe(779521);
    expect(msg.data.average_price).toBe(470);
  });
});

// The official parser is module-internal; KiteTicker#parseBinary exposes it. Constructing a KiteTicker
// opens no socket (connect() does), so this only calls the pure parser.
const require = createRequire(import.meta.url);
const { KiteTicker } = require('kiteconnect') as {
  KiteTicker: new (p: {
    api_key: string;
    access_token: string;
  }) => { parseBinary(b: ArrayBuffer): unknown[] };
};
const official = new KiteTicker({ api_key: 'test', access_token: 'test' });
const officialParse = (bytes: Uint8Array) => official.parseBinary(bytes.slice().buffer);

/** Our tick minus our two additions, for comparison with the official shape. */
function withoutAdditions(tick: Tick): Record<string, unknown> {
  const { exchange: _e, net_change: _n, ...rest } = tick as Tick & { net_change?: number };
  return rest;
}

function sampleTicks(): Tick[] {
  const full: FullTick = {
    tradable: true,
    mode: 'full',
    instrument_token: 1000 * 256 + 3,
    exchange: 'CDS',
    last_price: 83.1234567,
    last_traded_quantity: 7,
    average_traded_price: 83,
    volume_traded: 1_000_000,
    total_buy_quantity: 5,
    total_sell_quantity: 6,
    ohlc: { open: 83, high: 84, low: 82, close: 82.5 },
    change: 0,
    net_change: 0,
    last_trade_time: new Date(1_625_461_887_000),
    exchange_timestamp: null,
    oi: 12,
    oi_day_high: 13,
    oi_day_low: 11,
    depth: {
      buy: [1, 2, 3, 4, 5].map((k) => ({ quantity: k, price: 83 - k / 1000, orders: k })),
      sell: [1, 2, 3, 4, 5].map((k) => ({ quantity: k * 10, price: 83 + k / 1000, orders: 2 * k })),
    },
  };
  return [
    { tradable: true, mode: 'ltp', instrument_token: 408065, exchange: 'NSE', last_price: 1573.15 },
    { tradable: true, mode: 'ltp', instrument_token: 500 * 256 + 6, exchange: 'BCD', last_price: -1.25 },
    {
      tradable: false,
      mode: 'quote',
      instrument_token: 256265,
      exchange: 'INDICES',
      last_price: 24000.5,
      ohlc: { open: 23900, high: 24100, low: 23800, close: 23950 },
      change: 0,
      net_change: 0,
    },
    {
      tradable: false,
      mode: 'full',
      instrument_token: 265,
      exchange: 'INDICES',
      last_price: 80000,
      ohlc: { open: 79000, high: 81000, low: 78000, close: 79500 },
      change: 0,
      net_change: 0,
      exchange_timestamp: new Date(1_625_461_887_000),
    },
    full,
    { ...full, mode: 'quote', instrument_token: 408065, exchange: 'NSE', last_price: 1573.7 } as QuoteTick,
  ];
}

describe('conformance (official kiteconnect client)', () => {
  it('codec - equals the official parser field for field on the same frame (apart from our additions)', () => {
    const bytes = encodeTicks(sampleTicks());
    // The last sample is a full tick encoded as quote: its full-only fields are not on the wire.
    const ours = decodeFrame(bytes).map(withoutAdditions);
    expect(officialParse(bytes)).toEqual(ours);
    expect(ours).toHaveLength(6);
  });

  it.skipIf(!haveMocks)('codec - equals the official parser on the mock packets', () => {
    const bytes = encodeFrame([mockPacket('ticker_full.packet'), mockPacket('ticker_quote.packet')]);
    expect(officialParse(bytes)).toEqual(decodeFrame(bytes).map(withoutAdditions));
  });

  it('codec - differs from the official parser only where it is wrong: unsigned fields >= 2^31', () => {
    const packet = new Bytes()
      .i32(408065)
      .i32(157315)
      .i32(2 ** 31 + 1) // last traded quantity
      .i32(157000)
      .i32(3_000_000_000) // volume
      .i32(1)
      .i32(1)
      .i32(156915)
      .i32(157500)
      .i32(156105)
      .i32(156780)
      .build();
    const bytes = frame(packet);
    const [theirs] = officialParse(bytes) as QuoteTick[];
    const [ours] = decodeFrame(bytes) as QuoteTick[];
    expect(theirs!.volume_traded).toBe(3_000_000_000 - 2 ** 32); // negative: signed read
    expect(ours!.volume_traded).toBe(3_000_000_000);
    expect(ours!.last_traded_quantity).toBe(2 ** 31 + 1);
    expect({ ...withoutAdditions(ours!), volume_traded: 0, last_traded_quantity: 0 }).toEqual({
      ...theirs,
      volume_traded: 0,
      last_traded_quantity: 0,
    });
  });

  it('codec - index packet with close 0: official leaks the raw change field, ours is 0', () => {
    const packet = new Bytes().i32(256265).i32(2400050).i32(1).i32(1).i32(1).i32(0).i32(-36).build();
    const [theirs] = officialParse(frame(packet)) as { change: number }[];
    const [ours] = decodeFrame(frame(packet)) as { change: number; net_change: number }[];
    expect(theirs!.change).toBe(-36);
    expect(ours).toMatchObject({ change: 0, net_change: 0 });
  });
});
