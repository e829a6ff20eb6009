/**
 * Reads the `.ktrec` recordings `kiteticker record` writes (format and writer: src/sinks/recorder/), for
 * `kiteticker replay`. A file that is not a recording is a usage error: the user named the wrong file.
 */
import { createReadStream } from 'node:fs';
import {
  FILE_HEADER_FIXED_LENGTH,
  MAX_RECORD_PAYLOAD,
  RECORD_HEADER_LENGTH,
  RECORDING_MAGIC,
  RECORDING_VERSION,
  type RecordEntry,
  type RecordingMetadata,
  RecordKind,
} from '../sinks/recorder/format.js';
import { UsageError } from './exit-codes.js';
import { checkRecordingMetadata, MAX_METADATA_BYTES } from './recording-metadata.js';

// The format's names, for the reader's users (replay, tests) in one import.
export * from '../sinks/recorder/format.js';

/**
 * Incremental parser: feed chunks in file order with `push`, each call returns the records it
 * completed. Chunk boundaries may fall anywhere. Throws `UsageError` when the input is not a recording
 * or its metadata is not of the written shape (recording-metadata.ts).
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
    if (metaLength > MAX_METADATA_BYTES)
      throw new UsageError(
        `corrupt recording header (metadata of ${metaLength} bytes; at most ${MAX_METADATA_BYTES})`,
      );
    if (buf.length < FILE_HEADER_FIXED_LENGTH + metaLength) return false;
    let meta: unknown;
    try {
      meta = JSON.parse(
        buf.toString('utf8', FILE_HEADER_FIXED_LENGTH, FILE_HEADER_FIXED_LENGTH + metaLength),
      );
    } catch {
      throw new UsageError('corrupt recording header (metadata is not JSON)');
    }
    this.meta = checkRecordingMetadata(meta);
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
    // The parser does not know the file's name: the user needs it (replay may be given several).
    if (error instanceof UsageError) throw new UsageError(`${path}: ${error.message}`, { cause: error });
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
