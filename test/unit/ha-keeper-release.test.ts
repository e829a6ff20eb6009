/**
 * The lease keeper's release (SIGTERM's graceful handover) against a store double: a renewal in flight
 * when the keeper stops is awaited, so the delete carries the revision that renewal wrote; a conflict
 * whose entry still names this instance is deleted at that entry's revision; someone else's is left.
 */
import { describe, expect, it } from 'vitest';
import { encodeLease, type LeaseRecord } from '../../src/ha/codec.js';
import { type KeeperHost, LeaseKeeper } from '../../src/ha/keeper.js';
import type { LeaseStore, StoreEntry } from '../../src/ha/store.js';
import { resolveTimings } from '../../src/ha/timings.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const conflict = () => Object.assign(new Error('wrong last sequence'), { code: 10071 });

const record: LeaseRecord = {
  v: 1,
  instance: 'me',
  apiKeyId: 'main',
  acquiredAt: 1,
  renewedAt: 1,
  ttlMs: 2_000,
};

/** One lease entry with revision checks, as JetStream KV does them; updates take `updateMs`. */
class StoreDouble {
  revision = 1;
  value: Uint8Array | undefined = encodeLease(record);
  updateMs = 0;
  readonly deletes: number[] = [];

  async update(_key: string, data: Uint8Array, revision: number): Promise<number> {
    await sleep(this.updateMs);
    if (revision !== this.revision) throw conflict();
    this.value = data;
    return ++this.revision;
  }

  async get(key: string): Promise<StoreEntry | undefined> {
    return { key, revision: this.revision, value: this.value };
  }

  async delete(_key: string, revision: number): Promise<void> {
    if (revision !== this.revision) throw conflict();
    this.deletes.push(revision);
    this.value = undefined;
    this.revision++;
  }
}

function keeperOn(store: StoreDouble, renewMs: number): { keeper: LeaseKeeper; lost: string[] } {
  const lost: string[] = [];
  const host: KeeperHost = {
    store: store as unknown as LeaseStore,
    timings: resolveTimings({ ttlMs: 2_000, renewMs }),
    clock: () => performance.now(),
    renewed: () => undefined,
    lost: (_id, reason) => lost.push(reason),
    report: (error) => {
      throw error;
    },
  };
  return { keeper: new LeaseKeeper(host, record, 1, performance.now()), lost };
}

describe('ha keeper release', () => {
  it('ha keeper - release during a renewal in flight deletes at the revision that renewal wrote', async () => {
    const store = new StoreDouble();
    store.updateMs = 150;
    const { keeper, lost } = keeperOn(store, 50);
    await sleep(100); // the renewal was sent at ~50 ms and is answered at ~200 ms
    await keeper.release();
    expect(store.deletes).toEqual([2]);
    expect(store.value).toBeUndefined();
    expect(lost).toEqual([]);
  });

  it('ha keeper - release after a renewal written but unanswered deletes the entry that still names it', async () => {
    const store = new StoreDouble();
    const { keeper } = keeperOn(store, 1_000);
    store.revision = 7; // our own write the keeper never heard back from
    await keeper.release();
    expect(store.deletes).toEqual([7]);
  });

  it('ha keeper - release leaves a lease another instance holds now', async () => {
    const store = new StoreDouble();
    const { keeper } = keeperOn(store, 1_000);
    store.revision = 9;
    store.value = encodeLease({ ...record, instance: 'other' });
    await keeper.release();
    expect(store.deletes).toEqual([]);
    expect(store.value).toBeDefined();
  });
});
