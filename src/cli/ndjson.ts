/**
 * The `--format ndjson` line shape, shared by `stream` and `replay`: the tick exactly as the library
 * delivers it (the official client's field names; Dates become ISO strings through Date#toJSON) plus
 * `apiKeyId`, the id of the key whose connection received it.
 */
import type { Tick } from '../protocol/types.js';

/** One line, without the trailing newline. */
export function tickToNdjson(tick: Tick, apiKeyId: string): string {
  const json = JSON.stringify(tick);
  // Appending to the object's text avoids copying the tick into a new object per line.
  return `${json.slice(0, -1)},"apiKeyId":${JSON.stringify(apiKeyId)}}`;
}

/** A batch of ticks as newline-terminated lines, ready for one write. */
export function ticksToNdjson(ticks: readonly Tick[], apiKeyId: string): string {
  const id = JSON.stringify(apiKeyId);
  let out = '';
  for (const tick of ticks) {
    const json = JSON.stringify(tick);
    out += `${json.slice(0, -1)},"apiKeyId":${id}}\n`;
  }
  return out;
}
