/**
 * The `.ktrec` recording format written by `kiteticker record` and read by `kiteticker replay`.
 * Streamable (append-only, no index, no footer) and robust to a truncated tail: a reader stops at the
 * last complete record and reports how many bytes it ignored (the reader: src/cli/recording.ts).
 * All integers are big-endian.
 *
 * File header:
 *   0   8  magic, ASCII "KTRECORD"
 *   8   2  u16 format version (1)
 *   10  4  u32 M = length of the metadata
 *   14  M  metadata, UTF-8 JSON (RecordingMetadata; never holds an access token)
 * Then records, back to back:
 *   0   8  f64 receive time, epoch milliseconds (fractional)
 *   8   4  u32 L = payload length
 *   12  1  u8 kind: 0 = binary frame (a Kite market-data frame as received), 1 = text frame (UTF-8)
 *   13  1  u8 source: index into metadata.sources (the API key id the frame came from); 255 = unknown
 *   14  2  u16 connection index within that key (0-based); 65535 = unknown
 *   16  L  payload
 */
export const RECORDING_MAGIC = 'KTRECORD';
export const RECORDING_VERSION = 1;
export const FILE_HEADER_FIXED_LENGTH = 14;
export const RECORD_HEADER_LENGTH = 16;
/** Larger payloads are taken as corruption (a real frame is at most ~560 KB; see kite-protocol.md 2). */
export const MAX_RECORD_PAYLOAD = 64 * 1024 * 1024;
export const UNKNOWN_SOURCE = 255;
export const UNKNOWN_CONNECTION = 0xffff;

export const RecordKind = { Binary: 0, Text: 1 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

export interface RecordingMetadata {
  /** ISO time the recording started. */
  createdAt: string;
  /** Who wrote it, e.g. "kiteticker 0.1.0". */
  tool: string;
  /** "simulator" or the endpoint URL without its query string. */
  endpoint: string;
  /** The subscription mode. */
  mode: string;
  /** API key ids; a record's `source` byte indexes this list. */
  sources: string[];
  /** Instruments subscribed. */
  instruments?: number;
  /** The live view's quote selection: token and EXCHANGE:TRADINGSYMBOL (when known). */
  quoteSymbols?: { token: number; symbol: string }[];
  [extra: string]: unknown;
}

export interface RecordEntry {
  /** Epoch ms the frame was received. */
  time: number;
  kind: RecordKind;
  source: number;
  /** Connection index within the source key; UNKNOWN_CONNECTION when not known. */
  connection: number;
  /** A view into the reader's buffer: copy it to keep it beyond the next read. */
  payload: Uint8Array;
}

const encoder = new TextEncoder();

export function encodeFileHeader(metadata: RecordingMetadata): Uint8Array {
  const json = encoder.encode(JSON.stringify(metadata));
  const out = new Uint8Array(FILE_HEADER_FIXED_LENGTH + json.length);
  out.set(encoder.encode(RECORDING_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint16(8, RECORDING_VERSION);
  view.setUint32(10, json.length);
  out.set(json, FILE_HEADER_FIXED_LENGTH);
  return out;
}

/** Writes a record header into `target` (length >= 16) and returns it. */
export function writeRecordHeader(
  target: Uint8Array,
  time: number,
  kind: RecordKind,
  source: number,
  connection: number,
  payloadLength: number,
): Uint8Array {
  const view = new DataView(target.buffer, target.byteOffset, RECORD_HEADER_LENGTH);
  view.setFloat64(0, time);
  view.setUint32(8, payloadLength);
  view.setUint8(12, kind);
  view.setUint8(13, source);
  view.setUint16(14, connection);
  return target;
}

/** One whole record (header + payload) in a new array; the writer avoids this copy. */
export function encodeRecord(
  time: number,
  kind: RecordKind,
  source: number,
  connection: number,
  payload: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(RECORD_HEADER_LENGTH + payload.length);
  writeRecordHeader(out, time, kind, source, connection, payload.length);
  out.set(payload, RECORD_HEADER_LENGTH);
  return out;
}
