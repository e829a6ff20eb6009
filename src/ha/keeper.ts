/**
 * One held lease: renews it every renewMs with a revision-checked update, and FENCES it (tells the
 * controller to close the key's Kite sockets) once fenceMs passed since the send time of the last
 * successful renewal, by this process's monotonic clock. Measuring from the send time, not the reply,
 * makes the fence conservative: the server wrote the renewal after it was sent, so a standby (which
 * counts ttlMs from when it first saw that revision) cannot start counting earlier.
 */
import { timerMs } from '../config/validate.js';
import { decodeLease, encodeLease, type LeaseRecord } from './codec.js';
import { leaseKey } from './names.js';
import { isRevisionConflict, type LeaseStore } from './store.js';
import type { HaTimings } from './timings.js';

export type LostReason = 'fenced' | 'stolen';

export interface KeeperHost {
  readonly store: LeaseStore;
  readonly timings: HaTimings;
  /** Monotonic milliseconds. */
  clock(): number;
  renewed(apiKeyId: string, latencyMs: number): void;
  /** The lease is no longer ours to use: the keeper has stopped; close the key's sockets now. */
  lost(apiKeyId: string, reason: LostReason): void;
  report(error: unknown): void;
}

export class LeaseKeeper {
  readonly apiKeyId: string;
  readonly key: string;
  /** Monotonic ms the lease was taken (for "since"). */
  readonly acquiredAt: number;
  #record: LeaseRecord;
  #revision: number;
  #lastSentAt: number;
  #renewTimer: ReturnType<typeof setTimeout> | undefined;
  #fenceTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #failing = false;
  /** The renewal in flight, if any: release() waits for it, so it deletes at the revision it wrote. */
  #renewing: Promise<void> | undefined;
  readonly #host: KeeperHost;

  constructor(host: KeeperHost, record: LeaseRecord, revision: number, sentAt: number) {
    this.#host = host;
    this.apiKeyId = record.apiKeyId;
    this.key = leaseKey(record.apiKeyId);
    this.#record = record;
    this.#revision = revision;
    this.#lastSentAt = sentAt;
    this.acquiredAt = sentAt;
    this.#armFence();
    this.#scheduleRenew(host.timings.renewMs);
  }

  get revision(): number {
    return this.#revision;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  /** Ms since the last successful renewal was sent. */
  age(now: number): number {
    return Math.max(0, now - this.#lastSentAt);
  }

  /** Stops renewing and fencing (the caller closes the sockets and releases or abandons the lease). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#fenceTimer);
  }

  /**
   * Deletes the lease if it is still ours (a standby then takes it at once). A renewal in flight when
   * the keeper stopped may still be written: its revision is awaited and used, else the delete would
   * fail its revision check and the standby would wait out the TTL. A conflict whose entry still
   * names this instance (a renewal written but its reply lost) is deleted at the entry's revision.
   */
  async release(): Promise<void> {
    this.stop();
    await this.#renewing;
    try {
      await this.#host.store.delete(this.key, this.#revision);
    } catch (error) {
      if (!isRevisionConflict(error)) throw error;
      const entry = await this.#host.store.get(this.key);
      const decoded = entry?.value ? decodeLease(entry.value, this.key) : undefined;
      if (!entry || !decoded?.ok || decoded.value.instance !== this.#record.instance) return;
      await this.#host.store.delete(this.key, entry.revision);
    }
  }

  #armFence(): void {
    clearTimeout(this.#fenceTimer);
    const due = this.#lastSentAt + this.#host.timings.fenceMs - this.#host.clock();
    this.#fenceTimer = setTimeout(() => this.#lose('fenced'), timerMs(due));
    this.#fenceTimer.unref?.();
  }

  #scheduleRenew(delayMs: number): void {
    if (this.#stopped) return;
    this.#renewTimer = setTimeout(() => {
      const run = this.#renew().finally(() => {
        if (this.#renewing === run) this.#renewing = undefined;
      });
      this.#renewing = run;
    }, timerMs(delayMs));
    this.#renewTimer.unref?.();
  }

  async #renew(): Promise<void> {
    const host = this.#host;
    const sentAt = host.clock();
    try {
      const next = { ...this.#record, renewedAt: Date.now() };
      let revision: number;
      try {
        revision = await host.store.update(this.key, encodeLease(next), this.#revision);
      } catch (error) {
        if (!isRevisionConflict(error) || this.#stopped) throw error;
        // Our previous renewal may have been written though its reply was lost: the entry still
        // names us, at a newer revision. Renew from that one (this send time is the fence's base).
        revision = await this.#adoptOwn(next);
      }
      // Written even when stopped meanwhile: release() deletes at this revision.
      this.#revision = revision;
      if (this.#stopped) return;
      this.#record = next;
      this.#lastSentAt = sentAt;
      this.#failing = false;
      this.#armFence();
      host.renewed(this.apiKeyId, host.clock() - sentAt);
    } catch (error) {
      if (this.#stopped) return;
      if (error === STOLEN) {
        this.#lose('stolen');
        return;
      }
      // One report per run of failures: an outage must not log twice a second.
      if (!this.#failing) host.report(error);
      this.#failing = true;
    }
    const elapsed = host.clock() - sentAt;
    this.#scheduleRenew(host.timings.renewMs - elapsed);
  }

  async #adoptOwn(next: LeaseRecord): Promise<number> {
    const entry = await this.#host.store.get(this.key);
    const decoded = entry?.value ? decodeLease(entry.value, this.key) : undefined;
    if (!entry || !decoded?.ok || decoded.value.instance !== next.instance) throw STOLEN;
    return this.#host.store.update(this.key, encodeLease(next), entry.revision);
  }

  #lose(reason: LostReason): void {
    if (this.#stopped) return;
    this.stop();
    this.#host.lost(this.apiKeyId, reason);
  }
}

/** Marker: another instance holds the lease now. */
const STOLEN = Symbol('stolen');
