/**
 * `HaController`: one instance of a high-availability group. It holds at most its share of the
 * group's API keys, each only while it owns the key's lease, and drives a key host: the key's Kite
 * sockets are opened (with the key's `want` instruments) when its lease is taken and closed when the
 * lease is fenced or released. The protocol is in docs/high-availability.md.
 *
 * Every pollMs (and at once when the watch says a lease was released) it re-writes its member record,
 * reads the members and the leases, and takes lapsed leases up to its share. Renewal and fencing of
 * each held lease run in its LeaseKeeper, on their own timers, so a slow poll never delays a fence.
 */
import { EventEmitter } from 'node:events';
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import { timerMs } from '../config/validate.js';
import { ClosedError, closedError, InvalidArgumentError, UnexpectedError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { isMode, type Mode } from '../protocol/constants.js';
import { dialNats } from '../sinks/nats-connection.js';
import {
  decodeLease,
  decodeMember,
  decodeWant,
  encodeLease,
  encodeMember,
  encodeWant,
  type LeaseRecord,
  MAX_WANT_TOKENS,
} from './codec.js';
import { LeaseKeeper, type LostReason } from './keeper.js';
import type { HaKeyHost } from './key-host.js';
import {
  defaultInstanceId,
  encodeKeyId,
  leaseKey,
  memberKey,
  validateGroup,
  validateInstance,
  wantKey,
} from './names.js';
import { RevisionClock, shareOf } from './share.js';
import { isRevisionConflict, LeaseStore, type StoreEntry } from './store.js';
import { type HaTimingOptions, type HaTimings, resolveTimings } from './timings.js';

export interface HaControllerOptions {
  /** The group's name: its bucket is KITE_HA_<group>. */
  group: string;
  /** Unique per process in the group. Default `<hostname>-<pid>`. */
  instance?: string;
  /** The keys this instance may hold (every instance of a group is given the same list). */
  apiKeyIds: readonly string[];
  host: HaKeyHost;
  /** What a key subscribes when the bucket has no want record for it yet. Default: nothing. */
  initialWant?: (apiKeyId: string) => ReadonlyMap<number, Mode>;
  /** A connection to use (not closed by close()); otherwise one is dialled to `servers`. */
  connection?: NatsConnection;
  servers?: string | string[];
  connectOptions?: Partial<NodeConnectionOptions>;
  timings?: HaTimingOptions;
  /** Replicas of the bucket (1, 3, 5). Default 1. */
  replicas?: number;
  /** Default 'file'. */
  storage?: 'file' | 'memory';
  logger?: Logger;
  /** Monotonic milliseconds; default performance.now. For tests. */
  clock?: () => number;
}

export type HaLostReason = LostReason | 'released' | 'rebalanced';

export interface HaTookInfo {
  /** The instance named by the lease it replaced (absent when there was none or it was released). */
  previous: string | undefined;
  /** The instruments it subscribes (from the bucket's want record, or the initial ones). */
  instruments: number;
}

export interface HaControllerEvents {
  /** This instance took a key's lease (its sockets are being opened). */
  took: [apiKeyId: string, info: HaTookInfo];
  /** This instance stopped using a key (its sockets are closed or closing). */
  lost: [apiKeyId: string, reason: HaLostReason];
  /** Background failures: NATS requests, unreadable bucket entries, a key that failed to open. */
  error: [error: Error];
}

export interface HaKeyState {
  apiKeyId: string;
  role: 'active' | 'standby';
  /** The instance named by the lease, as last read (undefined: none, or unreadable). */
  holder: string | undefined;
  /** Epoch ms the holder says it took the lease (its wall clock). */
  since: number | undefined;
  /** Ms the lease's revision has stood still, by this instance's clock (for an active key: since its last renewal was sent). */
  leaseAgeMs: number | undefined;
}

export interface HaStats {
  group: string;
  instance: string;
  /** Live members seen at the last poll, this one included. */
  members: number;
  /** Keys this instance may hold now. */
  share: number;
  keys: HaKeyState[];
  /** Leases this instance took. */
  takeovers: number;
  /** Keys lost, by reason. */
  lost: Record<HaLostReason, number>;
  renew: { count: number; failures: number; lastMs: number; maxMs: number; totalMs: number };
}

interface SeenLease {
  revision: number;
  record: LeaseRecord | undefined;
}

export class HaController extends EventEmitter<HaControllerEvents> {
  readonly group: string;
  readonly instance: string;
  readonly timings: HaTimings;
  readonly #options: HaControllerOptions;
  /** The group's keys as this instance knows them (a watched keys file adds and removes). */
  #apiKeyIds: string[];
  readonly #clock: () => number;
  readonly #logger: Logger;
  readonly #revisions = new RevisionClock();
  readonly #keepers = new Map<string, LeaseKeeper>();
  readonly #wants = new Map<string, Map<number, Mode>>();
  /** Held keys whose want record must be (re)written, and when each was last written. */
  readonly #wantWritten = new Map<string, number>();
  readonly #leases = new Map<string, SeenLease | undefined>();
  /** Entry key -> revision already reported as unreadable (one report per bad revision). */
  readonly #reported = new Map<string, number>();
  #store: LeaseStore | undefined;
  #nc: NatsConnection | undefined;
  #ownsConnection = false;
  #stopWatch: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #ticking: Promise<void> | undefined;
  #again = false;
  #state: 'idle' | 'starting' | 'running' | 'closed' = 'idle';
  #startedAt = 0;
  #memberRevision: number | undefined;
  #memberWrittenAt = Number.NEGATIVE_INFINITY;
  #members = 1;
  #share = 0;
  #excessSince: number | undefined;
  #failingPoll = false;
  #failingMembers = false;
  /** The member refresh in flight, if any (it runs beside the polls). */
  #membersTask: Promise<void> | undefined;
  #takeovers = 0;
  readonly #lost: Record<HaLostReason, number> = { fenced: 0, stolen: 0, released: 0, rebalanced: 0 };
  readonly #renew = { count: 0, failures: 0, lastMs: 0, maxMs: 0, totalMs: 0 };

  constructor(options: HaControllerOptions) {
    super();
    this.group = validateGroup(options.group);
    this.instance = validateInstance(options.instance ?? defaultInstanceId());
    this.timings = resolveTimings(options.timings);
    if (!Array.isArray(options.apiKeyIds) || options.apiKeyIds.length === 0) {
      throw new InvalidArgumentError('ha: apiKeyIds must list at least one API key id');
    }
    for (const id of options.apiKeyIds) encodeKeyId(id);
    if (new Set(options.apiKeyIds).size !== options.apiKeyIds.length) {
      throw new InvalidArgumentError('ha: apiKeyIds lists an id twice');
    }
    this.#apiKeyIds = [...options.apiKeyIds];
    this.#options = options;
    this.#clock = options.clock ?? (() => performance.now());
    this.#logger = options.logger ?? silentLogger;
  }

  /** Connects, opens (or creates) the bucket, announces this member and starts polling. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new InvalidArgumentError('ha: start() may be called once');
    this.#state = 'starting';
    const o = this.#options;
    try {
      if (o.connection) this.#nc = o.connection;
      else {
        this.#nc = await dialNats({
          servers: o.servers,
          ...(o.connectOptions ? { connectOptions: o.connectOptions } : {}),
        });
        this.#ownsConnection = true;
      }
      this.#store = await LeaseStore.open(this.#nc, this.group, {
        cleanupMs: this.timings.cleanupMs,
        replicas: o.replicas ?? 1,
        storage: o.storage ?? 'file',
        timeoutMs: Math.max(100, this.timings.renewMs),
      });
      if (this.#state !== 'starting') throw closedError('the HA controller');
      this.#stopWatch = await this.#store.watch('lease', (_key, deleted) => {
        // A released lease: look now rather than at the next poll (the graceful handover's speed).
        if (deleted) this.#pollSoon();
      });
    } catch (error) {
      await this.#teardown();
      this.#state = 'closed';
      throw error;
    }
    this.#startedAt = Date.now();
    this.#state = 'running';
    this.#logger.info({ group: this.group, instance: this.instance }, 'ha: started');
    // The first share is sized from the members before any lease is taken (two instances starting
    // together then split the keys at once, not after a rebalance); bounded by the listing's timeout.
    await this.#refreshMembers(this.#clock());
    await this.#poll();
  }

  /**
   * Stops. With `release` (the default, what SIGTERM does) each held key's sockets are closed and
   * then its lease deleted, so a standby takes it at once; without, the leases are left to lapse
   * (what a crash leaves behind; tests use it). Idempotent.
   */
  async close(options: { release?: boolean } = {}): Promise<void> {
    if (this.#state === 'closed') return;
    const wasRunning = this.#state === 'running';
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#stopWatch?.();
    await this.#ticking?.catch(() => undefined);
    // A member write still in flight would otherwise land after the removal below.
    await this.#membersTask;
    const release = options.release ?? true;
    await Promise.allSettled(
      [...this.#keepers.values()].map(async (keeper) => {
        keeper.stop();
        this.#keepers.delete(keeper.apiKeyId);
        this.#wants.delete(keeper.apiKeyId);
        await this.#options.host.close(keeper.apiKeyId).catch((e: unknown) => this.#report(e));
        if (release) await keeper.release().catch((e: unknown) => this.#report(e));
        this.#lost.released++;
        this.emit('lost', keeper.apiKeyId, 'released');
      }),
    );
    if (release && wasRunning && this.#store && this.#memberRevision !== undefined) {
      await this.#store.remove(memberKey(this.instance)).catch((e: unknown) => this.#report(e));
    }
    await this.#teardown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Adds a key to the group's set (a keys file gained it): this instance's share is counted over
   * the new set, and the key is taken at the next poll if its lease is free and the share allows.
   * Every instance of the group must be given the same change. Throws InvalidArgumentError for a
   * bad id or one already in the set.
   */
  addKey(apiKeyId: string): void {
    if (this.#state === 'closed') throw closedError('the HA controller');
    encodeKeyId(apiKeyId);
    if (this.#apiKeyIds.includes(apiKeyId)) {
      throw new InvalidArgumentError(`ha: ${JSON.stringify(apiKeyId)} is already in the group's keys`);
    }
    this.#apiKeyIds.push(apiKeyId);
    this.#share = shareOf(this.#apiKeyIds.length, this.#members);
    this.#pollSoon();
  }

  /**
   * Removes a key from the group's set (a keys file lost it). Held here: its sockets close and its
   * lease is released (so no instance holds a key nobody is configured with). Its want record stays
   * in the bucket (until max age), so the key subscribes the same again if it comes back.
   * A key not in the set is ignored.
   */
  async removeKey(apiKeyId: string): Promise<void> {
    const i = this.#apiKeyIds.indexOf(apiKeyId);
    if (i < 0) return;
    this.#apiKeyIds.splice(i, 1);
    this.#leases.delete(apiKeyId);
    this.#share = shareOf(this.#apiKeyIds.length, this.#members);
    // A poll in flight may be taking it right now: let it finish, then drop what it took.
    await this.#ticking?.catch(() => undefined);
    const keeper = this.#keepers.get(apiKeyId);
    if (keeper) await this.#drop(keeper, 'released');
  }

  /** The keys held now. */
  held(): string[] {
    return [...this.#keepers.keys()];
  }

  /** The instruments a held key subscribes (undefined for a key not held here). */
  want(apiKeyId: string): ReadonlyMap<number, Mode> | undefined {
    return this.#wants.get(apiKeyId);
  }

  /**
   * Makes a held key subscribe exactly `instruments` (token -> mode) and records it in the bucket,
   * so whoever takes the key next subscribes the same. Throws InvalidArgumentError for a key not
   * held here (only the holder writes a key's want record).
   */
  async setWant(apiKeyId: string, instruments: ReadonlyMap<number, Mode>): Promise<void> {
    if (this.#state === 'closed') throw closedError('the HA controller');
    const want = checkWant(instruments);
    if (!this.#keepers.has(apiKeyId)) {
      throw new InvalidArgumentError(`ha: ${JSON.stringify(apiKeyId)} is not held by this instance`);
    }
    this.#wants.set(apiKeyId, want);
    this.#wantWritten.set(apiKeyId, Number.NEGATIVE_INFINITY);
    await this.#writeWant(apiKeyId);
    await this.#options.host.update(apiKeyId, want);
  }

  stats(): HaStats {
    const now = this.#clock();
    const keys = this.#apiKeyIds.map((id): HaKeyState => {
      const keeper = this.#keepers.get(id);
      const seen = this.#leases.get(id);
      return {
        apiKeyId: id,
        role: keeper ? 'active' : 'standby',
        holder: keeper ? this.instance : seen?.record?.instance,
        since: seen?.record?.acquiredAt,
        leaseAgeMs: keeper
          ? Math.round(keeper.age(now))
          : seen
            ? Math.round(this.#revisions.stillFor(leaseKey(id), now))
            : undefined,
      };
    });
    return {
      group: this.group,
      instance: this.instance,
      members: this.#members,
      share: this.#share,
      keys,
      takeovers: this.#takeovers,
      lost: { ...this.#lost },
      renew: { ...this.#renew },
    };
  }

  // ---------------------------------------------------------------- polling

  #pollSoon(): void {
    if (this.#state !== 'running') return;
    if (this.#ticking) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    void this.#poll();
  }

  #poll(): Promise<void> {
    const run = this.#pollOnce()
      .catch((error: unknown) => {
        if (!this.#failingPoll) this.#report(error);
        this.#failingPoll = true;
      })
      .finally(() => {
        this.#ticking = undefined;
        if (this.#state !== 'running') return;
        const delay = this.#again ? 0 : this.timings.pollMs;
        this.#again = false;
        this.#timer = setTimeout(() => void this.#poll(), timerMs(delay));
        this.#timer.unref?.();
      });
    this.#ticking = run;
    return run;
  }

  async #pollOnce(): Promise<void> {
    const store = this.#store!;
    const now = this.#clock();
    // Members only size this instance's share. Listing them creates a consumer, the slowest request
    // here: when the bucket's stream leader is lost it waits for the new one, for up to 4 request
    // timeouts each time. So it runs beside the poll, never in front of it: the leases are read (and
    // lapsed ones taken) every pollMs with the last share known. Taking stays safe, as every lease
    // write is revision-checked; an excess share is given back by the rebalance.
    this.#refreshMembers(now);
    if (this.#share === 0) this.#share = shareOf(this.#apiKeyIds.length, this.#members);
    // A copy: a keys file may add or remove a key while the leases are being read.
    const ids = [...this.#apiKeyIds];
    const entries = await Promise.all(ids.map((id) => store.get(leaseKey(id))));
    this.#failingPoll = false;
    const seenAt = this.#clock();
    const lapsed: [string, StoreEntry | undefined][] = [];
    ids.forEach((id, i) => {
      const entry = entries[i];
      const key = leaseKey(id);
      this.#revisions.observe(key, entry?.value ? entry.revision : undefined, seenAt);
      const record = entry?.value ? this.#decodeLease(entry) : undefined;
      this.#leases.set(id, entry?.value ? { revision: entry.revision, record } : undefined);
      if (this.#keepers.has(id)) return;
      const ttl = record?.ttlMs ?? this.timings.ttlMs;
      if (!entry?.value || this.#revisions.stillFor(key, seenAt) >= ttl) lapsed.push([id, entry]);
    });
    // Keys not taken yet, in an order that differs per instance: two instances starting together
    // mostly reach for different keys first.
    lapsed.sort((a, b) => rank(this.instance, a[0]) - rank(this.instance, b[0]));
    for (const [id, entry] of lapsed) {
      if (this.#state !== 'running' || this.#keepers.size >= this.#share) break;
      await this.#acquire(id, entry);
    }
    await this.#rebalance(seenAt);
    await this.#refreshWants(seenAt);
  }

  /**
   * Starts a member refresh (write this member's record when due, then list the members) unless one
   * is still running: one at a time, so a slow cluster is never sent a pile of listings (consumers).
   */
  #refreshMembers(now: number): Promise<void> {
    if (this.#membersTask) return this.#membersTask;
    const store = this.#store!;
    const task = (async () => {
      try {
        if (now - this.#memberWrittenAt >= this.timings.renewMs) await this.#writeMember(now);
        await this.#readMembers(store);
        this.#failingMembers = false;
      } catch (error) {
        if (this.#state !== 'running') return;
        if (!this.#failingMembers) this.#report(error);
        this.#failingMembers = true;
      }
    })().finally(() => {
      this.#membersTask = undefined;
    });
    this.#membersTask = task;
    return task;
  }

  async #writeMember(now: number): Promise<void> {
    const record = encodeMember({
      v: 1,
      instance: this.instance,
      startedAt: this.#startedAt,
      renewedAt: Date.now(),
      ttlMs: this.timings.ttlMs,
    });
    this.#memberRevision = await this.#store!.put(memberKey(this.instance), record);
    this.#memberWrittenAt = now;
  }

  async #readMembers(store: LeaseStore): Promise<void> {
    const keys = await store.keysUnder('member');
    const mine = memberKey(this.instance);
    const entries = await Promise.all(keys.filter((k) => k !== mine).map((k) => store.get(k)));
    const now = this.#clock();
    let live = 1;
    for (const entry of entries) {
      if (!entry?.value) continue;
      this.#revisions.observe(entry.key, entry.revision, now);
      const decoded = decodeMember(entry.value, entry.key);
      if (!decoded.ok) this.#reportEntry(entry, decoded.error);
      const ttl = decoded.ok ? decoded.value.ttlMs : this.timings.ttlMs;
      if (this.#revisions.stillFor(entry.key, now) < ttl) live++;
    }
    this.#revisions.retain(new Set(keys), 'member.');
    this.#members = live;
    this.#share = shareOf(this.#apiKeyIds.length, live);
  }

  #decodeLease(entry: StoreEntry): LeaseRecord | undefined {
    const decoded = decodeLease(entry.value!, entry.key);
    if (decoded.ok) return decoded.value;
    this.#reportEntry(entry, decoded.error);
    return undefined;
  }

  // ---------------------------------------------------------------- taking and losing keys

  async #acquire(apiKeyId: string, entry: StoreEntry | undefined): Promise<void> {
    const store = this.#store!;
    const key = leaseKey(apiKeyId);
    const nowMs = Date.now();
    const record: LeaseRecord = {
      v: 1,
      instance: this.instance,
      apiKeyId,
      acquiredAt: nowMs,
      renewedAt: nowMs,
      ttlMs: this.timings.ttlMs,
    };
    const previous = entry?.value ? this.#leases.get(apiKeyId)?.record?.instance : undefined;
    const sentAt = this.#clock();
    let revision: number;
    try {
      revision = entry?.value
        ? await store.update(key, encodeLease(record), entry.revision)
        : await store.create(key, encodeLease(record));
    } catch (error) {
      // Another standby was faster: not an error.
      if (!isRevisionConflict(error)) this.#report(error);
      return;
    }
    const keeper = new LeaseKeeper(this.#keeperHost(), record, revision, sentAt);
    if (this.#state !== 'running' || !this.#apiKeyIds.includes(apiKeyId)) {
      await keeper.release().catch(() => undefined);
      return;
    }
    this.#keepers.set(apiKeyId, keeper);
    this.#takeovers++;
    const stored = await this.#readWant(apiKeyId);
    if (this.#keepers.get(apiKeyId) !== keeper) return;
    const want = stored ?? this.#initialWant(apiKeyId);
    this.#wants.set(apiKeyId, want);
    if (!stored) this.#wantWritten.set(apiKeyId, Number.NEGATIVE_INFINITY);
    else this.#wantWritten.set(apiKeyId, this.#clock());
    this.#logger.info({ apiKeyId, instance: this.instance, previous }, 'ha: took the lease of a key');
    this.emit('took', apiKeyId, { previous, instruments: want.size });
    void this.#options.host.open(apiKeyId, want).catch((error: unknown) => {
      // A close (fence, release) during the open interrupts it: that rejection is expected.
      if (this.#keepers.get(apiKeyId) === keeper && !(error instanceof ClosedError)) this.#report(error);
    });
  }

  /** The configured instruments of a key; a bad list is reported and the key opens with none. */
  #initialWant(apiKeyId: string): Map<number, Mode> {
    try {
      return checkWant(this.#options.initialWant?.(apiKeyId) ?? new Map());
    } catch (error) {
      this.#report(error);
      return new Map();
    }
  }

  async #readWant(apiKeyId: string): Promise<Map<number, Mode> | undefined> {
    const key = wantKey(apiKeyId);
    try {
      const entry = await this.#store!.get(key);
      if (!entry?.value) return undefined;
      const decoded = decodeWant(entry.value, key);
      if (decoded.ok) return decoded.value.instruments;
      this.#reportEntry(entry, decoded.error);
    } catch (error) {
      this.#report(error);
    }
    return undefined;
  }

  async #writeWant(apiKeyId: string): Promise<void> {
    const want = this.#wants.get(apiKeyId);
    if (!want || !this.#store) return;
    const at = this.#clock();
    await this.#store.put(
      wantKey(apiKeyId),
      encodeWant({ v: 1, apiKeyId, by: this.instance, updatedAt: Date.now(), instruments: want }),
    );
    if (this.#wants.get(apiKeyId) === want) this.#wantWritten.set(apiKeyId, at);
  }

  /** Writes want records never written (or not for cleanupMs / 4, so max age never removes them). */
  async #refreshWants(now: number): Promise<void> {
    for (const id of this.#keepers.keys()) {
      const at = this.#wantWritten.get(id) ?? Number.NEGATIVE_INFINITY;
      if (now - at < this.timings.cleanupMs / 4) continue;
      await this.#writeWant(id);
    }
  }

  /** Holding more than the share for a whole TTL (a member joined): hand one key over. */
  async #rebalance(now: number): Promise<void> {
    if (this.#keepers.size <= this.#share) {
      this.#excessSince = undefined;
      return;
    }
    this.#excessSince ??= now;
    if (now - this.#excessSince < this.timings.ttlMs) return;
    this.#excessSince = undefined;
    const newest = [...this.#keepers.values()].sort((a, b) => b.acquiredAt - a.acquiredAt)[0]!;
    await this.#drop(newest, 'rebalanced');
  }

  /** Closes a key's sockets, then deletes its lease. */
  async #drop(keeper: LeaseKeeper, reason: HaLostReason): Promise<void> {
    keeper.stop();
    this.#forget(keeper.apiKeyId);
    await this.#options.host.close(keeper.apiKeyId).catch((e: unknown) => this.#report(e));
    await keeper.release().catch((e: unknown) => this.#report(e));
    this.#lost[reason]++;
    this.#logger.info({ apiKeyId: keeper.apiKeyId, reason }, 'ha: gave up a key');
    this.emit('lost', keeper.apiKeyId, reason);
  }

  #forget(apiKeyId: string): void {
    this.#keepers.delete(apiKeyId);
    this.#wants.delete(apiKeyId);
    this.#wantWritten.delete(apiKeyId);
  }

  #keeperHost() {
    return {
      store: this.#store!,
      timings: this.timings,
      clock: this.#clock,
      renewed: (_id: string, latencyMs: number) => {
        const r = this.#renew;
        r.count++;
        r.lastMs = latencyMs;
        r.maxMs = Math.max(r.maxMs, latencyMs);
        r.totalMs += latencyMs;
      },
      lost: (apiKeyId: string, reason: LostReason) => {
        // Fenced or stolen: the sockets close NOW, before anyone else may take the key.
        this.#forget(apiKeyId);
        this.#lost[reason]++;
        this.#logger.warn({ apiKeyId, reason }, 'ha: lost a key; closing its sockets');
        void this.#options.host.close(apiKeyId).catch((e: unknown) => this.#report(e));
        this.emit('lost', apiKeyId, reason);
      },
      report: (error: unknown) => {
        this.#renew.failures++;
        this.#report(error);
      },
    };
  }

  // ---------------------------------------------------------------- internals

  #reportEntry(entry: StoreEntry, error: Error): void {
    if (this.#reported.get(entry.key) === entry.revision) return;
    this.#reported.set(entry.key, entry.revision);
    // Bounded: one slot per entry key, and the bucket's keys are this group's few.
    if (this.#reported.size > 1_000) this.#reported.clear();
    this.#report(error);
  }

  #report(error: unknown): void {
    const e = error instanceof Error ? error : new UnexpectedError(String(error));
    // The name tells an unreadable bucket entry (HaEntryError) from a NATS failure in a JSON log.
    this.#logger.warn({ group: this.group, name: e.name, error: e.message }, 'ha: error');
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  async #teardown(): Promise<void> {
    if (this.#ownsConnection && this.#nc && !this.#nc.isClosed()) {
      await this.#nc.close().catch(() => undefined);
    }
  }
}

function checkWant(instruments: ReadonlyMap<number, Mode>): Map<number, Mode> {
  if (!(instruments instanceof Map))
    throw new InvalidArgumentError('ha: instruments must be a Map of token -> mode');
  if (instruments.size > MAX_WANT_TOKENS) {
    throw new InvalidArgumentError(
      `ha: at most ${MAX_WANT_TOKENS} instruments per key, got ${instruments.size}`,
    );
  }
  for (const [token, mode] of instruments) {
    if (!Number.isInteger(token) || token < 0 || token > 0xffff_ffff || !isMode(mode)) {
      throw new InvalidArgumentError(
        `ha: instruments must map whole-number tokens to 'ltp', 'quote' or 'full'`,
      );
    }
  }
  return new Map(instruments);
}

/** A stable per-instance order of keys (FNV-1a of instance + key). */
function rank(instance: string, apiKeyId: string): number {
  let h = 0x811c9dc5;
  const text = `${instance}\u0000${apiKeyId}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
