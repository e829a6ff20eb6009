/**
 * Fan-out of status events to any number of async iterators (`statuses()`). Status changes are rare,
 * but a reader that never reads must not grow memory forever: each reader keeps at most `capacity`
 * events and drops the oldest (the newest status is the one that matters).
 */

interface Reader<T> {
  queue: T[];
  wake: ((result: IteratorResult<T>) => void) | undefined;
}

export class StatusFeed<T> {
  readonly #readers = new Set<Reader<T>>();
  readonly #capacity: number;
  #ended = false;

  constructor(capacity = 256) {
    this.#capacity = capacity;
  }

  get ended(): boolean {
    return this.#ended;
  }

  push(event: T): void {
    if (this.#ended) return;
    for (const reader of this.#readers) {
      if (reader.wake) {
        const wake = reader.wake;
        reader.wake = undefined;
        wake({ value: event, done: false });
      } else {
        if (reader.queue.length >= this.#capacity) reader.queue.shift();
        reader.queue.push(event);
      }
    }
  }

  /** No more events: readers drain what they have, then finish. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const reader of this.#readers) {
      if (reader.wake) {
        const wake = reader.wake;
        reader.wake = undefined;
        this.#readers.delete(reader);
        wake({ value: undefined, done: true });
      }
    }
  }

  /** A new iterator over the events pushed from now on. */
  iterate(): AsyncIterableIterator<T> {
    const reader: Reader<T> = { queue: [], wake: undefined };
    if (!this.#ended) this.#readers.add(reader);
    const readers = this.#readers;
    const feed = this;
    const iterator: AsyncIterableIterator<T> = {
      next(): Promise<IteratorResult<T>> {
        const value = reader.queue.shift();
        if (value !== undefined) return Promise.resolve({ value, done: false });
        if (feed.ended || !readers.has(reader)) {
          readers.delete(reader);
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve) => {
          reader.wake = resolve;
        });
      },
      return(): Promise<IteratorResult<T>> {
        readers.delete(reader);
        reader.queue.length = 0;
        const wake = reader.wake;
        reader.wake = undefined;
        wake?.({ value: undefined, done: true });
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
