/**
 * Text that came from the network (server error and message frames, error messages quoting them, log
 * lines) or from a shared file (a recording's metadata, an instruments list) is printed by the CLI on a
 * terminal. A hostile server or file could put escape sequences in it to clear the screen, rewrite
 * earlier lines or set the clipboard (OSC 52), or bidi overrides that make the terminal show the text in
 * another order than it is, so every such character is shown as a visible escape instead.
 */
import { redact } from '../redact.js';

/**
 * C0 controls except tab, DEL, the C1 controls (U+0080-U+009F, which some terminals also obey), the
 * invisible Unicode format characters (category Cf: bidi embeddings, overrides and isolates
 * U+202A-U+202E and U+2066-U+2069, zero-width U+200B-U+200F, U+FEFF...) and the line and paragraph
 * separators U+2028/U+2029.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const UNSAFE = /[\x00-\x08\x0a-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');
/** What JSON.stringify leaves raw of the above (it escapes C0 itself). */
const UNSAFE_IN_JSON = /[\x7f-\x9f\p{Cf}\u2028\u2029]/gu;

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

function visible(char: string): string {
  const code = char.codePointAt(0)!;
  if (code === 0x0a) return '\\n';
  if (code === 0x0d) return '\\r';
  if (code <= 0xff) return `\\x${hex(code, 2)}`;
  if (code <= 0xffff) return `\\u${hex(code, 4)}`;
  return `\\u{${code.toString(16)}}`;
}

/**
 * `\x1b[2J` -> the literal text `\x1b[2J`, U+202E -> `\u202e`; newlines and carriage returns become `\n`
 * and `\r`. The result holds none of these characters, so escaping it again changes nothing.
 */
export function escapeControls(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, visible) : text;
}

/**
 * For JSON text printed on a terminal: JSON.stringify already escapes C0 controls (ESC included) but
 * leaves DEL, C1 and the format characters raw; this escapes those too (as `\uXXXX`, a surrogate pair
 * for those beyond U+FFFF). Outside strings JSON text is ASCII, so every match is inside a string and
 * the result parses to the same value.
 */
export function escapeJsonControls(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (char) => {
    let out = '';
    for (let i = 0; i < char.length; i++) out += `\\u${hex(char.charCodeAt(i), 4)}`;
    return out;
  });
}

/** One line for stderr or the live view: secrets removed (see src/redact.ts), then controls escaped. */
export function terminalLine(text: string, secrets: readonly (string | undefined)[] = []): string {
  return escapeControls(redact(text, secrets));
}
