import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseInstrumentsCsv } from '../../src/instruments/index.js';
import { DIVISOR_BY_SEGMENT, type Mode } from '../../src/protocol/constants.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import type { FullTick, IndexTick, Tick } from '../../src/protocol/types.js';
import { FrameBuilder } from '../../src/simulator/frames.js';
import { Market } from '../../src/simulator/market.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { generateUniverse } from '../../src/simulator/universe.js';
import { mocksGate } from '../helpers/fixtures.js';

const START = 1_700_000_000;

function frameOf(market: Market, items: Array<[number, Mode]>): Buffer {
  const b = new FrameBuilder(64);
  for (const [i, mode] of items) b.append(market, i, mode);
  const frames = b.take();
  expect(frames).toHaveLength(1);
  return frames[0]!;
}

describe('simulator universe', () => {
  it('simulator - universe is deterministic for a seed and differs across seeds', () => {
    const a = generateUniverse(3000, 7);
    expect(generateUniverse(3000, 7)).toEqual(a);
    const b = generateUniverse(3000, 8);
    expect(b.map((r) => r.tradingsymbol)).not.toEqual(a.map((r) => r.tradingsymbol));
  });

  it('simulator - default universe: 30 000 unique tokens, token = exchange_token*256 + segment, every segment', () => {
    const u = generateUniverse();
    expect(u).toHaveLength(30_000);
    expect(new Set(u.map((r) => r.instrument_token)).size).toBe(30_000);
    const segs = new Map<number, number>();
    // Plain checks collected, not 30 000 expect() calls (slow).
    const bad: string[] = [];
    for (const r of u) {
      const seg = r.instrument_token & 0xff;
      if (r.instrument_token !== r.exchange_token * 256 + seg) bad.push(`token ${r.instrument_token}`);
      if (r.instrument_token > 0xffff_ffff) bad.push(`range ${r.instrument_token}`);
      segs.set(seg, (segs.get(seg) ?? 0) + 1);
      // Tradable prices are positive and on the tick grid.
      const off = Math.abs(r.last_price / r.tick_size - Math.round(r.last_price / r.tick_size));
      if (seg !== 9 && (!(r.last_price > 0) || off > 1e-6))
        bad.push(`price ${r.tradingsymbol} ${r.last_price}`);
    }
    expect(bad).toEqual([]);
    for (const seg of [1, 2, 3, 4, 6, 7, 9]) expect(segs.get(seg) ?? 0).toBeGreaterThan(0);
    const bySymbol = new Map(u.map((r) => [`${r.exchange}:${r.tradingsymbol}`, r]));
    expect(new Set(bySymbol.keys()).size).toBe(30_000);
    expect(bySymbol.get('NSE:NIFTY 50')!.instrument_token).toBe(256265);
    expect(bySymbol.get('NSE:NIFTY BANK')!.instrument_token).toBe(260105);
    expect(bySymbol.get('BSE:SENSEX')!.instrument_token).toBe(265);
    expect(bySymbol.get('NSE:INFY')!.instrument_token).toBe(408065);
    const usd = u.find((r) => r.tradingsymbol === 'USDINR26JANFUT' && r.exchange === 'CDS')!;
    expect(usd.instrument_token & 0xff).toBe(3);
    expect(usd.last_price).toBeGreaterThan(80);
    expect(usd.last_price).toBeLessThan(90);
    expect(u.some((r) => r.segment === 'NFO-OPT' && r.instrument_type === 'PE')).toBe(true);
    expect(u.some((r) => r.segment === 'MCX-FUT')).toBe(true);
    expect(u.some((r) => r.exchange === 'BCD')).toBe(true);
  });

  it('simulator - small universes keep the indices first and exact size', () => {
    expect(generateUniverse(3).map((r) => r.instrument_token)).toEqual([256265, 260105, 265]);
    expect(generateUniverse(137)).toHaveLength(137);
  });
});

