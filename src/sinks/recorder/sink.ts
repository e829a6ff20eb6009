/**
 * The `.ktrec` recorder as a sink: every binary frame as received (before decoding, so a replay is
 * byte-exact) and every order postback as a text record, tagged with the key and socket it came from.
 * A text record is written redacted (src/redact.ts): a server may echo an access token in a postback,
 * and a recording is shared. Binary tick frames hold only numbers.
 */
import { unlink } from 'node:fs/promises';
import type { OrderUpdate } from '../../protocol/types.js';
import { redact } from '../../redact.js';
import type { TickFeed, TickSink } from '../tick-sink.js';
import { type RecordingMetadata, RecordKind } from './format.js';
import { RecordingWriter } from './writer.js';

export interface RecorderSinkOptions {
  path: string;
  metadata: RecordingMetadata;
  /** Replace an existing file. Default false: attach() rejects with EEXIST. */
  overwrite?: boolean;
  /** Bytes queued in memory before frames are dropped. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Values removed from text records wherever they occur (the access tokens in use); read at each write. */
  secrets?: readonly string[];
}

export interface RecorderSinkStats {
  path: string;
  /** Records written (queued to the file). */
  records: number;
  /** Header + payload bytes written. */
  bytes: number;
  /** Frames dropped because the disk could not keep up. */
  dropped: number;
}

const textEncoder = new TextEncoder();

export class RecorderSink implements TickSink {
  readonly name = 'recorder';
  readonly wantsRawFrames = true;
  readonly path: string;
  private readonly options: RecorderSinkOptions;
  private writer: RecordingWriter | undefined;
  private detach: (() => void) | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: RecorderSinkOptions) {
    this.options = options;
    this.path = options.path;
  }

  /** Opens the file (rejects with the open error, EEXIST without `overwrite`), then records. */
  async attach(feed: TickFeed): Promise<void> {
    const writer = await RecordingWriter.open(this.path, this.options.metadata, {
      overwrite: this.options.overwrite === true,
      ...(this.options.maxBufferedBytes !== undefined
        ? { maxBufferedBytes: this.options.maxBufferedBytes }
        : {}),
    });
    this.writer = writer;
    const onFrame = (data: Uint8Array, apiKeyId: string, connectionIndex: number): void => {
      writer.write(Date.now(), RecordKind.Binary, apiKeyId, connectionIndex, data);
    };
    const onOrder = (order: OrderUpdate, apiKeyId: string, connectionIndex: number): void => {
      const text = redact(JSON.stringify({ type: 'order', data: order }), this.options.secrets);
      writer.write(Date.now(), RecordKind.Text, apiKeyId, connectionIndex, textEncoder.encode(text));
    };
    feed.on('rawFrame', onFrame);
    feed.on('order', onOrder);
    this.detach = () => {
      feed.off('rawFrame', onFrame);
      feed.off('order', onOrder);
    };
  }

  /**
   * Closes the file and deletes it if no frame was written (it holds only the header); resolves true
   * when it did. For a run that failed before its first frame: its file would only be in the way.
   */
  async removeIfEmpty(): Promise<boolean> {
    if (this.writer === undefined) return false;
    await this.close().catch(() => undefined);
    if (this.writer.records > 0) return false;
    try {
      await unlink(this.path);
      return true;
    } catch {
      return false;
    }
  }

  stats(): RecorderSinkStats {
    const w = this.writer;
    return { path: this.path, records: w?.records ?? 0, bytes: w?.bytes ?? 0, dropped: w?.dropped ?? 0 };
  }

  /**
   * Stops recording and closes the file; rejects with the first write error (the recording is then
   * incomplete). With a `deadline` that settles first it resolves then, leaving the file to finish
   * in the background.
   */
  close(deadline?: Promise<unknown>): Promise<void> {
    this.detach?.();
    this.detach = undefined;
    this.closing ??= this.writer?.close() ?? Promise.resolve();
    if (deadline === undefined) return this.closing;
    return Promise.race([this.closing, deadline.then(() => undefined)]);
  }
}
