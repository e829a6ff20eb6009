import { describe, expect, it } from 'vitest';
import { LatestQuoteTable } from '../../src/delivery/latest-quotes.js';
import { decodeFrame, encodeTicks } from '../../src/protocol/index.js';
import type { FullTick, Tick } from '../../src/protocol/types.js';
import { contractTicks } from './contract-ticks.js';

function ltp(token: number, price: number): Tick {
  return { mode: 'ltp', instrument_token: token, tradable: true, exchange: 'NSE', last_price: price };
}

describe('latest quotes', () => {
  it('latest quotes - keeps the newest tick of each token', () => {
    const table = new LatestQuoteTable();
    const newest = ltp(1, 11);
    table.update([ltp(1, 10), ltp(2, 20)]);
    table.update([newest]);
    expect(table.size).toBe(2);
    expect(table.get(1)).toStrictEqual(newest);
    expect(table.get(2)?.last_price).toBe(20);
    expect(table.get(3)).toBeUndefined();
  });

  it('latest quotes - trackedOnly ignores untracked tokens and untrack removes quotes', () => {
    const table = new LatestQuoteTable({ trackedOnly: true });
    table.track([1, 2]);
    // Tracked but no tick yet: no quote.
    expect([table.size, table.has(1), table.get(1), [...table.entries()]]).toEqual([0, false, undefined, []]);
    table.update([ltp(1, 10), ltp(2, 20), ltp(3, 30)]);
    expect([...table.snapshot().keys()].sort()).toEqual([1, 2]);
    table.untrack([2]);
    expect(table.has(2)).toBe(false);
    // A tick in flight after the unsubscribe does not bring the instrument back.
    table.update([ltp(2, 21)]);
    table.set(ltp(2, 22));
    expect(table.get(2)).toBeUndefined();
    expect(table.size).toBe(1);
  });

  it('latest quotes - snapshot is a copy', () => {
    const table = new LatestQuoteTable();
    table.set(ltp(5, 1));
    const snap = table.snapshot();
    table.set(ltp(6, 2));
    expect(snap.size).toBe(1);
    expect([...table.entries()].map(([t]) => t)).toEqual([5, 6]);
    table.clear();
    expect(table.size).toBe(0);
  });

  it('latest quotes - a tick read back is the decoded tick: every kind, same keys in order, Dates as Dates', () => {
    const decoded = decodeFrame(encodeTicks(contractTicks()));
    const table = new LatestQuoteTable();
    table.update(decoded);
    expect(table.size).toBe(decoded.length);
    for (const tick of decoded) {
      const read = table.get(tick.instrument_token)!;
      expect(read).toStrictEqual(tick);
      expect(JSON.stringify(read)).toBe(JSON.stringify(tick));
      const full = read as FullTick;
      if (full.last_trade_time) expect(full.last_trade_time).toBeInstanceOf(Date);
      if (full.exchange_timestamp) expect(full.exchange_timestamp).toBeInstanceOf(Date);
    }
    expect([...table.entries()].map(([, t]) => t)).toStrictEqual(decoded);
    expect([...table.snapshot().values()]).toStrictEqual(decoded);
  });

  it('latest quotes - keeps values, not the tick objects: later changes to a tick do not show', () => {
    const [tick] = decodeFrame(encodeTicks(contractTicks().slice(0, 1))) as FullTick[];
    const table = new LatestQuoteTable();
    table.set(tick!);
    const before = structuredClone(tick!);
    tick!.last_price = -1;
    tick!.depth.buy[0]!.quantity = -1;
    tick!.last_trade_time!.setTime(0);
    const read = table.get(tick!.instrument_token) as FullTick;
    expect(read).not.toBe(tick);
    expect(read).toStrictEqual(before);
    // Each read is a fresh object: a reader changing it cannot change the table either.
    read.ohlc.close = 0;
    expect(table.get(tick!.instrument_token)).toStrictEqual(before);
  });

  it('latest quotes - a token switching kinds reads back as its newest kind', () => {
    const [full, , , ltpTick] = decodeFrame(encodeTicks(contractTicks()));
    const table = new LatestQuoteTable();
    table.set(full!);
    table.set({ ...ltpTick!, instrument_token: full!.instrument_token, exchange: 'NSE' });
    expect(table.get(full!.instrument_token)).toStrictEqual({
      tradable: true,
      mode: 'ltp',
      instrument_token: full!.instrument_token,
      last_price: ltpTick!.last_price,
      exchange: 'NSE',
    });
    table.set(full!);
    expect(table.get(full!.instrument_token)).toStrictEqual(full);
  });

  it('latest quotes - an exchange other than the segment one (hand-made tick) is kept until a tick says otherwise', () => {
    const table = new LatestQuoteTable();
    table.set({ ...ltp(256 + 1, 1), exchange: 'BSE' }); // segment 1 is NSE
    expect(table.get(257)?.exchange).toBe('BSE');
    table.set(ltp(257, 2));
    expect(table.get(257)?.exchange).toBe('NSE');
  });

  it('latest quotes - a tick of no known shape is kept as given', () => {
    const odd = { ...ltp(7, 1), mode: 'quote', extra: true } as unknown as Tick;
    const table = new LatestQuoteTable();
    table.set(odd);
    expect(table.get(7)).toBe(odd);
    table.set(ltp(7, 2));
    expect(table.get(7)).toStrictEqual(ltp(7, 2));
  });

  it('latest quotes - storage grows past its first size and reuses the slots of untracked tokens', () => {
    const table = new LatestQuoteTable({ trackedOnly: true });
    const tokens = Array.from({ length: 1000 }, (_, i) => i + 1);
    table.track(tokens);
    table.update(tokens.map((t) => ltp(t, t / 2)));
    table.untrack(tokens.slice(0, 500));
    table.track([5001, 5002]);
    table.update([ltp(5001, 1), ltp(5002, 2), ltp(1, 99)]);
    expect(table.size).toBe(502);
    expect(table.get(1)).toBeUndefined();
    expect(table.get(5002)?.last_price).toBe(2);
    for (const t of tokens.slice(500)) expect(table.get(t)?.last_price).toBe(t / 2);
    table.clear();
    expect(table.size).toBe(0);
    table.set(ltp(3, 3));
    expect(table.size).toBe(0); // clear() also forgot the tracked tokens
  });
});
