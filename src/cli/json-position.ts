/**
 * Where a JSON text stops being valid, as line and column. JSON.parse's own message quotes a slice of
 * the input on newer Node versions (and the format differs between Node 20, 22 and 24); for a keys file
 * that slice may be an access token, so the CLI reports only the position, found by this scanner.
 * It is called only after JSON.parse has failed, and walks the text once without recursion.
 */

export interface TextPosition {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units. */
  column: number;
}

/** Offset of the first character that makes `text` invalid JSON (`text.length` if it ends early). */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const skipSpace = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  /** Reads a string starting at the quote; returns false at the first bad character. */
  const readString = (): boolean => {
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) {
          i = n;
          return false;
        }
        if (e === 'u') {
          for (let k = 2; k < 6; k++) {
            if (i + k >= n) {
              i = n;
              return false;
            }
            if (!/[0-9a-fA-F]/.test(text[i + k]!)) {
              i += k;
              return false;
            }
          }
          i += 6;
        } else if ('"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          return false;
        }
      } else i++;
    }
    return false;
  };
  const readNumber = (): boolean => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) {
      if (text[i] === '-') i++;
      return false;
    }
    i += m[0].length;
    return true;
  };
  const readLiteral = (): boolean => {
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return true;
      }
    }
    // Point at the first character that differs from every literal that could start here.
    for (const word of ['true', 'false', 'null']) {
      if (word[0] !== text[i]) continue;
      let k = 1;
      while (i + k < n && text[i + k] === word[k]) k++;
      i += k;
      return false;
    }
    return false;
  };
  const readValue = (): boolean => {
    const c = text[i];
    if (c === '"') return readString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return readNumber();
    return readLiteral();
  };

  // Containers are tracked on an explicit stack: a hostile file cannot exhaust the call stack.
  const stack: ('[' | '{')[] = [];
  skipSpace();
  for (;;) {
    skipSpace();
    if (i >= n) return n;
    const c = text[i];
    if (c === '[' || c === '{') {
      stack.push(c);
      i++;
      skipSpace();
      if (text[i] === (c === '[' ? ']' : '}')) {
        stack.pop();
        i++;
      } else if (c === '{') {
        if (text[i] !== '"') return Math.min(i, n);
        if (!readString()) return Math.min(i, n);
        skipSpace();
        if (text[i] !== ':') return Math.min(i, n);
        i++;
        continue;
      } else continue;
    } else if (!readValue()) return Math.min(i, n);
    // After a value: a separator, a closer, or the end.
    for (;;) {
      skipSpace();
      if (stack.length === 0) return i < n ? i : -1;
      const top = stack[stack.length - 1];
      if (i >= n) return n;
      if (text[i] === (top === '[' ? ']' : '}')) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ',') return i;
      i++;
      skipSpace();
      if (top === '{') {
        if (text[i] !== '"') return Math.min(i, n);
        if (!readString()) return Math.min(i, n);
        skipSpace();
        if (text[i] !== ':') return Math.min(i, n);
        i++;
      }
      break;
    }
  }
}

/** Line and column (1-based) of `offset` in `text`. */
export function positionOf(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}