describe('simulator market', () => {
  const universe = generateUniverse(3000, 3);
  const pick = (pred: (r: (typeof universe)[number]) => boolean) => universe.findIndex(pred);

  it('simulator - every packet decodes with decodeFrame to the tick the market meant, all kinds and segments', () => {
    const market = new Market(universe, 3, START);
    const chosen = [
      pick((r) => r.instrument_token === 256265), // index
      pick((r) => r.instrument_token === 408065), // NSE cash
      pick((r) => r.exchange === 'BSE' && r.segment === 'BSE'),
      pick((r) => r.segment === 'NFO-OPT'),
      pick((r) => r.segment === 'NFO-FUT'),
      pick((r) => r.exchange === 'CDS'), // divisor 1e7
      pick((r) => r.exchange === 'BCD'), // divisor 1e4
      pick((r) => r.exchange === 'MCX'),
    ];
    expect(chosen.every((i) => i >= 0)).toBe(true);
    for (let step = 0; step < 50; step++) {
      for (const i of chosen) market.advance(i, START + step);
      const items: Array<[number, Mode]> = [];
      for (const i of chosen) for (const mode of ['ltp', 'quote', 'full'] as const) items.push([i, mode]);
      const errors: unknown[] = [];
      const ticks = decodeFrame(frameOf(market, items), (e) => errors.push(e));
      expect(errors).toEqual([]);
      expect(ticks).toEqual(items.map(([i, mode]) => market.tick(i, mode)));
    }
  });

  it('simulator - currency prices keep four decimals through the 1e7 and 1e4 divisors', () => {
    const market = new Market(universe, 3, START);
    for (const exchange of ['CDS', 'BCD']) {
      const i = pick((r) => r.exchange === exchange && r.instrument_type === 'FUT');
      const row = universe[i]!;
      const [tick] = decodeFrame(frameOf(market, [[i, 'full']])) as FullTick[];
      expect(DIVISOR_BY_SEGMENT[row.instrument_token & 0xff]).toBe(exchange === 'CDS' ? 1e7 : 1e4);
      expect(tick!.ohlc.close).toBeCloseTo(row.last_price, 6);
      expect(tick!.last_price).toBeGreaterThan(50);
      expect(Math.round(tick!.last_price * 1e4) / 1e4).toBeCloseTo(tick!.last_price, 8);
    }
  });

  it('simulator - random walk keeps OHLC, depth, volume and OI consistent', () => {
    const market = new Market(universe, 11, START);
    const sample = Array.from({ length: 300 }, (_, k) => k * 10);
    for (let step = 1; step <= 200; step++) {
      for (const i of sample) market.advance(i, START + step);
    }
    for (const i of sample) {
      const t = market.tick(i, 'full');
      expect(t.last_price).toBeGreaterThan(0);
      if (market.isIndex(i)) {
        const x = t as IndexTick;
        expect(x.ohlc.high).toBeGreaterThanOrEqual(x.last_price);
        expect(x.ohlc.low).toBeLessThanOrEqual(x.last_price);
        expect(x.exchange_timestamp!.getTime()).toBe((START + 200) * 1000);
        continue;
      }
      const f = t as FullTick;
      const { open, high, low } = f.ohlc;
      expect(high).toBeGreaterThanOrEqual(Math.max(f.last_price, open));
      expect(low).toBeLessThanOrEqual(Math.min(f.last_price, open));
      expect(f.average_traded_price).toBeGreaterThanOrEqual(low - 1e-9);
      expect(f.average_traded_price).toBeLessThanOrEqual(high + 1e-9);
      expect(f.volume_traded).toBeGreaterThan(200);
      expect(f.last_traded_quantity).toBeGreaterThan(0);
      expect(f.last_trade_time!.getTime()).toBe((START + 200) * 1000);
      // Best bid below best offer; bids descending, offers ascending.
      expect(f.depth.buy[0]!.price).toBeLessThan(f.depth.sell[0]!.price);
      for (let k = 1; k < 5; k++) {
        if (f.depth.buy[k]!.price > 0) expect(f.depth.buy[k]!.price).toBeLessThan(f.depth.buy[k - 1]!.price);
        expect(f.depth.sell[k]!.price).toBeGreaterThan(f.depth.sell[k - 1]!.price);
      }
      const bidQty = f.depth.buy.reduce((s, l) => s + l.quantity, 0);
      expect(f.total_buy_quantity).toBeGreaterThanOrEqual(bidQty);
      const row = universe[i]!;
      if (['FUT', 'CE', 'PE'].includes(row.instrument_type)) {
        expect(f.oi).toBeGreaterThan(0);
        expect(f.oi_day_high).toBeGreaterThanOrEqual(f.oi);
        expect(f.oi_day_low).toBeLessThanOrEqual(f.oi);
      } else {
        expect([f.oi, f.oi_day_high, f.oi_day_low]).toEqual([0, 0, 0]);
      }
      // Prices stay on the instrument's tick grid.
      const tickSize = row.tick_size;
      expect(Math.abs(f.last_price / tickSize - Math.round(f.last_price / tickSize))).toBeLessThan(1e-6);
    }
  });

  it('simulator - same seed gives the same path; a different seed a different one', () => {
    const run = (seed: number): Tick[] => {
      const m = new Market(universe, seed, START);
      const out: Tick[] = [];
      for (let s = 0; s < 20; s++) {
        for (const i of [0, 5, 50, 500]) {
          m.advance(i, START);
          out.push(m.tick(i, 'full'));
        }
      }
      return out;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });

  it('simulator - an instrument path does not depend on which others are advanced', () => {
    const a = new Market(universe, 9, START);
    const b = new Market(universe, 9, START);
    for (let s = 0; s < 30; s++) {
      a.advance(42, START);
      for (let i = 0; i < 100; i++) b.advance(i, START);
    }
    expect(a.tick(42, 'full')).toEqual(b.tick(42, 'full'));
  });

  it('simulator - CSV instruments with last_price 0 get a seeded price; unknown tokens are -1', () => {
    const rows = parseInstrumentsCsv(
      'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n3813889,14898,CENTRALBK-BE,CENTRAL BANK OF INDIA,0.0,,0.0,0.05,1,EQ,NSE,NSE\n',
    );
    const m = new Market(rows, 1, START);
    expect(m.indexOf(3813889)).toBe(0);
    expect(m.indexOf(1)).toBe(-1);
    const t = m.tick(0, 'quote');
    expect(t.last_price).toBeGreaterThan(0);
    expect(new Market(rows, 1, START).tick(0, 'quote')).toEqual(t);
  });

  it('simulator - frame builder splits at 65535 packets', () => {
    const market = new Market(universe.slice(0, 10), 1, START);
    const b = new FrameBuilder(16);
    for (let k = 0; k < 70_000; k++) b.append(market, k % 10, 'ltp');
    expect(b.packets).toBe(70_000);
    const frames = b.take();
    expect(frames.map((f) => f.readUInt16BE(0))).toEqual([65_535, 4_465]);
    expect(decodeFrame(frames[1]!)).toHaveLength(4_465);
    expect(b.take()).toEqual([]);
  });
});

describe('simulator options', () => {
  const gate = mocksGate('instruments_all.csv', import.meta.url);
  const csv = resolve(gate.dir, 'instruments_all.csv');

  it('simulator - bad options get a typed InvalidArgumentError', () => {
    expect(() => new KiteSimulator({ universeSize: 10, heartbeatIntervalMs: 0 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new KiteSimulator({ universeSize: 10, maxConnectionsPerKey: 1.5 })).toThrow(
      /maxConnectionsPerKey/,
    );
    expect(() => new KiteSimulator({ universeSize: 10, ticksPerSecond: -1 })).toThrow(/ticksPerSecond/);
    expect(() => new KiteSimulator({ universeSize: 10, blast: { packetsPerFrame: 0 } })).toThrow(
      /packetsPerFrame/,
    );
    expect(() => new KiteSimulator({ universeSize: 0 })).toThrow(/universeSize/);
    expect(() => new KiteSimulator({ seed: 1.5, universeSize: 10 })).toThrow(/seed/);
  });

  it('simulator - url before start throws ERR_NOT_STARTED; snapshot works without starting', () => {
    const sim = new KiteSimulator({ universeSize: 10 });
    expect(() => sim.url).toThrow(expect.objectContaining({ code: 'ERR_NOT_STARTED' }));
    expect(sim.port).toBe(0);
    expect(sim.snapshot(256265, 'quote')).toMatchObject({
      instrument_token: 256265,
      mode: 'quote',
      tradable: false,
    });
    expect(sim.snapshot(1)).toBeUndefined();
    expect(sim.instruments()).toHaveLength(10);
  });

  it.skipIf(gate.skip)('simulator - loads a Kite instruments CSV as its universe', () => {
    const sim = new KiteSimulator({ instrumentsCsv: csv });
    expect(sim.instruments()).toHaveLength(99);
    const t = sim.snapshot(3813889, 'full') as FullTick;
    expect(t.last_price).toBeGreaterThan(0);
    expect(t.depth.sell[0]!.price).toBeGreaterThan(t.depth.buy[0]!.price);
  });
});
