/**
 * Wires a set of listeners onto a typed emitter and returns the one function that removes exactly
 * them. The managers attach one set per connection or pool and must detach the same set when they
 * retire it; keeping on() and off() in one place means no listener can be added without its removal.
 * Internal: not re-exported from the root.
 */

/** An event map: event name -> listener argument tuple (as Node's typed EventEmitter uses). */
export type EventMap<Events> = { [E in keyof Events]: unknown[] };

/** The part of a typed emitter that wiring needs (what TickerConnection and the pools declare). */
export interface ListenerTarget<Events extends EventMap<Events>> {
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): unknown;
  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): unknown;
}

/** At most one listener per event name, typed by the emitter's event map. */
export type ListenerSet<Events extends EventMap<Events>> = {
  [E in keyof Events]?: (...args: Events[E]) => void;
};

/** Adds every listener of `listeners` to `target`; the returned function removes them again. */
export function attachListeners<Events extends EventMap<Events>>(
  target: ListenerTarget<Events>,
  listeners: ListenerSet<Events>,
): () => void {
  type Entry = [keyof Events, (...args: Events[keyof Events]) => void];
  const entries = Object.entries(listeners) as Entry[];
  for (const [event, listener] of entries) target.on(event, listener);
  return () => {
    for (const [event, listener] of entries) target.off(event, listener);
  };
}
