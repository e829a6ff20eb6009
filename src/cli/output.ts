/**
 * A line sink for stdout that never blocks the ticker and never crashes on a closed pipe:
 * - EPIPE (the reader went away, e.g. `| head`) is reported once through `onClosed` and then every
 *   write is a no-op, so the command can stop quietly with exit code 0;
 * - when the reader is slower than the market and more than `maxBufferedBytes` are queued, new
 *   batches are dropped and counted (shown in the summary) rather than buffered without bound.
 */
import type { Writable } from 'node:stream';

export interface OutputSinkOptions {
  /** Queued bytes before batches are dropped. Default 16 MiB. */
  maxBufferedBytes?: number;
  /** Called once when the destination is gone (EPIPE or another write error). */
  onClosed?: (error: Error) => void;
}

export class OutputSink {
  private readonly target: Writable;
  private readonly maxBuffered: number;
  private readonly onClosed: ((error: Error) => void) | undefined;
  private gone = false;
  /** Batches dropped because the reader could not keep up. */
  droppedBatches = 0;
  /** Batches written. */
  batches = 0;

  constructor(target: Writable, options: OutputSinkOptions = {}) {
    this.target = target;
    this.maxBuffered = options.maxBufferedBytes ?? 16 * 1024 * 1024;
    this.onClosed = options.onClosed;
    target.on('error', (error: Error) => this.close(error));
  }

  get closed(): boolean {
    return this.gone;
  }

  write(text: string): void {
    if (this.gone || text.length === 0) return;
    if (this.target.writableLength > this.maxBuffered) {
      this.droppedBatches++;
      return;
    }
    this.batches++;
    this.target.write(text);
  }

  /**
   * For sources that can wait (replay): resolves at once while under the limit, else when the
   * target drains (or is gone). Callers that await this never drop.
   */
  ready(): Promise<void> {
    if (this.gone || this.target.writableLength <= this.maxBuffered) return Promise.resolve();
    return this.flush();
  }

  /** Resolves once everything queued has been handed to the OS (or the target is gone). */
  flush(): Promise<void> {
    if (this.gone || this.target.writableLength === 0) return Promise.resolve();
    // Not 'drain': that comes only after a write that filled the buffer to its high-water mark, so a
    // smaller queue (a pipe whose reader is a little behind) would leave this waiting forever and the
    // process exiting with 13 (unsettled top-level await). Writes complete in order, so an empty
    // write's callback runs once everything before it has been handed on.
    return new Promise((resolve) => {
      const done = (): void => {
        this.target.off('error', done);
        resolve();
      };
      this.target.once('error', done);
      this.target.write('', () => done());
    });
  }

  private close(error: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.onClosed?.(error);
  }
}
