/**
 * The manager's side of each pool: the `PoolOwner` that turns what a key's sockets deliver into the
 * manager's events and channel messages. One set of closures per key, nothing per frame but the
 * batch itself: ticks are filtered against the manager's table (only for pools the library did not
 * make: a `ConnectionPool` has filtered them already, see KeySlot.poolFiltersTicks), order updates de-duplicated across
 * every socket of every key, quotes kept (when asked), and one broadcaster fans everything out.
 */
import type { EventEmitter } from 'node:events';
import type { StatusEvent } from '../connection/types.js';
import type { Broadcaster } from '../delivery/broadcaster.js';
import type { LatestQuoteTable } from '../delivery/latest-quotes.js';
import type { OrderDeduplicator } from '../delivery/order-dedupe.js';
import type { KiteTickerError } from '../errors.js';
import { keepKnown } from '../pool/keep-known.js';
import type { PoolOwner } from '../pool/types.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';
import type { KeySlot } from './key-slot.js';
import type { ManagerEvents, MultiApiMessage, TickerMessage } from './types.js';

/** What the fan-out needs from its manager. */
export interface FanOutHost {
  readonly events: EventEmitter<ManagerEvents>;
  readonly broadcaster: Broadcaster<MultiApiMessage>;
  readonly orders: OrderDeduplicator;
  /** Undefined when the manager keeps no quote table. */
  readonly quotes: LatestQuoteTable | undefined;
  /** Tokens the manager wants now (in its table, or being placed). */
  readonly wanted: { has(token: number): boolean };
  /** Counts ticks the manager dropped (a pool it did not make may deliver anything). */
  countUnknown(n: number): void;
  /** Status bookkeeping (failover) and logging. */
  onStatus(slot: KeySlot, event: StatusEvent, connectionIndex: number): void;
  report(error: KiteTickerError, apiKeyId: string, connectionIndex: number): void;
  /** Whether raw frames are wanted (the pool taps them only then). */
  readonly rawFrames: boolean;
}

/** The `PoolOwner` of one key. */
export function poolOwner(slot: KeySlot, host: FanOutHost): PoolOwner {
  const id = slot.id;
  const { events, broadcaster, orders, quotes, wanted } = host;
  // The tagged wrapper is only built when some channel exists.
  const publish = (message: TickerMessage): void => {
    if (broadcaster.hasSubscribers) broadcaster.publish({ apiKeyId: id, message });
  };
  const owner: PoolOwner = {
    ticks(ticks: Tick[], connectionIndex: number): void {
      // A second 27 000-entry Map look-up per tick was ~0.4 % of a core at 27 k ticks/s (bench:load).
      const batch = slot.poolFiltersTicks ? ticks : keepKnown(ticks, wanted, host);
      if (batch.length === 0) return;
      slot.messages++;
      quotes?.update(batch);
      publish({ type: 'ticks', connectionIndex, ticks: batch });
      events.emit('ticks', batch, id, connectionIndex);
    },
    undecoded(): void {
      // A frame of subscribed instruments the pool did not decode (decodeTicks false): counted as
      // the batch it would have been, so totalMessagesReceived does not depend on the option.
      slot.messages++;
    },
    order(order: OrderUpdate, connectionIndex: number): void {
      if (!orders.accept(order)) {
        slot.duplicateOrders++;
        return;
      }
      slot.messages++;
      publish({ type: 'order', connectionIndex, order });
      events.emit('order', order, id, connectionIndex);
    },
    serverError(message: string, connectionIndex: number): void {
      slot.messages++;
      publish({ type: 'error', connectionIndex, message });
      events.emit('serverError', message, id, connectionIndex);
    },
    serverMessage(data: unknown, connectionIndex: number): void {
      slot.messages++;
      publish({ type: 'message', connectionIndex, data });
      events.emit('serverMessage', data, id, connectionIndex);
    },
    status(event: StatusEvent, connectionIndex: number): void {
      host.onStatus(slot, event, connectionIndex);
      publish({ type: 'status', connectionIndex, event });
      events.emit('status', event, id, connectionIndex);
    },
    protocolError(info: ProtocolErrorInfo, connectionIndex: number): void {
      events.emit('protocolError', info, id, connectionIndex);
    },
    error(error: KiteTickerError, connectionIndex: number): void {
      host.report(error, id, connectionIndex);
    },
  };
  if (host.rawFrames) {
    owner.frame = (data: Uint8Array, connectionIndex: number): void => {
      events.emit('frame', data, id, connectionIndex);
    };
  }
  return owner;
}
