/**
 * A small RFC 4180 CSV reader: quoted fields, doubled quotes inside quotes, commas and newlines inside
 * quotes, CRLF or LF line ends. Kite's dump is plain, but names such as "TATA STEEL, LTD" could be quoted,
 * and a hand-made fixture should not break the loader.
 *
 * Fields are cut with `slice` between delimiters found by `charCodeAt`, never built a character at a
 * time: Kite's dump is ~100,000 rows and the loader has a 300 ms budget for it.
 */

const COMMA = 44;
const QUOTE = 34;
const LF = 10;
const CR = 13;

/**
 * Calls `onRow(fields, line)` for every row, `line` being the 1-based physical line where the row
 * starts (a quoted newline makes a row span lines). Blank lines are skipped; a trailing newline adds no
 * row; a byte-order mark is dropped. A quote only opens a quoted field at the start of the field; text
 * after a closing quote (malformed) is kept, as a spreadsheet would.
 */
export function scanCsv(text: string, onRow: (fields: string[], line: number) => void): void {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark from spreadsheet exports
  let line = 1;
  while (i < n) {
    const rowLine = line;
    const fields: string[] = [];
    let quotedAny = false;
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        quotedAny = true;
        value = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            // Unterminated quote: the rest of the text is the field.
            value += text.slice(j);
            j = n;
            break;
          }
          value += text.slice(j, q);
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            j = q + 2;
            continue;
          }
          j = q + 1;
          break;
        }
        line += countNewlines(value);
        i = j;
        // Malformed text after the closing quote belongs to the field.
        let k = i;
        while (k < n) {
          const c = text.charCodeAt(k);
          if (c === COMMA || c === LF || c === CR) break;
          k++;
        }
        if (k > i) value += text.slice(i, k);
        i = k;
      } else {
        let k = i;
        while (k < n) {
          const c = text.charCodeAt(k);
          if (c === COMMA || c === LF || c === CR) break;
          k++;
        }
        value = text.slice(i, k);
        i = k;
      }
      fields.push(value);
      if (i >= n) break;
      const c = text.charCodeAt(i);
      if (c === COMMA) {
        i++;
        if (i >= n) {
          fields.push('');
          break;
        }
        continue;
      }
      // End of line: CRLF, LF or a lone CR.
      i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      break;
    }
    if (fields.length === 1 && fields[0] === '' && !quotedAny) continue;
    onRow(fields, rowLine);
  }
}

function countNewlines(s: string): number {
  let count = 0;
  for (let at = s.indexOf('\n'); at >= 0; at = s.indexOf('\n', at + 1)) count++;
  if (count === 0 && s.includes('\r')) count = s.split('\r').length - 1;
  return count;
}

/** Splits CSV text into rows of fields (see `scanCsv`). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  scanCsv(text, (fields) => {
    rows.push(fields);
  });
  return rows;
}
