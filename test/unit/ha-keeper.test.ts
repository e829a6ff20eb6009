/**
 * The lease keeper on a fake clock and a scripted store: the fence is measured from the SEND time of
 * the last successful renewal (never from its reply), a failed renewal does not move it, and a
 * conflicting write is adopted only when the entry still names this instance.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { encodeLease, type LeaseRecord } from '../../src/ha/codec.js';
import { type KeeperHost, LeaseKeeper } from '../../src/ha/keeper.js';
import type { LeaseStore, StoreEntry } from '../../src/ha/store.js';
import { resolveTimings } from '../../src/ha/timings.js';

const timings = resolveTimings(); // ttl 2000, renew 500, fence 1200
const record: LeaseRecord = {
  v: 1,
  instance: 'me',
  apiKeyId: 'main',
  acquiredAt: 0,
  renewedAt: 0,
  ttlMs: 2_000,
};

interface Call {
  at: number;
  revision: number;
  resolve: (revision: number) => void;
  reject: (error: unknown) => void;
}

function conflict(): ConnectionError {
  return new ConnectionError('wrong last sequence', { cause: { code: 10071 } });
}

let calls: Call[];
let lost: { reason: string; at: number }[];
let entry: StoreEntry | undefined;

function makeKeeper(): LeaseKeeper {
  const store = {
    update: (_key: string, _data: Uint8Array, revision: number) =>
      new Promise<number>((resolve, reject) => calls.push({ at: Date.now(), revision, resolve, reject })),
    get: async () => entry,
    delete: async () => undefined,
  } as unknown as LeaseStore;
  const host: KeeperHost = {
    store,
    timings,
    clock: () => Date.now(),
    renewed: () => undefined,
    lost: (_id, reason) => lost.push({ reason, at: Date.now() }),
    report: () => undefined,
  };
  return new LeaseKeeper(host, record, 7, Date.now());
}

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  calls = [];
  lost = [];
  entry = undefined;
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ha keeper', () => {
  it('ha - the fence counts from the send time of the last successful renewal, not from its reply', async () => {
    const keeper = makeKeeper();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ at: 500, revision: 7 });
    // A slow reply: 600 ms after the send.
    await vi.advanceTimersByTimeAsync(600);
    calls[0]!.resolve(8);
    await vi.advanceTimersByTimeAsync(0);
    expect(keeper.revision).toBe(8);
    // Every later renewal fails (NATS away).
    let failed = 1;
    while (Date.now() < 1_699) {
      await vi.advanceTimersByTimeAsync(1);
      while (calls.length > failed) calls[failed++]!.reject(new ConnectionError('timeout'));
    }
    expect(lost).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    // 500 (send) + 1200 (fence); from the reply it would have been 2300.
    expect(lost).toEqual([{ reason: 'fenced', at: 1_700 }]);
    expect(keeper.stopped).toBe(true);
  });

  it('ha - without any successful renewal the holder fences fenceMs after taking the lease', async () => {
    makeKeeper();
    for (let t = 0; t < 1_200; t++) {
      await vi.advanceTimersByTimeAsync(1);
      for (const c of calls.splice(0)) c.reject(new ConnectionError('disconnected'));
    }
    expect(lost).toEqual([{ reason: 'fenced', at: 1_200 }]);
  });

  it('ha - a conflict whose entry still names this instance is renewed from that revision; another holder means stolen', async () => {
    const keeper = makeKeeper();
    await vi.advanceTimersByTimeAsync(500);
    entry = { key: 'lease.bWFpbg', revision: 9, value: encodeLease(record) };
    calls[0]!.reject(conflict());
    await vi.advanceTimersByTimeAsync(0);
    expect(calls[1]).toMatchObject({ revision: 9 });
    calls[1]!.resolve(10);
    await vi.advanceTimersByTimeAsync(0);
    expect(keeper.revision).toBe(10);
    expect(lost).toEqual([]);

    await vi.advanceTimersByTimeAsync(500);
    entry = { key: 'lease.bWFpbg', revision: 11, value: encodeLease({ ...record, instance: 'other' }) };
    calls[2]!.reject(conflict());
    await vi.advanceTimersByTimeAsync(0);
    expect(lost).toEqual([{ reason: 'stolen', at: 1_000 }]);
    expect(calls).toHaveLength(3);
  });
});
