/**
 * Guards for server text frames, which a hostile or broken server controls entirely. `JSON.parse` copes
 * with any nesting, but almost everything done with the result afterwards (`JSON.stringify`, `String()`
 * of an array, `join`) recurses and throws `RangeError: Maximum call stack size exceeded` at a few
 * thousand levels. Kite's own messages nest 3 levels deep, so frames past `MAX_TEXT_NESTING` are refused
 * before anyone sees them, and whatever is rendered into a report or log line is cut to a bounded size.
 */

/** Deepest nesting of arrays/objects accepted in a server text frame (Kite's postbacks use 3). */
export const MAX_TEXT_NESTING = 32;

/** Longest server-provided text (an `error` frame's message) passed on as is. */
export const MAX_RENDERED_TEXT = 4096;

/**
 * True when the JSON text nests arrays/objects deeper than `max`. One linear pass without recursion;
 * brackets inside strings do not count. Meant for text that `JSON.parse` accepted.
 */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character (an escaped quote does not end the string)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** `text` cut to `max` characters, saying how much was left out. */
export function boundText(text: string, max: number = MAX_RENDERED_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}... (${text.length - max} more characters)` : text;
}

/**
 * Any value as bounded text: strings as they are, anything else as JSON. Never throws: a value that
 * cannot be rendered (a cycle or extreme nesting from a caller, a throwing toJSON) becomes a placeholder.
 */
export function renderBounded(value: unknown, max: number = MAX_RENDERED_TEXT): string {
  if (typeof value === 'string') return boundText(value, max);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return '[unrenderable value]';
  }
  return boundText(text ?? String(typeof value), max);
}
