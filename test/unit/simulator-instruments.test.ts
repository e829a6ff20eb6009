import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KiteTickerError } from '../../src/errors.js';
import { InstrumentIndex, parseCsv, parseInstrumentsCsv, parseSymbol } from '../../src/instruments/index.js';
import { mocksGate } from '../helpers/fixtures.js';

const gate = mocksGate('instruments_all.csv', import.meta.url);
const mocks = gate.dir;
const haveMocks = !gate.skip;

const HEADER =
  'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

describe('instruments', () => {
  it('instruments - csv reader handles quotes, doubled quotes, embedded commas/newlines and CRLF', () => {
    const rows = parseCsv('a,"b,1","say ""hi""",\r\n"multi\nline",,"",x\n\n');
    expect(rows).toEqual([
      ['a', 'b,1', 'say "hi"', ''],
      ['multi\nline', '', '', 'x'],
    ]);
    expect(parseCsv('\ufeffh1,h2\n1,2')).toEqual([
      ['h1', 'h2'],
      ['1', '2'],
    ]);
  });

  it('instruments - parses an inline CSV with quoted fields and an empty expiry', () => {
    const text = [
      HEADER,
      '408065,1594,INFY,"INFOSYS, LTD",1573.7,,0.0,0.05,1,EQ,NSE,NSE',
      '12517890,48898,NIFTY25JAN24000CE,,120.5,2025-01-30,24000.0,0.05,75,CE,NFO-OPT,NFO',
      '256265,1001,NIFTY 50,NIFTY 50,0.0,,0.0,0.0,0,EQ,INDICES,NSE',
    ].join('\n');
    const rows = parseInstrumentsCsv(text);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toEqual({
      instrument_token: 408065,
      exchange_token: 1594,
      tradingsymbol: 'INFY',
      name: 'INFOSYS, LTD',
      last_price: 1573.7,
      expiry: '',
      strike: 0,
      tick_size: 0.05,
      lot_size: 1,
      instrument_type: 'EQ',
      segment: 'NSE',
      exchange: 'NSE',
    });
    expect(rows[1]).toMatchObject({
      expiry: '2025-01-30',
      strike: 24000,
      lot_size: 75,
      instrument_type: 'CE',
    });
    expect(rows[2]!.tradingsymbol).toBe('NIFTY 50');
  });

  it('instruments - columns are found by name, in any order, extra columns ignored', () => {
    const cols = HEADER.split(',').reverse();
    const text = `extra,${cols.join(',')}\nzzz,NSE,NSE,EQ,1,0.05,0.0,,10.5,ACME,ACME,42,10753\n`;
    const [row] = parseInstrumentsCsv(text);
    expect(row).toMatchObject({
      instrument_token: 10753,
      exchange_token: 42,
      tradingsymbol: 'ACME',
      last_price: 10.5,
    });
  });

  it('instruments - bad input gets a typed error naming the line', () => {
    expect(() => parseInstrumentsCsv('')).toThrow(KiteTickerError);
    expect(() => parseInstrumentsCsv('instrument_token,tradingsymbol\n1,A')).toThrow(
      /no "exchange_token" column/,
    );
    expect(() => parseInstrumentsCsv(`${HEADER}\n12x,1,A,,0,,0,0.05,1,EQ,NSE,NSE`)).toThrow(
      /line 2.*instrument_token/,
    );
    expect(() => parseInstrumentsCsv(`${HEADER}\n-5,1,A,,0,,0,0.05,1,EQ,NSE,NSE`)).toThrow(/line 2/);
  });

  it('instruments - symbol lookup both ways, case-insensitive, with spaces in symbols', () => {
    const idx = new InstrumentIndex(
      parseInstrumentsCsv(
        `${HEADER}\n408065,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE\n256265,1001,NIFTY 50,,0,,0,0,0,EQ,INDICES,NSE\n128053508,500209,INFY,INFOSYS,0,,0,0.05,1,EQ,BSE,BSE`,
      ),
    );
    expect(idx.size).toBe(3);
    expect(idx.tokenOf('NSE:INFY')).toBe(408065);
    expect(idx.tokenOf('bse:infy')).toBe(128053508);
    expect(idx.tokenOf('NSE:NIFTY 50')).toBe(256265);
    expect(idx.tokenOf('NSE:NOPE')).toBeUndefined();
    expect(idx.symbolOf(256265)).toBe('NSE:NIFTY 50');
    expect(idx.resolve(['NSE:INFY', 'NSE:NOPE'])).toEqual({ tokens: [408065], missing: ['NSE:NOPE'] });
    expect(() => idx.resolveAll(['NSE:NOPE', 'BSE:X'])).toThrow(
      /unknown instrument symbols: "NSE:NOPE", "BSE:X"/,
    );
    expect(() => idx.tokenOf('INFY')).toThrow(/EXCHANGE:TRADINGSYMBOL/);
    expect(parseSymbol('NSE:M&M')).toEqual({ exchange: 'NSE', tradingsymbol: 'M&M' });
  });

  it.skipIf(!haveMocks)(
    'instruments - parses the kiteconnect-mocks CSVs (99 rows each, tokens consistent)',
    () => {
      for (const file of ['instruments_all.csv', 'instruments_nse.csv']) {
        const rows = parseInstrumentsCsv(readFileSync(resolve(mocks, file), 'utf8'));
        expect(rows).toHaveLength(99);
        for (const r of rows) {
          // token = exchange_token * 256 + segment id, on every row of the mocks (kite-protocol.md 4.4)
          expect(Math.floor(r.instrument_token / 256)).toBe(r.exchange_token);
          expect(r.tradingsymbol.length).toBeGreaterThan(0);
          expect(r.tick_size).toBeGreaterThan(0);
        }
        expect(new Set(rows.map((r) => r.instrument_token)).size).toBe(99);
      }
      const all = parseInstrumentsCsv(readFileSync(resolve(mocks, 'instruments_all.csv'), 'utf8'));
      const bySeg = (id: number) => all.filter((r) => (r.instrument_token & 0xff) === id).length;
      expect([bySeg(1), bySeg(2), bySeg(4)]).toEqual([55, 25, 19]);
      const opt = all.find((r) => r.segment === 'NFO-OPT')!;
      expect(opt.expiry).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(['CE', 'PE']).toContain(opt.instrument_type);
      const idx = new InstrumentIndex(all);
      expect(idx.tokenOf('NSE:CENTRALBK-BE')).toBe(3813889);
    },
  );
});
