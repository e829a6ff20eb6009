import { describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import { LatestQuoteTable } from '../../src/stream/latest-quotes.js';

function ltp(token: number, price: number): Tick {
  return { mode: 'ltp', instrument_token: token, tradable: true, exchange: 'NSE', last_price: price };
}

describe('latest quotes', () => {
  it('latest quotes - keeps the newest tick of each token by reference', () => {
    const table = new LatestQuoteTable();
    const newest = ltp(1, 11);
    table.update([ltp(1, 10), ltp(2, 20)]);
    table.update([newest]);
    expect(table.size).toBe(2);
    expect(table.get(1)).toBe(newest);
    expect(table.get(2)?.last_price).toBe(20);
    expect(table.get(3)).toBeUndefined();
  });

  it('latest quotes - trackedOnly ignores untracked tokens and untrack removes quotes', () => {
    const table = new LatestQuoteTable({ trackedOnly: true });
    table.track([1, 2]);
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
});
