/**
 * A small RFC 4180 CSV reader: quoted fields, doubled quotes inside quotes, commas and newlines inside
 * quotes, CRLF or LF line ends. Kite's dump is plain, but names such as "TATA STEEL, LTD" could be quoted,
 * and a hand-made fixture should not break the loader.
 */

/** Splits CSV text into rows of fields. Blank lines are skipped; a trailing newline adds no row. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let inQuotes = false;
  // Whether the current field started with a quote; used to keep `""` (an explicit empty) as a field.
  let fieldStarted = false;
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark from spreadsheet exports
  for (; i < n; i++) {
    const c = text[i];
    if (inQuotes) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          inQuotes = false;
        }
      } else {
        field += c;
      }
      continue;
    }
    if (c === '"' && !fieldStarted && field.length === 0) {
      inQuotes = true;
      fieldStarted = true;
    } else if (c === ',') {
      row.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (!(row.length === 1 && row[0] === '' && !fieldStarted)) rows.push(row);
      row = [];
      field = '';
      fieldStarted = false;
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (field.length > 0 || fieldStarted || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
