/**
 * The shape check of a recording's metadata. A `.ktrec` file is shared data (it is passed around to be
 * replayed), so its metadata is untrusted: every field `replay` prints or indexes must have the written
 * type and a bounded size, or the file is refused as a usage error naming the field, instead of an
 * internal TypeError (`c.padEnd is not a function`) surfacing from wherever the value is used.
 */
import type { RecordingMetadata } from '../sinks/recorder/format.js';
import { UsageError } from './exit-codes.js';

/** Longer metadata is refused before it is parsed (a real header is a few kilobytes). */
export const MAX_METADATA_BYTES = 1024 * 1024;
/** Longest accepted text field (a timestamp, a mode, an endpoint without its query, a key id, a symbol). */
export const MAX_METADATA_TEXT = 1024;
/** Most entries accepted in `sources` and `quoteSymbols` (record writes at most --quotes 1000 symbols). */
export const MAX_METADATA_ENTRIES = 10_000;

function bad(field: string, expected: string): UsageError {
  return new UsageError(`bad recording metadata: ${field} must be ${expected}`);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length > MAX_METADATA_TEXT)
    throw bad(field, `a string of at most ${MAX_METADATA_TEXT} characters`);
  return value;
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value) || value.length > MAX_METADATA_ENTRIES)
    throw bad(field, `an array of at most ${MAX_METADATA_ENTRIES} entries`);
  return value;
}

function wholeNumber(value: unknown, field: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw bad(field, `a whole number in 0..${max}`);
  return value;
}

/**
 * Returns `value` as metadata when every known field has its type; throws `UsageError` naming the first
 * field that does not. `sources` may be missing (read as none); unknown fields are kept, never printed.
 */
export function checkRecordingMetadata(value: unknown): RecordingMetadata {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError('corrupt recording header (metadata is not an object)');
  const m = value as Record<string, unknown>;
  for (const field of ['createdAt', 'tool', 'endpoint', 'mode'] as const) text(m[field], field);
  if (m.sources === undefined) m.sources = [];
  list(m.sources, 'sources').forEach((id, i) => {
    text(id, `sources[${i}]`);
  });
  if (m.instruments !== undefined) wholeNumber(m.instruments, 'instruments', Number.MAX_SAFE_INTEGER);
  if (m.quoteSymbols !== undefined) {
    list(m.quoteSymbols, 'quoteSymbols').forEach((q, i) => {
      if (typeof q !== 'object' || q === null || Array.isArray(q))
        throw bad(`quoteSymbols[${i}]`, 'an object with token and symbol');
      const entry = q as Record<string, unknown>;
      wholeNumber(entry.token, `quoteSymbols[${i}].token`, 0xffff_ffff);
      text(entry.symbol, `quoteSymbols[${i}].symbol`);
    });
  }
  return m as RecordingMetadata;
}
