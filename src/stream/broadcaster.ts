/**
 * Fans one stream of messages out to any number of bounded channels. Each channel buffers on its own,
 * so a slow consumer loses only its own messages and never slows the publisher or other consumers.
 */
import { BoundedChannel, resolveChannelOptions } from './bounded-channel.js';
import type { Channel, ChannelOptions } from './types.js';

export class Broadcaster<T> {
  // Copy-on-write array: publish() iterates it by index with no iterator allocation, and a channel
  // that subscribes or closes during a publish does not disturb the loop in progress.
  #channels: BoundedChannel<T>[] = [];
  #closed = false;
  /** Drops of channels that are gone, so `dropped` never goes down. */
  #retiredDropped = 0;
  readonly #defaults: Required<ChannelOptions>;
  readonly #detach = (channel: BoundedChannel<T>): void => {
    const index = this.#channels.indexOf(channel);
    if (index < 0) return;
    this.#retiredDropped += channel.dropped;
    const next = this.#channels.slice();
    next.splice(index, 1);
    this.#channels = next;
  };

  /** @param defaults options of channels subscribed without their own (capacity 256, 'drop-oldest'). */
  constructor(defaults?: ChannelOptions) {
    this.#defaults = resolveChannelOptions(defaults);
  }

  /** A new channel that receives every message published from now on. */
  subscribe(options?: ChannelOptions): Channel<T> {
    const channel = new BoundedChannel<T>(resolveChannelOptions(options, this.#defaults), this.#detach);
    if (this.#closed) {
      // Subscribing to an ended stream yields a channel that is already ended: for-await ends at once.
      channel.end();
      return channel;
    }
    const next = this.#channels.slice();
    next.push(channel);
    this.#channels = next;
    return channel;
  }

  /**
   * Delivers to every subscribed channel. Returns how many channels there were (0 once closed: a late
   * message after close is ignored rather than thrown, since publishers run inside socket callbacks).
   */
  publish(message: T): number {
    if (this.#closed) return 0;
    const channels = this.#channels;
    for (let i = 0; i < channels.length; i++) channels[i]!.push(message);
    return channels.length;
  }

  /** True when at least one channel listens: lets publishers skip building messages nobody reads. */
  get hasSubscribers(): boolean {
    return this.#channels.length > 0;
  }

  get subscriberCount(): number {
    return this.#channels.length;
  }

  /** Messages dropped by the overflow policy of every channel, past and present. */
  get dropped(): number {
    let total = this.#retiredDropped;
    const channels = this.#channels;
    for (let i = 0; i < channels.length; i++) total += channels[i]!.dropped;
    return total;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every channel (buffered messages stay readable, then for-await ends). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const channel of this.#channels) channel.end();
  }
}
