/**
 * Bounded channels: how ticks reach consumers that read at their own pace.
 * A `Broadcaster` fans one stream out to any number of `Channel`s; each channel has its own bounded
 * buffer, so a slow consumer only ever loses its own messages (counted in `dropped`), never slows others.
 */

/** What a full channel does with a new message. */
export type OverflowPolicy =
  /** Discard the oldest buffered message to make room (default: a trader wants the newest market). */
  | 'drop-oldest'
  /** Discard the new message. */
  | 'drop-newest';

export interface ChannelOptions {
  /** Most messages buffered before the overflow policy applies, 1 to 1 000 000. Default 256 (a message is usually one frame's batch of ticks: size it in frames). */
  capacity?: number;
  /** Default 'drop-oldest'. */
  overflow?: OverflowPolicy;
}

export interface Channel<T> extends AsyncIterable<T> {
  /** Messages buffered now. */
  readonly size: number;
  /** Messages discarded by the overflow policy so far. */
  readonly dropped: number;
  /** True once closed (by the consumer or because the source ended). */
  readonly closed: boolean;
  /** Next buffered message, or undefined when none is buffered. Never waits. */
  tryReceive(): T | undefined;
  /** Next message; waits for one. Resolves `undefined` once the channel is closed and drained. */
  receive(): Promise<T | undefined>;
  /** Stops delivery to this channel; pending and future `receive()` calls resolve `undefined`. */
  close(): void;
}
