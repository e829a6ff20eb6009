/**
 * Failover: turns each key's socket statuses (and the health check) into failure and recovery
 * decisions, moves a failed key's tokens to keys with room, and places waiting tokens when room
 * appears. All moves run in the manager's serial queue. With one key (`KiteTickerManager`) keys never
 * fail: its sockets reconnect on their own and `updateAccessToken` reopens those that gave up.
 */
import type { EventEmitter } from 'node:events';
import type { StatusEvent } from '../connection/types.js';
import type { Logger } from '../logger.js';
import type { ManagerHealth } from '../pool/types.js';
import type { Mode } from '../protocol/constants.js';
import type { DesiredState } from './desired-state.js';
import type { KeySlot } from './key-slot.js';
import { assignBalanced, type KeyLoad, planFailover } from './plan.js';
import type { ApiKeyFailureReason, ManagerEvents, MultiApiKiteTickerManagerConfig } from './types.js';

/** What failover needs from its manager. */
export interface FailoverHost {
  readonly config: MultiApiKiteTickerManagerConfig;
  readonly logger: Logger;
  readonly events: EventEmitter<ManagerEvents>;
  readonly table: DesiredState;
  isRunning(): boolean;
  isStopped(): boolean;
  serial<T>(task: () => Promise<T>): Promise<T>;
  loads(): KeyLoad[];
  placeAll(
    assignment: Map<string, number[]>,
    modeOf: (token: number) => Mode,
    atomic: boolean,
  ): Promise<Map<string, number[]>>;
  quietly(promise: Promise<unknown>, apiKeyId: string): Promise<void>;
  report(error: unknown, apiKeyId: string | undefined): void;
}

export class Failover {
  readonly #host: FailoverHost;
  /** False for a single key: nothing to fail over to, so a key is never taken out of service. */
  readonly #keysFail: boolean;

  constructor(host: FailoverHost, keysFail: boolean) {
    this.#host = host;
    this.#keysFail = keysFail;
  }

