/**
 * Parsing and loading of Kite instruments CSV dumps into `Instrument` rows.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import { parseCsv } from './csv.js';
import { INSTRUMENT_CSV_COLUMNS, type Instrument } from './types.js';

type Column = (typeof INSTRUMENT_CSV_COLUMNS)[number];

/**
 * Parses the text of a Kite instruments CSV (header row first). Columns are found by header name, so
 * their order does not matter and extra columns are ignored. Throws `InvalidArgumentError` naming the
 * line for a missing column or a token/number that does not parse; empty numeric cells read as 0.
 */
export function parseInstrumentsCsv(text: string): Instrument[] {
  const rows = parseCsv(text);
  const header = rows[0];
  if (!header) throw new InvalidArgumentError('instruments CSV is empty: expected a header row');
  const index = new Map<string, number>();
  header.forEach((name, i) => {
    index.set(name.trim().toLowerCase(), i);
  });
  const col = {} as Record<Column, number>;
  for (const name of INSTRUMENT_CSV_COLUMNS) {
    const i = index.get(name);
    if (i === undefined) throw new InvalidArgumentError(`instruments CSV has no "${name}" column`);
    col[name] = i;
  }
  const out: Instrument[] = [];
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r]!;
    const line = r + 1;
    const cell = (name: Column): string => (row[col[name]] ?? '').trim();
    const num = (name: Column): number => {
      const raw = cell(name);
      if (raw === '') return 0;
      const v = Number(raw);
      if (!Number.isFinite(v)) {
        throw new InvalidArgumentError(
          `instruments CSV line ${line}: ${name} is not a number: ${JSON.stringify(raw)}`,
        );
      }
      return v;
    };
    const token = num('instrument_token');
    if (!Number.isInteger(token) || token < 0 || token > 0xffff_ffff) {
      throw new InvalidArgumentError(
        `instruments CSV line ${line}: instrument_token is not a whole number in 0..4294967295: ${JSON.stringify(cell('instrument_token'))}`,
      );
    }
    out.push({
      instrument_token: token,
      exchange_token: num('exchange_token'),
      tradingsymbol: cell('tradingsymbol'),
      name: cell('name'),
      last_price: num('last_price'),
      expiry: cell('expiry'),
      strike: num('strike'),
      tick_size: num('tick_size'),
      lot_size: num('lot_size'),
      instrument_type: cell('instrument_type'),
      segment: cell('segment'),
      exchange: cell('exchange'),
    });
  }
  return out;
}

/** Reads and parses an instruments CSV file (UTF-8). */
export async function loadInstrumentsCsv(path: string): Promise<Instrument[]> {
  return parseInstrumentsCsv(await readFile(path, 'utf8'));
}
