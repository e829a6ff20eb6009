/**
 * How a ticker announces its status changes and failures: the 'status' event, the `statuses()` async
 * feed (bounded: a reader that never reads keeps only the newest 256), the `closed()` promise of the final
 * event, and the 'error' event (emitted only when listened, so an unlistened error never crashes the host).
 *
 * Separate from session.ts because it is the delivery side of a status, not the decision to change it.
 */
import type { EventEmitter } from 'node:events';
import { Broadcaster } from '../delivery/broadcaster.js';
import type { KiteTickerError } from '../errors.js';
import type { KiteTickerEvents, StatusEvent } from './types.js';

export type ClosedEvent = StatusEvent & { status: 'closed' };

export class StatusAnnouncer {
  readonly #emitter: EventEmitter<KiteTickerEvents>;
  // Status changes are rare; a reader that never reads keeps only the newest 256.
  readonly #feed = new Broadcaster<StatusEvent>({ capacity: 256, overflow: 'drop-oldest' });
  readonly #closed: Promise<ClosedEvent>;
  #resolveClosed!: (event: ClosedEvent) => void;

  /** `emitter` is the ticker: its listeners hear the events. */
  constructor(emitter: EventEmitter<KiteTickerEvents>) {
    this.#emitter = emitter;
    this.#closed = new Promise<ClosedEvent>((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  publish(event: StatusEvent): void {
    this.#feed.publish(event);
    this.#emitter.emit('status', event);
  }

  /** After the final event was published: the feed ends and closed() resolves. */
  end(event: ClosedEvent): void {
    this.#feed.close();
    this.#resolveClosed(event);
  }

  error(error: KiteTickerError): void {
    if (this.#emitter.listenerCount('error') > 0) this.#emitter.emit('error', error);
  }

  statuses(): AsyncIterable<StatusEvent> {
    return this.#feed.iterate();
  }

  closed(): Promise<ClosedEvent> {
    return this.#closed;
  }
}
