/**
 * Appends records to a `.ktrec` file (format: format.ts) through one write stream. The source of
 * frames cannot be paused, so when the disk falls behind by more than `maxBufferedBytes` the writer
 * drops whole frames and counts them (reported in the summary) instead of growing without bound.
 */
import { createWriteStream, fchmod, type WriteStream } from 'node:fs';
import {
  encodeFileHeader,
  RECORD_HEADER_LENGTH,
  type RecordingMetadata,
  type RecordKind,
  UNKNOWN_CONNECTION,
  UNKNOWN_SOURCE,
  writeRecordHeader,
} from './format.js';

export interface RecordingWriterOptions {
  /** Bytes queued in memory before frames are dropped. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Replace an existing file. Default false: opening fails with EEXIST rather than lose a recording. */
  overwrite?: boolean;
}

export class RecordingWriter {
  readonly path: string;
  private readonly stream: WriteStream;
  private readonly maxBuffered: number;
  private readonly sourceIndex = new Map<string, number>();
  private failure: Error | undefined;
  /** Records written (queued to the file). */
  records = 0;
  /** Payload + header bytes written. */
  bytes = 0;
  /** Frames dropped because the file could not keep up. */
  dropped = 0;

  private constructor(
    path: string,
    stream: WriteStream,
    metadata: RecordingMetadata,
    options: RecordingWriterOptions,
  ) {
    this.path = path;
    this.stream = stream;
    this.maxBuffered = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    metadata.sources.forEach((id, i) => {
      this.sourceIndex.set(id, i);
    });
    stream.on('error', (error) => {
      this.failure ??= error;
    });
    stream.write(encodeFileHeader(metadata));
  }

  /**
   * Creates `path` (or truncates it with `overwrite`); rejects if it cannot be opened for writing, or
   * with EEXIST when it exists and `overwrite` is not set (checked by the open itself, so no race).
   * The file is readable by its owner only (0600): it may hold order postbacks, which are private.
   */
  static open(
    path: string,
    metadata: RecordingMetadata,
    options: RecordingWriterOptions = {},
  ): Promise<RecordingWriter> {
    return new Promise((resolve, reject) => {
      const stream = createWriteStream(path, { flags: options.overwrite ? 'w' : 'wx', mode: 0o600 });
      const onError = (error: Error): void => reject(error);
      stream.once('error', onError);
      stream.once('open', (fd: number) => {
        // The mode applies only to a file the open creates: an overwritten one keeps its own.
        // A file system without modes (FAT, some mounts) refuses fchmod: the recording still works.
        fchmod(fd, 0o600, () => {
          stream.off('error', onError);
          resolve(new RecordingWriter(path, stream, metadata, options));
        });
      });
    });
  }

  /** The first write error, if any (the recording is then incomplete). */
  get error(): Error | undefined {
    return this.failure;
  }

  /**
   * Queues one frame. `payload` is copied only by the stream's own buffering rules: the caller may
   * reuse its memory after this returns only if it passes a copy (frames from `ws` are fresh buffers).
   */
  write(
    time: number,
    kind: RecordKind,
    sourceId: string | undefined,
    connection: number | undefined,
    payload: Uint8Array,
  ): boolean {
    if (this.failure !== undefined) return false;
    if (this.stream.writableLength > this.maxBuffered) {
      this.dropped++;
      return false;
    }
    const source =
      sourceId === undefined ? UNKNOWN_SOURCE : (this.sourceIndex.get(sourceId) ?? UNKNOWN_SOURCE);
    const header = writeRecordHeader(
      new Uint8Array(RECORD_HEADER_LENGTH),
      time,
      kind,
      source,
      connection === undefined || connection < 0 || connection > 0xfffe ? UNKNOWN_CONNECTION : connection,
      payload.length,
    );
    this.stream.cork();
    this.stream.write(header);
    this.stream.write(payload);
    process.nextTick(uncork, this.stream);
    this.records++;
    this.bytes += RECORD_HEADER_LENGTH + payload.length;
    return true;
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stream.closed) {
        if (this.failure) reject(this.failure);
        else resolve();
        return;
      }
      this.stream.end(() => {
        if (this.failure) reject(this.failure);
        else resolve();
      });
    });
  }
}

function uncork(stream: WriteStream): void {
  stream.uncork();
}
