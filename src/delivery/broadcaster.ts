/**
 * Fans one stream of messages out to any number of bounded channels. Each channel buffers on its own,
 * so a slow consumer loses only its own messages and never slows the publisher or other consumers.
 * A channel may take only part of the stream, reshaped (`select`), and carry a `tag` its drops are
 * counted under: the manager's per-connection, merged and unified channels are all one broadcaster.
 * The connection's `statuses()` feed is one of these too (a reader that never reads keeps only the
 * newest `capacity` events), so there is one bounded fan-out in the library, not two.
 */
import { BoundedChannel, resolveChannelOptions } from './bounded-channel.js';
import type { Channel, ChannelOptions } from './types.js';

/** Which part of the stream a channel takes. */
export interface Route<T, U> {
  /** The message for this channel, or undefined to skip it. Runs on the publisher's path: keep it cheap. */
  select?: (message: T) => U | undefined;
  /** Drops of this channel count under this tag too (see `droppedBy`). */
  tag?: string;
}

interface Subscriber<T> {
  readonly channel: BoundedChannel<unknown>;
  readonly select: ((message: T) => unknown) | undefined;
  readonly tag: string | undefined;
}

export class Broadcaster<T> {
  // Copy-on-write array: publish() iterates it by index with no iterator allocation, and a channel
  // that subscribes or closes during a publish does not disturb the loop in progress.
  #subscribers: Subscriber<T>[] = [];
  #closed = false;
  /** Drops of channels that are gone, so `dropped` never goes down (in total and per tag). */
  #retiredDropped = 0;
  readonly #retiredByTag = new Map<string, number>();
  readonly #defaults: Required<ChannelOptions>;
  readonly #detach = (channel: BoundedChannel<unknown>): void => {
    const index = this.#subscribers.findIndex((s) => s.channel === channel);
    if (index < 0) return;
    const { tag } = this.#subscribers[index]!;
    this.#retiredDropped += channel.dropped;
    if (tag !== undefined) this.#retiredByTag.set(tag, (this.#retiredByTag.get(tag) ?? 0) + channel.dropped);
    const next = this.#subscribers.slice();
    next.splice(index, 1);
    this.#subscribers = next;
  };

  /** @param defaults options of channels subscribed without their own (capacity 256, 'drop-oldest'). */
  constructor(defaults?: ChannelOptions) {
    this.#defaults = resolveChannelOptions(defaults);
  }

  /** A new channel that receives every message published from now on (or the part `route` selects). */
  subscribe(options?: ChannelOptions): Channel<T>;
  subscribe<U>(options: ChannelOptions | undefined, route: Route<T, U>): Channel<U>;
  subscribe<U>(options?: ChannelOptions, route?: Route<T, U>): Channel<U> {
    const channel = new BoundedChannel<U>(
      resolveChannelOptions(options, this.#defaults),
      this.#detach as (channel: BoundedChannel<U>) => void,
    );
    if (this.#closed) {
      // Subscribing to an ended stream yields a channel that is already ended: for-await ends at once.
      channel.end();
      return channel;
    }
    const next = this.#subscribers.slice();
    next.push({ channel: channel as BoundedChannel<unknown>, select: route?.select, tag: route?.tag });
    this.#subscribers = next;
    return channel;
  }

  /**
   * A new async iterator over the messages published from now on: a channel seen as an iterator
   * (`return()`, e.g. a `break` in for-await, unsubscribes it).
   */
  iterate(options?: ChannelOptions): AsyncIterableIterator<T> {
    const inner = this.subscribe(options)[Symbol.asyncIterator]();
    const iterator: AsyncIterableIterator<T> = {
      next: () => inner.next(),
      return: () => inner.return?.() ?? Promise.resolve({ done: true, value: undefined }),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Delivers to every subscribed channel. Returns how many channels there were (0 once closed: a late
   * message after close is ignored rather than thrown, since publishers run inside socket callbacks).
   */
  publish(message: T): number {
    if (this.#closed) return 0;
    const subscribers = this.#subscribers;
    for (let i = 0; i < subscribers.length; i++) {
      const s = subscribers[i]!;
      if (s.select === undefined) {
        s.channel.push(message);
      } else {
        const selected = s.select(message);
        if (selected !== undefined) s.channel.push(selected);
      }
    }
    return subscribers.length;
  }

  /** True when at least one channel listens: lets publishers skip building messages nobody reads. */
  get hasSubscribers(): boolean {
    return this.#subscribers.length > 0;
  }

  get subscriberCount(): number {
    return this.#subscribers.length;
  }

  /** Messages dropped by the overflow policy of every channel, past and present. */
  get dropped(): number {
    let total = this.#retiredDropped;
    const subscribers = this.#subscribers;
    for (let i = 0; i < subscribers.length; i++) total += subscribers[i]!.channel.dropped;
    return total;
  }

  /** Messages dropped by the channels subscribed with `tag`, past and present. */
  droppedBy(tag: string): number {
    let total = this.#retiredByTag.get(tag) ?? 0;
    for (const s of this.#subscribers) if (s.tag === tag) total += s.channel.dropped;
    return total;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every channel (buffered messages stay readable, then for-await ends). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of this.#subscribers) s.channel.end();
  }
}
