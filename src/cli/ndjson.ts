/**
 * The `--format ndjson` line shape, shared by `stream` and `replay`: the tick exactly as the library
 * delivers it (the official client's field names; Dates become ISO strings through Date#toJSON) plus
 * `apiKeyId`, the id of the key whose connection received it.
 */
import type { Tick } from '../protocol/types.js';
import { escapeJsonControls } from './terminal-text.js';

/** One line, without the trailing newline. */
export function tickToNdjson(tick: Tick, apiKeyId: string): string {
  const json = JSON.stringify(tick);
  // Appending to the object's text avoids copying the tick into a new object per line.
  return `${json.slice(0, -1)},"apiKeyId":${escapeJsonControls(JSON.stringify(apiKeyId))}}`;
}

/** What ndjson needs of an instrument list: token -> its exchange and trading symbol. */
export type SymbolLookup = (token: number) => { exchange: string; tradingsymbol: string } | undefined;

/**
 * A batch of ticks as newline-terminated lines, ready for one write. With `symbols`, a known
 * instrument's line carries `tradingsymbol`, and `exchange` becomes the list's (NSE for NIFTY 50,
 * whose packets say INDICES), so the pair reads back as the `EXCHANGE:TRADINGSYMBOL` the user typed.
 */
export function ticksToNdjson(ticks: readonly Tick[], apiKeyId: string, symbols?: SymbolLookup): string {
  // Key ids (a recording's sources) and symbols (an instruments list) come from files others may have
  // written: DEL, C1 and format characters are escaped like the C0 ones JSON.stringify escapes.
  const id = escapeJsonControls(JSON.stringify(apiKeyId));
  let out = '';
  for (const tick of ticks) {
    const ins = symbols?.(tick.instrument_token);
    if (ins === undefined) {
      const json = JSON.stringify(tick);
      out += `${json.slice(0, -1)},"apiKeyId":${id}}\n`;
      continue;
    }
    const json = JSON.stringify(tick.exchange === ins.exchange ? tick : { ...tick, exchange: ins.exchange });
    out += `${json.slice(0, -1)},"tradingsymbol":${escapeJsonControls(JSON.stringify(ins.tradingsymbol))},"apiKeyId":${id}}\n`;
  }
  return out;
}
