/**
 * Text that came from the network (server error and message frames, error messages quoting them, log
 * lines) is printed by the CLI on a terminal. A hostile server could put escape sequences in it to clear
 * the screen, rewrite earlier lines or set the clipboard (OSC 52), so every control character is shown
 * as a visible escape instead of being sent to the terminal.
 */
import { redact } from '../redact.js';

/** C0 controls except tab, DEL, and the C1 controls (U+0080-U+009F, which some terminals also obey). */
function isControl(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f);
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, '0');
}

/** `\x1b[2J` -> the literal text `\x1b[2J`; newlines and carriage returns become `\n` and `\r`. */
export function escapeControls(text: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code)) continue;
    out += text.slice(from, i);
    out += code === 0x0a ? '\\n' : code === 0x0d ? '\\r' : `\\x${hex(code, 2)}`;
    from = i + 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * For JSON text printed on a terminal: JSON.stringify already escapes C0 controls (ESC included) but
 * leaves DEL and C1 raw; this escapes those too. The result parses to the same value.
 */
export function escapeJsonControls(json: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < json.length; i++) {
    const code = json.charCodeAt(i);
    if (code < 0x7f || code > 0x9f) continue;
    out += `${json.slice(from, i)}\\u${hex(code, 4)}`;
    from = i + 1;
  }
  return from === 0 ? json : out + json.slice(from);
}

/** One line for stderr or the live view: secrets removed (see src/redact.ts), then controls escaped. */
export function terminalLine(text: string, secrets: readonly (string | undefined)[] = []): string {
  return escapeControls(redact(text, secrets));
}
