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
   * target drains, is gone, or `until` settles (a stop request: a reader that never reads must not
   * hold the command forever).
   */
  ready(until?: Promise<unknown>): Promise<void> {
    if (this.gone || this.target.writableLength <= this.maxBuffered) return Promise.resolve();
    return this.flush(until).then(() => undefined);
  }

  /** Bytes queued and not yet taken by the reader. */
  get pendingBytes(): number {
    return this.gone ? 0 : this.target.writableLength;
  }

  /**
   * Resolves `true` once everything queued has been handed to the OS (or the target is gone), or
   * `false` when `until` settles first: after a stop request the command gives the reader a short
   * deadline, then leaves what it did not read (the process exits without waiting for it).
   */
  flush(until?: Promise<unknown>): Promise<boolean> {
    if (this.gone || this.target.writableLength === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let settled = false;
      const finish = (drained: boolean): void => {
        if (settled) return;
        settled = true;
        clearInterval(poll);
        this.target.off('drain', check);
        this.target.off('error', onError);
        resolve(drained);
      };
      const check = (): void => {
        if (this.gone || this.target.writableLength === 0) finish(true);
      };
      const onError = (): void => finish(true);
      // 'drain' comes only after a write that went over the high-water mark; below it, nothing
      // announces that the queue emptied, so it is also polled (which keeps the process alive
      // until then, as the pending write does).
      const poll = setInterval(check, 20);
      this.target.on('drain', check);
      this.target.once('error', onError);
      until?.then(
        () => finish(this.target.writableLength === 0),
        () => finish(this.target.writableLength === 0),
      );
    });
  }

  private close(error: Error): void {
    if (this.gone) return;
    this.gone = true;
    this.onClosed?.(error);
  }
}
