/**
 * Parsing and loading of Kite instruments CSV dumps into `Instrument` rows.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from '../errors.js';
import { scanCsv } from './csv.js';
import { INSTRUMENT_CSV_COLUMNS, type Instrument } from './types.js';

type Column = (typeof INSTRUMENT_CSV_COLUMNS)[number];

/**
 * Characters no Kite list holds and a terminal would obey rather than show: C0 controls other than
 * tab and line ends, DEL, C1, and the invisible format characters (bidi overrides, zero-width...). A
 * list from a hostile --api-url or a shared file could carry them in a trading symbol to every
 * screen, log and NATS subject it reaches. A leading byte-order mark is allowed.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

/**
 * Parses the text of a Kite instruments CSV (header row first). Columns are found by header name, so
 * their order does not matter and extra columns are ignored. Throws `InvalidArgumentError` naming the
 * line for a missing column (in the header, or a short row such as a truncated last line) or a
 * token/number that does not parse, or for a control or format character anywhere (a terminal escape
 * in a trading symbol); empty numeric cells read as 0.
 */
export function parseInstrumentsCsv(text: string): Instrument[] {
  refuseUnsafeCharacters(text);
  const out: Instrument[] = [];
  let col: Record<Column, number> | undefined;
  let width = 0;
  // Exchange, segment, type, expiry and option names repeat across ~100,000 rows: sharing one string
  // per value saves megabytes. Rows come grouped, so the previous row's value usually matches.
  const interned = new Map<string, string>();
  const intern = (s: string, previous: string | undefined): string => {
    if (s === previous) return previous;
    const known = interned.get(s);
    if (known !== undefined) return known;
    if (interned.size < 10_000) interned.set(s, s);
    return s;
  };
  let prev: Instrument | undefined;
  scanCsv(text, (row, line) => {
    if (col === undefined) {
      col = headerColumns(row);
      width = Math.max(...Object.values(col)) + 1;
      return;
    }
    const c = col;
    if (row.length < width) {
      throw new InvalidArgumentError(
        `instruments CSV line ${line}: ${row.length} fields, expected ${width} (missing ${INSTRUMENT_CSV_COLUMNS.filter((name) => c[name] >= row.length).join(', ')}); the file may be truncated`,
      );
    }
    const token = num(row, c, 'instrument_token', line);
    if (!Number.isInteger(token) || token < 0 || token > 0xffff_ffff) {
      throw new InvalidArgumentError(
        `instruments CSV line ${line}: instrument_token is not a whole number in 0..4294967295: ${JSON.stringify(cell(row, c.instrument_token))}`,
      );
    }
    const ins: Instrument = {
      instrument_token: token,
      exchange_token: num(row, c, 'exchange_token', line),
      tradingsymbol: cell(row, c.tradingsymbol),
      name: intern(cell(row, c.name), prev?.name),
      last_price: num(row, c, 'last_price', line),
      expiry: intern(cell(row, c.expiry), prev?.expiry),
      strike: num(row, c, 'strike', line),
      tick_size: num(row, c, 'tick_size', line),
      lot_size: num(row, c, 'lot_size', line),
      instrument_type: intern(cell(row, c.instrument_type), prev?.instrument_type),
      segment: intern(cell(row, c.segment), prev?.segment),
      exchange: intern(cell(row, c.exchange), prev?.exchange),
    };
    out.push(ins);
    prev = ins;
  });
  if (col === undefined) throw new InvalidArgumentError('instruments CSV is empty: expected a header row');
  return out;
}

/** One scan of the whole text (cheaper than one per field); throws naming the first line that has one. */
function refuseUnsafeCharacters(text: string): void {
  UNSAFE_CHAR.lastIndex = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const found = UNSAFE_CHAR.exec(text);
  if (found === null) return;
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < found.index; i = text.indexOf('\n', i + 1)) line++;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  throw new InvalidArgumentError(
    `instruments CSV line ${line}: holds the control or format character U+${code}, which no instruments list has`,
  );
}

/** A field without surrounding white space (trimmed only when there is some: the common case is none). */
function cell(row: readonly string[], i: number): string {
  const s = row[i]!;
  const n = s.length;
  return n > 0 && (s.charCodeAt(0) <= 32 || s.charCodeAt(n - 1) <= 32) ? s.trim() : s;
}

/** A numeric field; empty reads as 0. */
function num(row: readonly string[], col: Record<Column, number>, name: Column, line: number): number {
  const raw = cell(row, col[name]);
  if (raw === '') return 0;
  const v = +raw;
  if (!Number.isFinite(v)) {
    throw new InvalidArgumentError(
      `instruments CSV line ${line}: ${name} is not a number: ${JSON.stringify(raw)}`,
    );
  }
  return v;
}

function headerColumns(header: readonly string[]): Record<Column, number> {
  const index = new Map<string, number>();
  header.forEach((name, i) => {
    index.set(name.trim().toLowerCase(), i);
  });
  const col = {} as Record<Column, number>;
  const missing = INSTRUMENT_CSV_COLUMNS.filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      `instruments CSV header (line 1) has no "${missing[0]}" column${missing.length > 1 ? ` (also missing: ${missing.slice(1).join(', ')})` : ''}`,
    );
  }
  for (const name of INSTRUMENT_CSV_COLUMNS) col[name] = index.get(name)!;
  return col;
}

/** Reads and parses an instruments CSV file (UTF-8). */
export async function loadInstrumentsCsv(path: string): Promise<Instrument[]> {
  return parseInstrumentsCsv(await readFile(path, 'utf8'));
}
