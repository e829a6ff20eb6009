/**
 * A bounded, single-consumer channel backed by a ring buffer. Producers `push`; consumers
 * `receive`, `tryReceive` or iterate with `for await`. When the buffer is full the overflow policy
 * decides which message is lost, and every loss is counted in `dropped`.
 *
 * The ring starts small and doubles as messages pile up, up to `capacity` (at most
 * MAX_CHANNEL_CAPACITY): memory follows what is buffered, not what could be, and close() is O(1).
 */
import { CHANNEL_CAPACITY } from '../config/limits.js';
import { count } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import type { Channel, ChannelOptions, OverflowPolicy } from './types.js';

/** Default buffer size of a channel. */
export const DEFAULT_CHANNEL_CAPACITY = 256;
/** First ring size; small so that thousands of idle channels cost little. */
const INITIAL_RING = 16;

/** Validates channel options, naming the bad one; returns them with defaults applied. */
export function resolveChannelOptions(
  options: ChannelOptions | undefined,
  defaults?: Required<ChannelOptions>,
): Required<ChannelOptions> {
  const capacity = options?.capacity ?? defaults?.capacity ?? DEFAULT_CHANNEL_CAPACITY;
  const overflow = options?.overflow ?? defaults?.overflow ?? 'drop-oldest';
  count(capacity, 'capacity', CHANNEL_CAPACITY);
  if (overflow !== 'drop-oldest' && overflow !== 'drop-newest') {
    throw new InvalidArgumentError(
      `overflow must be 'drop-oldest' or 'drop-newest', got ${JSON.stringify(overflow)}`,
    );
  }
  return { capacity, overflow };
}

type Waiter<T> = (value: T | undefined) => void;

export class BoundedChannel<T> implements Channel<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  // The ring: `head` is the oldest message, `count` how many follow it. Slots are cleared on read so
  // the channel never keeps a consumed message alive. Its length is a power of two times INITIAL_RING,
  // or `capacity`, whichever is smaller; it only grows while the buffer is full below `capacity`.
  #ring: (T | undefined)[];
  #head = 0;
  #count = 0;
  #dropped = 0;
  /** No more pushes; buffered messages can still be read. */
  #ended = false;
  /** Closed by the consumer: the buffer was discarded. */
  #cancelled = false;
  // Consumers waiting in receive(). Normally zero or one; a plain array is fine (it is not the hot buffer).
  #waiters: Waiter<T>[] = [];
  readonly #onClose: ((channel: BoundedChannel<T>) => void) | undefined;

  /**
   * @param options capacity (default 256) and overflow policy (default 'drop-oldest').
   * @param onClose called once when the channel closes (consumer close or source end); the
   *   Broadcaster uses it to unsubscribe the channel.
   */
  constructor(options?: ChannelOptions, onClose?: (channel: BoundedChannel<T>) => void) {
    const resolved = resolveChannelOptions(options);
    this.capacity = resolved.capacity;
    this.overflow = resolved.overflow;
    this.#ring = new Array(Math.min(resolved.capacity, INITIAL_RING));
    this.#onClose = onClose;
  }

  get size(): number {
    return this.#count;
  }

  get dropped(): number {
    return this.#dropped;
  }

  get closed(): boolean {
    return this.#ended || this.#cancelled;
  }

  /**
   * Offers a message. Returns false when it was not buffered (channel closed, or full under
   * 'drop-newest'). Under 'drop-oldest' a full channel loses its oldest message instead.
   */
  push(message: T): boolean {
    if (this.#ended || this.#cancelled) return false;
    // A waiting consumer takes the message directly; the buffer is empty whenever someone waits.
    if (this.#waiters.length > 0) {
      const waiter = this.#waiters.shift()!;
      waiter(message);
      return true;
    }
    if (this.#count === this.capacity) {
      this.#dropped++;
      if (this.overflow === 'drop-newest') return false;
      // drop-oldest: overwrite the oldest slot and advance the head. A full channel's ring has grown
      // to exactly `capacity`.
      this.#ring[this.#head] = message;
      this.#head = this.#head + 1 === this.#ring.length ? 0 : this.#head + 1;
      return true;
    }
    if (this.#count === this.#ring.length) this.#grow();
    const size = this.#ring.length;
    let tail = this.#head + this.#count;
    if (tail >= size) tail -= size;
    this.#ring[tail] = message;
    this.#count++;
    return true;
  }

  /** Doubles the ring (capped at `capacity`), unwrapping it so the oldest message is at 0. */
  #grow(): void {
    const old = this.#ring;
    const next = new Array<T | undefined>(Math.min(this.capacity, old.length * 2));
    for (let i = 0; i < this.#count; i++) {
      let j = this.#head + i;
      if (j >= old.length) j -= old.length;
      next[i] = old[j];
    }
    this.#ring = next;
    this.#head = 0;
  }

  tryReceive(): T | undefined {
    if (this.#count === 0) return undefined;
    const message = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = this.#head + 1 === this.#ring.length ? 0 : this.#head + 1;
    this.#count--;
    return message;
  }

  receive(): Promise<T | undefined> {
    if (this.#count > 0) return Promise.resolve(this.tryReceive());
    if (this.#ended || this.#cancelled) return Promise.resolve(undefined);
    return new Promise<T | undefined>((resolve) => {
      this.#waiters.push(resolve);
    });
  }

  /** Consumer side: discards the buffer, releases waiters and unsubscribes. Idempotent. */
  close(): void {
    if (this.#cancelled) return;
    const wasEnded = this.#ended;
    this.#cancelled = true;
    // Drop the ring rather than clear it: O(1) whatever the capacity, and the messages go with it.
    this.#ring = [];
    this.#head = 0;
    this.#count = 0;
    this.#releaseWaiters();
    if (!wasEnded) this.#onClose?.(this);
  }

  /**
   * Producer side: no more messages will come. Buffered messages stay readable; `for await` ends
   * once they are drained. Idempotent.
   */
  end(): void {
    if (this.#ended || this.#cancelled) return;
    this.#ended = true;
    this.#releaseWaiters();
    this.#onClose?.(this);
  }

  #releaseWaiters(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter(undefined);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        // Checking `size` (not the received value) lets a channel carry falsy messages.
        if (this.#count === 0 && this.closed) return { done: true, value: undefined };
        if (this.#count > 0) return { done: false, value: this.tryReceive() as T };
        const value = await this.receive();
        // receive() resolves undefined only when the channel closed while waiting.
        if (value === undefined && this.closed && this.#count === 0) return { done: true, value: undefined };
        return { done: false, value: value as T };
      },
      // `break` / `return` / a throw in the loop body: the consumer is gone, stop buffering for it.
      return: async (): Promise<IteratorResult<T>> => {
        this.close();
        return { done: true, value: undefined };
      },
    };
  }
}
