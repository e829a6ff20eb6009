/**
 * The `.ktrec` recording format written by `kiteticker record` and read by `kiteticker replay`.
 * Streamable (append-only, no index, no footer) and robust to a truncated tail: a reader stops at the
 * last complete record and reports how many bytes it ignored. All integers are big-endian.
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
import { createReadStream } from 'node:fs';
import { UsageError } from './exit-codes.js';

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

/**
 * Incremental parser: feed chunks in file order with `push`, each call returns the records it
 * completed. Chunk boundaries may fall anywhere. Throws `UsageError` when the input is not a recording.
 */
export class RecordingParser {
  private pending: Buffer = Buffer.alloc(0);
  private offset = 0;
  private fileOffset = 0;
  private meta: RecordingMetadata | undefined;
  private corruptAt: number | undefined;

  get metadata(): RecordingMetadata | undefined {
    return this.meta;
  }

  /** File offset of a record that could not be valid (then parsing stopped); undefined if none. */
  get corruptOffset(): number | undefined {
    return this.corruptAt;
  }

  /** Bytes received but not part of a complete record (the truncated tail, once input has ended). */
  get leftoverBytes(): number {
    return this.pending.length - this.offset;
  }

  push(chunk: Uint8Array): RecordEntry[] {
    if (this.corruptAt !== undefined) return [];
    const rest = this.pending.subarray(this.offset);
    this.pending = rest.length === 0 ? Buffer.from(chunk) : Buffer.concat([rest, chunk]);
    this.offset = 0;
    const out: RecordEntry[] = [];
    if (this.meta === undefined && !this.readHeader()) return out;
    const buf = this.pending;
    while (buf.length - this.offset >= RECORD_HEADER_LENGTH) {
      const at = this.offset;
      const time = buf.readDoubleBE(at);
      const length = buf.readUInt32BE(at + 8);
      const kind = buf[at + 12]!;
      const source = buf[at + 13]!;
      const connection = buf.readUInt16BE(at + 14);
      if ((kind !== RecordKind.Binary && kind !== RecordKind.Text) || length > MAX_RECORD_PAYLOAD) {
        this.corruptAt = this.fileOffset + at;
        break;
      }
      if (buf.length - at - RECORD_HEADER_LENGTH < length) break;
      const start = at + RECORD_HEADER_LENGTH;
      out.push({
        time,
        kind: kind as RecordKind,
        source,
        connection,
        payload: buf.subarray(start, start + length),
      });
      this.offset = start + length;
    }
    this.fileOffset += this.offset;
    // Keep only the incomplete tail so the next concat copies little.
    this.pending = this.pending.subarray(this.offset);
    this.offset = 0;
    return out;
  }

  private readHeader(): boolean {
    const buf = this.pending;
    const magicLength = Math.min(buf.length, RECORDING_MAGIC.length);
    if (buf.toString('latin1', 0, magicLength) !== RECORDING_MAGIC.slice(0, magicLength)) {
      throw new UsageError('not a kiteticker recording (bad magic bytes)');
    }
    if (buf.length < FILE_HEADER_FIXED_LENGTH) return false;
    const version = buf.readUInt16BE(8);
    if (version !== RECORDING_VERSION) throw new UsageError(`unsupported recording version ${version}`);
    const metaLength = buf.readUInt32BE(10);
    if (metaLength > MAX_RECORD_PAYLOAD) throw new UsageError('corrupt recording header');
    if (buf.length < FILE_HEADER_FIXED_LENGTH + metaLength) return false;
    let meta: unknown;
    try {
      meta = JSON.parse(
        buf.toString('utf8', FILE_HEADER_FIXED_LENGTH, FILE_HEADER_FIXED_LENGTH + metaLength),
      );
    } catch {
      throw new UsageError('corrupt recording header (metadata is not JSON)');
    }
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new UsageError('corrupt recording header (metadata is not an object)');
    }
    const m = meta as RecordingMetadata;
    if (!Array.isArray(m.sources)) m.sources = [];
    this.meta = m;
    this.offset = FILE_HEADER_FIXED_LENGTH + metaLength;
    return true;
  }
}

export type RecordingEvent =
  | { type: 'header'; metadata: RecordingMetadata }
  | ({ type: 'record' } & RecordEntry)
  | { type: 'end'; records: number; truncatedBytes: number; corruptOffset: number | undefined };

/**
 * Streams a recording file: a 'header' event, one 'record' per frame, then 'end' with what was
 * ignored at the tail. Throws `UsageError` when the file cannot be read or is not a recording.
 */
export async function* readRecording(path: string): AsyncGenerator<RecordingEvent> {
  const parser = new RecordingParser();
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let headerSent = false;
  let records = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const entries = parser.push(chunk);
      if (!headerSent && parser.metadata !== undefined) {
        headerSent = true;
        yield { type: 'header', metadata: parser.metadata };
      }
      for (const e of entries) {
        records++;
        yield {
          type: 'record',
          time: e.time,
          kind: e.kind,
          source: e.source,
          connection: e.connection,
          payload: e.payload,
        };
      }
      if (parser.corruptOffset !== undefined) break;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`cannot read recording ${path}: ${code}`, { cause: error });
  } finally {
    stream.destroy();
  }
  if (parser.metadata === undefined) throw new UsageError(`${path}: not a kiteticker recording (too short)`);
  yield {
    type: 'end',
    records,
    truncatedBytes: parser.corruptOffset === undefined ? parser.leftoverBytes : 0,
    corruptOffset: parser.corruptOffset,
  };
}