  /** Keeps each key's socket states and turns them into failure / recovery decisions. */
  trackStatus(slot: KeySlot, event: StatusEvent, connectionIndex: number): void {
    if (this.#host.isStopped() || slot.state === 'stopped') return;
    slot.connections.set(connectionIndex, event.status);
    if (!this.#keysFail) return;
    switch (event.status) {
      case 'connected':
        slot.downSince = undefined;
        slot.clearDownTimer();
        if (slot.state === 'failed') this.recover(slot);
        else if (slot.state === 'idle') slot.state = 'active';
        return;
      case 'auth_failed':
        this.#fail(slot, 'auth_failed');
        return;
      case 'closed':
        if (event.reason === 'auth_failed') this.#fail(slot, 'auth_failed');
        else if (event.reason === 'reconnect_exhausted' && slot.connectedCount() === 0)
          this.#fail(slot, 'unreachable');
        return;
      case 'idle':
        return;
      default:
        this.#markDown(slot);
    }
  }

  /** The health check's part: a failure missed by the statuses, or a recovery. */
  check(slot: KeySlot, health: ManagerHealth, now: number): void {
    if (!this.#keysFail) return;
    if (slot.state === 'failed') {
      // A 'connected' status missed for any reason: the health snapshot says the key works.
      if (slot.failureReason === 'unreachable' && health.connections.some((c) => c.state === 'healthy')) {
        this.recover(slot);
      }
      return;
    }
    if (health.connections.some((c) => c.state === 'auth_failed')) this.#fail(slot, 'auth_failed');
    else if (slot.downSince !== undefined && now - slot.downSince >= this.#host.config.failoverAfterMs) {
      this.#fail(slot, 'unreachable');
    }
  }

  markFailed(slot: KeySlot, reason: ApiKeyFailureReason): void {
    slot.state = 'failed';
    slot.failureReason = reason;
    slot.failovers++;
    slot.clearDownTimer();
    slot.downSince = undefined;
    this.#host.logger.warn({ apiKeyId: slot.id, reason }, 'API key failed');
  }

  /** A failed key is usable again: it takes waiting tokens. */
  recover(slot: KeySlot): void {
    const host = this.#host;
    slot.state = 'active';
    slot.failureReason = undefined;
    host.logger.info({ apiKeyId: slot.id }, 'API key recovered');
    host.events.emit('recovered', slot.id);
    host.serial(() => this.placeUnplaced()).catch((error: unknown) => host.report(error, slot.id));
  }

  /** Places as many unplaced tokens as the keys have room for (first-come, first-served). */
  async placeUnplaced(): Promise<void> {
    const host = this.#host;
    if (host.table.unplacedCount === 0 || !host.isRunning()) return;
    const waiting = new Map(host.table.unplaced());
    const { assignment } = assignBalanced([...waiting.keys()], host.loads());
    if (assignment.size === 0) return;
    const placed = await host.placeAll(assignment, (t) => waiting.get(t)!, false);
    if (placed.size > 0) {
      let count = 0;
      for (const list of placed.values()) count += list.length;
      host.logger.info({ placed: count, unplaced: host.table.unplacedCount }, 'unplaced tokens placed');
      host.events.emit('placed', placed);
    }
  }

  /** Starts the unreachable clock when a key's last connected socket is gone. */
  #markDown(slot: KeySlot): void {
    if (slot.connectedCount() > 0 || slot.state === 'failed' || slot.downSince !== undefined) return;
    slot.downSince = Date.now();
    slot.downTimer = setTimeout(() => {
      slot.downTimer = undefined;
      if (slot.connectedCount() === 0 && slot.state !== 'failed' && slot.state !== 'stopped') {
        this.#fail(slot, 'unreachable');
      }
    }, this.#host.config.failoverAfterMs);
    slot.downTimer.unref?.();
  }

  /** Marks the key failed now (so no new placement picks it) and queues the evacuation of its tokens. */
  #fail(slot: KeySlot, reason: ApiKeyFailureReason): void {
    const host = this.#host;
    if (slot.state === 'failed' || slot.state === 'stopped' || host.isStopped()) return;
    this.markFailed(slot, reason);
    host.serial(() => this.#evacuate(slot, reason)).catch((error: unknown) => host.report(error, slot.id));
  }

  /** Moves a failed key's tokens to keys with room; the rest become unplaced (reported, never dropped). */
  async #evacuate(slot: KeySlot, reason: ApiKeyFailureReason): Promise<void> {
    const host = this.#host;
    if (slot.state !== 'failed' || host.isStopped()) return;
    if (!host.config.enableFailover) return;
    const own = new Map(host.table.ofKey(slot.id));
    if (own.size === 0) {
      host.events.emit('failover', { apiKeyId: slot.id, reason, moved: new Map(), unplaced: [] });
      return;
    }
    const tokens = [...own.keys()];
    await host.quietly(slot.pool.unsubscribeSymbols(tokens), slot.id);
    for (const [token, mode] of own) host.table.set(token, undefined, mode);
    const plan = planFailover(tokens, host.loads());
    const moved = await host.placeAll(plan.moved, (t) => own.get(t)!, false);
    const unplaced = [...host.table.unplaced().keys()].filter((t) => own.has(t));
    host.logger.warn(
      { apiKeyId: slot.id, reason, moved: tokens.length - unplaced.length, unplaced: unplaced.length },
      'API key failed over',
    );
    host.events.emit('failover', { apiKeyId: slot.id, reason, moved, unplaced });
    if (unplaced.length > 0) {
      host.events.emit('unplaced', {
        tokens: unplaced,
        totalUnplaced: host.table.unplacedCount,
        reason: `API key ${JSON.stringify(slot.id)} failed (${reason}) and the other keys lack capacity`,
      });
    }
  }
}
