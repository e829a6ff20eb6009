import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/exit-codes.js';
import { ticksToNdjson } from '../../src/cli/ndjson.js';
import {
  describeRecenter,
  followRows,
  parseChainSpec,
  parseWatchlist,
  resolveChainConfig,
  resolveWithStore,
} from '../../src/cli/stream-instruments.js';
import type { QuoteRow } from '../../src/cli/view.js';
import { InstrumentStore } from '../../src/instruments/store.js';
import type { Tick } from '../../src/protocol/types.js';
import { derivativesCsv } from '../helpers/instrument-lists.js';

describe('cli chain config', () => {
  it('cli chain config - UNDERLYING[:EXPIRY][:N] with defaults nearest and 10', () => {
    expect(parseChainSpec('nifty')).toEqual({ underlying: 'NIFTY', expiry: 'nearest', strikes: 10 });
    expect(parseChainSpec('BANKNIFTY:next')).toEqual({
      underlying: 'BANKNIFTY',
      expiry: 'next',
      strikes: 10,
    });
    expect(parseChainSpec('NIFTY:2026-01-27:5')).toEqual({
      underlying: 'NIFTY',
      expiry: '2026-01-27',
      strikes: 5,
    });
    expect(parseChainSpec('NIFTY:5')).toEqual({ underlying: 'NIFTY', expiry: 'nearest', strikes: 5 });
    expect(parseChainSpec('NIFTY::3')).toEqual({ underlying: 'NIFTY', expiry: 'nearest', strikes: 3 });
    expect(parseChainSpec('NIFTY:Monthly')).toMatchObject({ expiry: 'monthly' });
    expect(() => parseChainSpec('')).toThrow(UsageError);
    expect(() => parseChainSpec('NIFTY:2026-02-30')).toThrow(/expiry must be/);
    expect(() => parseChainSpec('NIFTY:next:0')).toThrow(/N: expected a whole number from 1 to 500/);
    expect(() => parseChainSpec('A:b:1:2')).toThrow(/UNDERLYING\[:EXPIRY\]\[:N\]/);
    expect(resolveChainConfig({ chain: ['NIFTY'], follow: true, recenterStrikes: '3' })).toMatchObject({
      follow: true,
      recenterStrikes: 3,
    });
    expect(() => resolveChainConfig({ follow: true })).toThrow(/--follow needs --chain/);
  });

  it('cli chain config - a watchlist keeps spaces inside symbols and drops comments and blanks', () => {
    expect(parseWatchlist('\ufeff# head\r\nNSE:NIFTY 50\r\n\n 408065 # infy\n#x\nNFO:NIFTY26JANFUT')).toEqual(
      ['NSE:NIFTY 50', '408065', 'NFO:NIFTY26JANFUT'],
    );
  });

  it('cli chain config - resolution lists every unknown or expired symbol with its closest matches', () => {
    const store = InstrumentStore.fromString(derivativesCsv(), { today: '2026-01-07' });
    expect(resolveWithStore(['nse:nifty 50', '256265', '408065'], store, 'args')).toEqual([256265, 408065]);
    expect(() => resolveWithStore(['NSE:INFYY', 'NFO:NIFTY2610623000CE'], store, 'args')).toThrow(
      /2 instruments not found:\n {2}unknown instrument symbol: "NSE:INFYY"; closest: NSE:INFY\n {2}NFO:NIFTY2610623000CE expired on 2026-01-06/,
    );
    expect(() => resolveWithStore(['INFY'], store, 'watch.txt')).toThrow(
      /invalid instrument "INFY" \(watch\.txt\)/,
    );
  });

  it('cli chain config - ndjson lines carry tradingsymbol and the list exchange when the token is known', () => {
    const ticks = [
      { mode: 'ltp', instrument_token: 256265, tradable: false, exchange: 'INDICES', last_price: 1 },
      { mode: 'ltp', instrument_token: 99, tradable: true, exchange: 'NSE', last_price: 2 },
    ] as Tick[];
    const lookup = (t: number) => (t === 256265 ? { exchange: 'NSE', tradingsymbol: 'NIFTY 50' } : undefined);
    const [a, b] = ticksToNdjson(ticks, 'k', lookup)
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(a).toMatchObject({
      instrument_token: 256265,
      exchange: 'NSE',
      tradingsymbol: 'NIFTY 50',
      apiKeyId: 'k',
    });
    expect(b).toEqual({
      mode: 'ltp',
      instrument_token: 99,
      tradable: true,
      exchange: 'NSE',
      last_price: 2,
      apiKeyId: 'k',
    });
  });

  it('cli chain config - the live view rows follow a re-centre within the row limit', () => {
    const rows: QuoteRow[] = [1, 2, 3].map((token) => ({
      token,
      symbol: `S${token}`,
      tick: undefined,
      receivedAt: undefined,
    }));
    const byToken = new Map(rows.map((r) => [r.token, r]));
    const e = {
      underlying: 'X',
      expiry: '2026-01-13',
      from: 1,
      to: 2,
      price: 2,
      added: [4, 5, 6],
      removed: [2],
      skipped: [],
    };
    followRows(rows, byToken, e, { symbolOf: (t) => `N:${t}` }, 4);
    expect(rows.map((r) => r.symbol)).toEqual(['S1', 'S3', 'N:4', 'N:5']);
    expect([...byToken.keys()].sort()).toEqual([1, 3, 4, 5]);
    expect(describeRecenter(e)).toBe('chain X 2026-01-13: re-centred 1 -> 2 (price 2; +3 -1)');
  });
});
