import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ExpiredInstrumentError,
  KiteTickerError,
  UnknownInstrumentError,
} from '../../src/errors.js';
import { InstrumentStore, parseInstrumentsCsv } from '../../src/instruments/index.js';
import { lastPublication } from '../../src/instruments/ist.js';
import { mocksGate } from '../helpers/fixtures.js';
import {
  derivativesCsv,
  generatedCsv,
  HEADER,
  mockInstrumentCsvs,
  NIFTY_EXPIRIES,
} from '../helpers/instrument-lists.js';

const mocks = mocksGate('instruments_all.csv', import.meta.url);

const TODAY = '2026-01-07'; // after the first weekly expiry (2026-01-06)

describe('instrument store', () => {
  const store = InstrumentStore.fromString(derivativesCsv(), { today: TODAY });

  it('instrument store - looks up by token and by EXCHANGE:TRADINGSYMBOL in any case, spaces allowed', () => {
    expect(store.get('nse:nifty 50').instrument_token).toBe(256265);
    expect(store.get('  NSE : NIFTY 50 ').instrument_token).toBe(256265);
    expect(store.byToken(738561)?.tradingsymbol).toBe('RELIANCE');
    expect(store.symbolOf(260105)).toBe('NSE:NIFTY BANK');
    expect(store.find('NSE:NOPE')).toBeUndefined();
  });

  it('instrument store - an unknown symbol is a typed error with the closest matches', () => {
    const err = (() => {
      try {
        store.get('NSE:RELIANC');
      } catch (e) {
        return e;
      }
    })() as UnknownInstrumentError;
    expect(err).toBeInstanceOf(UnknownInstrumentError);
    expect(err.code).toBe(ErrorCode.UnknownInstrument);
    expect(err.suggestions[0]).toBe('NSE:RELIANCE');
    expect(err.message).toMatch(/unknown instrument symbol: "NSE:RELIANC"; closest: NSE:RELIANCE/);
    // Wrong exchange: the suggestion names the right one.
    expect(() => store.get('NSE:NIFTY26JANFUT')).toThrow(/closest: NFO:NIFTY26JANFUT/);
  });

  it('instrument store - an expired derivative is a typed error unless allowed', () => {
    expect(() => store.get('NFO:NIFTY2610623000CE')).toThrow(ExpiredInstrumentError);
    expect(() => store.get('NFO:NIFTY2610623000CE')).toThrow(/expired on 2026-01-06 \(today is 2026-01-07/);
    expect(store.get('NFO:NIFTY2610623000CE', { allowExpired: true }).strike).toBe(23000);
    expect(store.get('NFO:NIFTY2611323000CE').expiry).toBe('2026-01-13');
  });

  it('instrument store - search ranks exact symbol, prefix, name; filters by exchange and type', () => {
    const hits = store.search('reliance', { limit: 3 });
    expect(hits[0]).toMatchObject({ tradingsymbol: 'RELIANCE', exchange: 'NSE' });
    expect(hits).toHaveLength(3);
    const ces = store.search('RELIANCE', { type: 'CE', exchange: 'NFO', limit: 100 });
    expect(ces.length).toBe(16);
    expect(ces.every((i) => i.instrument_type === 'CE')).toBe(true);
    expect(store.search('infosys')[0]?.tradingsymbol).toBe('INFY');
    expect(store.search('zzzz')).toEqual([]);
  });

  it('instrument store - expiries, nearest/next/monthly, futures of an underlying', () => {
    expect(store.expiries('NIFTY')).toEqual(NIFTY_EXPIRIES.slice(1));
    expect(store.expiry('nifty', 'nearest')).toBe('2026-01-13');
    expect(store.expiry('NIFTY', 'next')).toBe('2026-01-27');
    expect(store.expiry('NIFTY', 'monthly')).toBe('2026-01-27');
    expect(store.expiry('NIFTY', '2026-02-24')).toBe('2026-02-24');
    expect(() => store.expiry('NIFTY', '2026-01-06')).toThrow(/no expiry 2026-01-06 \(it is before today/);
    expect(() => store.expiry('NIFTY', 'soon')).toThrow(/nearest, next, monthly or YYYY-MM-DD/);
    expect(store.futures('NIFTY').map((f) => f.tradingsymbol)).toEqual(['NIFTY26JANFUT', 'NIFTY26FEBFUT']);
    // Names derived from the symbol when the dump leaves them empty.
    expect(store.expiries('RELIANCE')).toEqual(['2026-01-27']);
    expect(() => store.expiries('NIFTYY')).toThrow(/unknown underlying: "NIFTYY"; closest: NIFTY/);
  });

  it('instrument store - option chain: N strikes each side of the price, CE and PE', () => {
    const chain = store.optionChain('NIFTY', { price: 24010, strikes: 2 });
    expect(chain.expiry).toBe('2026-01-13');
    expect(chain.atm).toBe(24000);
    expect(chain.strikes.map((s) => s.strike)).toEqual([23900, 23950, 24000, 24050, 24100]);
    expect(chain.tokens).toHaveLength(10);
    expect(chain.strikes[2]!.ce!.tradingsymbol).toBe('NIFTY2611324000CE');
    expect(chain.strikes[2]!.pe!.tradingsymbol).toBe('NIFTY2611324000PE');
    // At the edge of the listed strikes the chain is one-sided.
    const low = store.optionChain('NIFTY', { price: 1000, strikes: 3, expiry: 'monthly' });
    expect(low.strikes.map((s) => s.strike)).toEqual([23000, 23050, 23100, 23150]);
    expect(low.expiry).toBe('2026-01-27');
  });

  it('instrument store - the spot of an underlying: index, equity, else nearest future', () => {
    expect(store.spotOf('NIFTY').tradingsymbol).toBe('NIFTY 50');
    expect(store.spotOf('reliance').tradingsymbol).toBe('RELIANCE');
    const noSpot = InstrumentStore.fromString(
      `${HEADER}\n1,1,ACME26JANFUT,ACME,0,2026-01-27,0,0.05,1,FUT,NFO-FUT,NFO\n2,2,ACME26FEBFUT,ACME,0,2026-02-24,0,0.05,1,FUT,NFO-FUT,NFO\n`,
      { today: TODAY },
    );
    expect(noSpot.spotOf('ACME').tradingsymbol).toBe('ACME26JANFUT');
  });
});

describe('instrument store - CSV edge cases', () => {
  it('instrument store - a BOM, CRLF line ends and quoted commas parse', () => {
    const text = `\ufeff${HEADER}\r\n408065,1594,INFY,"INFOSYS, LTD",0.0,,0.0,0.05,1,EQ,NSE,NSE\r\n256265,1001,NIFTY 50,"NIFTY ""50""",0.0,,0.0,0.0,0,EQ,INDICES,NSE\r\n`;
    const s = InstrumentStore.fromString(text);
    expect(s.size).toBe(2);
    expect(s.get('NSE:INFY').name).toBe('INFOSYS, LTD');
    expect(s.get('NSE:NIFTY 50').name).toBe('NIFTY "50"');
  });

  it('instrument store - a row with missing columns is an error naming the row', () => {
    const text = `${HEADER}\n408065,1594,INFY,INFOSYS,0.0,,0.0,0.05,1,EQ,NSE,NSE\n256265,1001,NIFTY 50,NIFTY 50,0.0\n`;
    expect(() => InstrumentStore.fromString(text)).toThrow(KiteTickerError);
    expect(() => InstrumentStore.fromString(text)).toThrow(
      /line 3: 5 fields, expected 12 \(missing expiry, strike/,
    );
    expect(() => InstrumentStore.fromString('instrument_token,tradingsymbol\n1,A\n')).toThrow(
      /header \(line 1\) has no "exchange_token" column/,
    );
  });

  it('instrument store - a quoted newline keeps later line numbers physical', () => {
    const text = `${HEADER}\n1,1,A,"two\nlines",0,,0,0.05,1,EQ,NSE,NSE\n2,2,B,x,0,,0,0.05,1,EQ,NSE\n`;
    expect(() => parseInstrumentsCsv(text)).toThrow(/line 4:/);
  });

  it('instrument store - a generated 90,000-row list loads with every token and symbol findable', () => {
    const text = generatedCsv();
    const s = InstrumentStore.fromString(text, { today: '2026-01-01' });
    expect(s.size).toBe(90_000);
    for (const ins of s.all().slice(0, 2000)) {
      expect(s.byToken(ins.instrument_token)).toBe(ins);
      expect(s.get(`${ins.exchange}:${ins.tradingsymbol.toLowerCase()}`, { allowExpired: true })).toBe(ins);
    }
    const chain = s.optionChain('NIFTY', { price: s.get('NSE:NIFTY 50').last_price, strikes: 5 });
    expect(chain.strikes).toHaveLength(11);
    expect(chain.expiry).toBe('2026-01-29');
  });

  it.skipIf(mocks.skip)(
    'instrument store - the shared kiteconnect-mocks instrument CSVs load and resolve',
    () => {
      for (const file of mockInstrumentCsvs()) {
        const s = InstrumentStore.fromString(readFileSync(file, 'utf8'));
        expect(s.size).toBeGreaterThan(0);
        for (const ins of s.all()) expect(s.find(`${ins.exchange}:${ins.tradingsymbol}`)).toBe(ins);
        // The mocks' derivatives expired years ago.
        const option = s.all().find((i) => i.instrument_type === 'CE');
        if (option)
          expect(() => s.get(`${option.exchange}:${option.tradingsymbol}`)).toThrow(ExpiredInstrumentError);
      }
    },
  );
});

describe('instrument store - publication clock', () => {
  it('instrument store - the latest publication is 08:30 IST today once passed, else yesterday', () => {
    // 03:00 UTC is 08:30 IST.
    expect(lastPublication(Date.parse('2026-01-07T03:00:00Z'))).toBe(Date.parse('2026-01-07T03:00:00Z'));
    expect(lastPublication(Date.parse('2026-01-07T02:59:59Z'))).toBe(Date.parse('2026-01-06T03:00:00Z'));
    // 20:00 UTC on the 6th is 01:30 IST on the 7th: the 7th's publication has not happened.
    expect(lastPublication(Date.parse('2026-01-06T20:00:00Z'))).toBe(Date.parse('2026-01-06T03:00:00Z'));
    expect(lastPublication(Date.parse('2026-01-07T05:00:00Z'), '10:00')).toBe(
      Date.parse('2026-01-07T04:30:00Z'),
    );
    expect(() => lastPublication(0, '25:00')).toThrow(/HH:MM/);
  });
});
