/**
 * The keys and the desired-state table, and the moves between them: placing tokens on keys' pools
 * (all or nothing, or leaving refused ones unplaced), removing them, changing their modes. Every
 * method here runs inside the manager's serial queue; the table changes only together with the
 * commands the pools accepted.
 */
import { groupByMode } from '../connection/subscriptions.js';
import type { LatestQuoteTable } from '../delivery/latest-quotes.js';
import { ApiKeyNotFoundError } from '../errors.js';
import type { Mode } from '../protocol/constants.js';
import { DesiredState } from './desired-state.js';
import type { KeySlot } from './key-slot.js';
import type { KeyLoad } from './plan.js';

/** What the keys report through (pool failures that must not stop the caller). */
export interface KeysHost {
  quietly(promise: Promise<unknown>, apiKeyId: string): Promise<void>;
  report(error: unknown, apiKeyId: string | undefined): void;
}

export class Keys {
  /** The truth: token -> owning key (or unplaced) and mode. */
  readonly table = new DesiredState();
  /** The keys in the order they were added: that order breaks placement ties. */
  readonly order: KeySlot[] = [];
  readonly #slots = new Map<string, KeySlot>();
  /** Tokens handed to a pool whose subscribe call has not returned yet (not in the table until it does). */
  readonly #placing = new Set<number>();
  readonly #capacityPerKey: number;
  /** Kept in step with the table when the manager keeps quotes. */
  readonly #quotes: LatestQuoteTable | undefined;
  readonly #host: KeysHost;

  constructor(capacityPerKey: number, quotes: LatestQuoteTable | undefined, host: KeysHost) {
    this.#capacityPerKey = capacityPerKey;
    this.#quotes = quotes;
    this.#host = host;
  }

  add(slot: KeySlot): void {
    this.#slots.set(slot.id, slot);
    this.order.push(slot);
  }

  /** Forgets a key (its tokens must have been moved off it first). */
  remove(slot: KeySlot): void {
    this.#slots.delete(slot.id);
    const i = this.order.indexOf(slot);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** In the table, or being placed right now (a pool may deliver before its subscribe call returns). */
  isWanted(token: number): boolean {
    return this.table.has(token) || (this.#placing.size > 0 && this.#placing.has(token));
  }

  /**
   * Subscribes each key's share (grouped by mode) and records it in the table. `atomic`: on a pool error,
   * undo what this call placed and rethrow; otherwise tokens a pool refused become unplaced.
   */
  async placeAll(
    assignment: Map<string, number[]>,
    modeOf: (token: number) => Mode,
    atomic: boolean,
  ): Promise<Map<string, number[]>> {
    const done: { slot: KeySlot; tokens: number[] }[] = [];
    const placed = new Map<string, number[]>();
    const quotes = this.#quotes;
    for (const [id, tokens] of assignment) {
      const slot = this.#slots.get(id)!;
      for (const [mode, group] of groupByMode(tokens.map((t) => [t, modeOf(t)] as const))) {
        for (const t of group) this.#placing.add(t);
        quotes?.track(group);
        try {
          await slot.pool.subscribeSymbols(group, mode);
        } catch (error) {
          for (const t of group) this.#placing.delete(t);
          if (atomic) {
            quotes?.untrack(group);
            for (const d of done) {
              await this.#host.quietly(d.slot.pool.unsubscribeSymbols(d.tokens), d.slot.id);
              for (const t of d.tokens) this.table.delete(t);
              quotes?.untrack(d.tokens);
            }
            throw error;
          }
          this.#host.report(error, id);
          for (const t of group) this.table.set(t, undefined, mode);
          continue;
        }
        for (const t of group) {
          this.#placing.delete(t);
          this.table.set(t, id, mode);
        }
        done.push({ slot, tokens: group });
        const list = placed.get(id);
        if (list) list.push(...group);
        else placed.set(id, [...group]);
      }
    }
    return placed;
  }

  /** Unsubscribes tokens from their owners and forgets them (and their latest quotes). */
  async removeFromOwners(tokens: readonly number[]): Promise<void> {
    const forgotten: number[] = [];
    for (const [id, list] of this.#byOwner(tokens, (token) => {
      this.table.delete(token);
      forgotten.push(token);
    })) {
      await this.#slots.get(id)!.pool.unsubscribeSymbols(list);
      for (const t of list) this.table.delete(t);
      forgotten.push(...list);
    }
    this.#quotes?.untrack(forgotten);
  }

  /** Sets the mode of known tokens on their owners (unplaced ones just record it). */
  async setModes(tokens: readonly number[], mode: Mode): Promise<void> {
    const differing = tokens.filter((token) => {
      const entry = this.table.get(token);
      return entry !== undefined && entry.mode !== mode;
    });
    for (const [id, list] of this.#byOwner(differing, (token) => this.table.setMode(token, mode))) {
      await this.#slots.get(id)!.pool.changeMode(list, mode);
      for (const t of list) this.table.setMode(t, mode);
    }
  }

  /** Known tokens grouped by owning key; `unplaced` is called for known tokens on no key. */
  #byOwner(tokens: readonly number[], unplaced: (token: number) => void): Map<string, number[]> {
    const byOwner = new Map<string, number[]>();
    for (const token of tokens) {
      const entry = this.table.get(token);
      if (!entry) continue;
      if (entry.apiKeyId === undefined) {
        unplaced(token);
        continue;
      }
      const list = byOwner.get(entry.apiKeyId);
      if (list) list.push(token);
      else byOwner.set(entry.apiKeyId, [token]);
    }
    return byOwner;
  }

  /** Distinct tokens of a call, split into those the table knows and new ones. */
  split(tokens: readonly number[]): { known: number[]; fresh: number[] } {
    const seen = new Set<number>();
    const known: number[] = [];
    const fresh: number[] = [];
    for (const token of tokens) {
      if (seen.has(token)) continue;
      seen.add(token);
      (this.table.has(token) ? known : fresh).push(token);
    }
    return { known, fresh };
  }

  /** Keys that take tokens now (not failed), with their load and room, in the order they were added. */
  loads(): KeyLoad[] {
    return this.order
      .filter((slot) => slot.state !== 'failed' && slot.state !== 'stopped')
      .map((slot) => ({ id: slot.id, load: this.table.countOf(slot.id), free: this.free(slot) }));
  }

  /** Room on a key: the configured capacity less what the table gives it, and never more than its pool reports. */
  free(slot: KeySlot): number {
    const byTable = this.#capacityPerKey - this.table.countOf(slot.id);
    return Math.max(0, Math.min(byTable, slot.pool.availableCapacity()));
  }

  /** The key named `apiKeyId`; ApiKeyNotFoundError otherwise. */
  slot(apiKeyId: string): KeySlot {
    const slot = this.#slots.get(apiKeyId);
    if (!slot) throw new ApiKeyNotFoundError(apiKeyId);
    return slot;
  }
}
