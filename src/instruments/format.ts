/**
 * Writes instruments as Kite's CSV (`GET /instruments`): the same header and column order, floats
 * written as Kite writes them (`0.0`, `24000.0`), fields quoted only when they must be.
 */
import { INSTRUMENT_CSV_COLUMNS, type Instrument } from './types.js';

export const INSTRUMENT_CSV_HEADER = INSTRUMENT_CSV_COLUMNS.join(',');

function float(n: number): string {
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

function text(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function formatInstrumentRow(i: Instrument): string {
  return [
    String(i.instrument_token),
    String(i.exchange_token),
    text(i.tradingsymbol),
    text(i.name),
    float(i.last_price),
    text(i.expiry),
    float(i.strike),
    float(i.tick_size),
    String(i.lot_size),
    text(i.instrument_type),
    text(i.segment),
    text(i.exchange),
  ].join(',');
}

/** The whole CSV, header first, one row per line, LF line ends, a final newline. */
export function formatInstrumentsCsv(rows: Iterable<Instrument>): string {
  const lines = [INSTRUMENT_CSV_HEADER];
  for (const r of rows) lines.push(formatInstrumentRow(r));
  return `${lines.join('\n')}\n`;
}
