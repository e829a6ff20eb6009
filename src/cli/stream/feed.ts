/**
 * The feed sinks and renderers attach to: the manager's own events (delegated, so no extra hop on
 * the tick path), the raw frames the session taps for the recorder, and the manager's counters.
 * It exists before the manager does; listeners added before `bind` wait for it (sinks attach after
 * the manager is built, before it connects, but the feed does not depend on that order).
 */
import { EventEmitter } from 'node:events';
import type { FeedSnapshot, TickFeed, TickFeedEvents } from '../../sinks/tick-sink.js';

type ManagerEvent = 'ticks' | 'status' | 'order';
type Listener<E extends keyof TickFeedEvents> = (...args: TickFeedEvents[E]) => void;

/** The manager's side of the feed: anything that emits the three events with these arguments. */
export interface ManagerEvents {
  on(event: 'ticks', listener: Listener<'ticks'>): unknown;
  on(event: 'status', listener: Listener<'status'>): unknown;
  on(event: 'order', listener: Listener<'order'>): unknown;
  off(event: 'ticks', listener: Listener<'ticks'>): unknown;
  off(event: 'status', listener: Listener<'status'>): unknown;
  off(event: 'order', listener: Listener<'order'>): unknown;
}

/** One signature for all three: the overloads above cannot take a union of event names. */
type AnyEvent = (event: ManagerEvent, listener: Listener<ManagerEvent>) => unknown;

const EMPTY: FeedSnapshot = { at: 0, uptimeMs: 0, apiKeys: [] };

export class ManagerFeed implements TickFeed {
  private readonly raw = new EventEmitter<Pick<TickFeedEvents, 'rawFrame'>>();
  private manager: ManagerEvents | undefined;
  private snapshotOf: (() => FeedSnapshot) | undefined;
  /** Listeners added before `bind`. */
  private readonly waiting: [ManagerEvent, Listener<ManagerEvent>][] = [];

  /** Hand this to the session as its raw-frame tap. */
  readonly tapRawFrame = (data: Uint8Array, apiKeyId: string, connectionIndex: number): void => {
    this.raw.emit('rawFrame', data, apiKeyId, connectionIndex);
  };

  /** Connects the feed to the manager: waiting listeners move to it. Call once. */
  bind(manager: ManagerEvents, snapshot: () => FeedSnapshot): void {
    this.manager = manager;
    this.snapshotOf = snapshot;
    for (const [event, listener] of this.waiting.splice(0))
      (manager.on as AnyEvent).call(manager, event, listener);
  }

  on<E extends keyof TickFeedEvents>(event: E, listener: Listener<E>): this {
    // The casts only narrow E, which TypeScript cannot do through a generic parameter.
    if (event === 'rawFrame') this.raw.on('rawFrame', listener as Listener<'rawFrame'>);
    else if (this.manager === undefined)
      this.waiting.push([event as ManagerEvent, listener as Listener<ManagerEvent>]);
    else
      (this.manager.on as AnyEvent).call(
        this.manager,
        event as ManagerEvent,
        listener as Listener<ManagerEvent>,
      );
    return this;
  }

  off<E extends keyof TickFeedEvents>(event: E, listener: Listener<E>): this {
    if (event === 'rawFrame') this.raw.off('rawFrame', listener as Listener<'rawFrame'>);
    else if (this.manager === undefined) {
      const i = this.waiting.findIndex(([e, l]) => e === event && l === listener);
      if (i >= 0) this.waiting.splice(i, 1);
    } else
      (this.manager.off as AnyEvent).call(
        this.manager,
        event as ManagerEvent,
        listener as Listener<ManagerEvent>,
      );
    return this;
  }

  /** The manager's counters; before `bind`, none (a scrape that early sees no keys). */
  snapshot(): FeedSnapshot {
    return this.snapshotOf?.() ?? { ...EMPTY, at: Date.now() };
  }
}
