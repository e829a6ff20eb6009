/**
 * Instrument lists for tests: a small hand-made NIFTY/RELIANCE derivatives list with known expiries,
 * a generated large list (stands alone, no shared fixtures), and the shared kiteconnect mocks when
 * present.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatInstrumentsCsv } from '../../src/instruments/format.js';
import type { Instrument } from '../../src/instruments/types.js';
import { generateUniverse } from '../../src/simulator/universe.js';
import { mocksDir } from './fixtures.js';

export const HEADER =
  'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';

/** The shared kiteconnect mocks folder (see fixtures.ts: KITETICKER_SHARED_DIR overrides it). */
export const MOCKS_DIR = mocksDir();
/** The instrument CSVs among the shared mocks that exist here (empty on a fresh clone). */
export function mockInstrumentCsvs(): string[] {
  return ['instruments_all.csv', 'instruments_nse.csv', 'instruments_nfo.csv']
    .map((f) => resolve(MOCKS_DIR, f))
    .filter((p) => existsSync(p));
}

function row(
  partial: Partial<Instrument> & Pick<Instrument, 'instrument_token' | 'tradingsymbol'>,
): Instrument {
  return {
    exchange_token: partial.instrument_token >> 8,
    name: '',
    last_price: 0,
    expiry: '',
    strike: 0,
    tick_size: 0.05,
    lot_size: 1,
    instrument_type: 'EQ',
    segment: 'NSE',
    exchange: 'NSE',
    ...partial,
  };
}

/** NIFTY weekly + monthly options (strikes 23000..25000 by 50), futures, the index, and RELIANCE. */
export const NIFTY_EXPIRIES = ['2026-01-06', '2026-01-13', '2026-01-27', '2026-02-24'] as const;
export function derivativesList(): Instrument[] {
  const rows: Instrument[] = [
    row({
      instrument_token: 256265,
      tradingsymbol: 'NIFTY 50',
      name: 'NIFTY 50',
      segment: 'INDICES',
      last_price: 24010,
    }),
    row({ instrument_token: 260105, tradingsymbol: 'NIFTY BANK', name: 'NIFTY BANK', segment: 'INDICES' }),
    row({
      instrument_token: 738561,
      tradingsymbol: 'RELIANCE',
      name: 'RELIANCE INDUSTRIES',
      last_price: 2935,
    }),
    row({ instrument_token: 408065, tradingsymbol: 'INFY', name: 'INFOSYS' }),
  ];
  let token = 10_000_000;
  for (const expiry of NIFTY_EXPIRIES) {
    const code = `${expiry.slice(2, 4)}${Number(expiry.slice(5, 7))}${expiry.slice(8, 10)}`;
    if (expiry === '2026-01-27' || expiry === '2026-02-24') {
      const mon = expiry === '2026-01-27' ? 'JAN' : 'FEB';
      rows.push(
        row({
          instrument_token: token++,
          tradingsymbol: `NIFTY26${mon}FUT`,
          name: 'NIFTY',
          expiry,
          instrument_type: 'FUT',
          segment: 'NFO-FUT',
          exchange: 'NFO',
          lot_size: 75,
        }),
      );
    }
    for (let strike = 23000; strike <= 25000; strike += 50) {
      for (const t of ['CE', 'PE']) {
        rows.push(
          row({
            instrument_token: token++,
            tradingsymbol: `NIFTY${code}${strike}${t}`,
            name: 'NIFTY',
            expiry,
            strike,
            instrument_type: t,
            segment: 'NFO-OPT',
            exchange: 'NFO',
            lot_size: 75,
          }),
        );
      }
    }
  }
  // Stock options with an empty name (older dumps): the underlying comes from the symbol.
  for (let strike = 2800; strike <= 3100; strike += 20) {
    for (const t of ['CE', 'PE']) {
      rows.push(
        row({
          instrument_token: token++,
          tradingsymbol: `RELIANCE26JAN${strike}${t}`,
          expiry: '2026-01-27',
          strike,
          instrument_type: t,
          segment: 'NFO-OPT',
          exchange: 'NFO',
          lot_size: 250,
        }),
      );
    }
  }
  return rows;
}

export function derivativesCsv(): string {
  return formatInstrumentsCsv(derivativesList());
}

let big: string | undefined;
/** A generated 90,000-row list in Kite's CSV format (the simulator's universe, seed 7). */
export function generatedCsv(rows = 90_000): string {
  if (rows === 90_000 && big !== undefined) return big;
  const text = formatInstrumentsCsv(generateUniverse(rows, 7));
  if (rows === 90_000) big = text;
  return text;
}
