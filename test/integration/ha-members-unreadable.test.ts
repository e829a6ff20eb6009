/**
 * The member list only sizes an instance's share; listing it (a consumer per poll) is the request that
 * times out first on a busy cluster. A standby that cannot list members must still take a lapsed
 * lease, else one slow request per poll keeps a key without a holder.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { LeaseStore } from '../../src/ha/store.js';
import type { Mode } from '../../src/protocol/constants.js';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, haInstance, socketsOf, startHaSimulator, type TestInstance, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
const running: TestInstance[] = [];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  sim = await startHaSimulator();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.allSettled(running.map((i) => i.controller.close()));
  await sim?.stop();
  await nats?.dispose();
});

describe('ha members unreadable', () => {
  it('ha - a standby that cannot list the members still takes a lapsed lease, and says why once', async () => {
    const want = new Map<number, Mode>([[sim.instruments()[0]!.instrument_token, 'quote']]);
    const options = { servers: nats.url, group: 'members', initialWant: () => want } as const;
    const a = haInstance(sim, { ...options, instance: 'holder' });
    const b = haInstance(sim, { ...options, instance: 'standby' });
    running.push(a, b);
    await a.controller.start();
    await until('a holds the key', () => a.controller.held().length === 1);
    await b.controller.start();
    expect(b.controller.held()).toEqual([]);

    // From now on every member listing fails, as a timed-out consumer create does.
    const listing = vi
      .spyOn(LeaseStore.prototype, 'keysUnder')
      .mockRejectedValue(new ConnectionError('cannot list member entries: timeout'));
    await a.controller.close({ release: false }); // a crash: the lease is left to lapse
    await until('b takes the lapsed lease', () => b.controller.held().length === 1, 8_000);
    await until('b subscribed', () => socketsOf(sim, HA_KEYS[0].apiKey).some((s) => s.size === 1));
    expect(listing).toHaveBeenCalled();
    const reported = b.errors.filter((e) => e.message.includes('cannot list member entries'));
    expect(reported).toHaveLength(1);
  }, 30_000);

  it('ha - a slow member listing does not hold back the lease polls: a lapsed lease is taken about a TTL after the crash', async () => {
    vi.restoreAllMocks();
    const options = { servers: nats.url, group: 'slowlist', timings: { ttlMs: 1_000 } } as const;
    const a = haInstance(sim, { ...options, instance: 'holder' });
    const b = haInstance(sim, { ...options, instance: 'standby' });
    running.push(a, b);
    await a.controller.start();
    await until('a holds the key', () => a.controller.held().length === 1);
    await b.controller.start();

    // Every listing from now on answers only after 4 s, as one does while the bucket's stream elects
    // a new leader (its consumer create waits for it).
    const listing = vi
      .spyOn(LeaseStore.prototype, 'keysUnder')
      .mockImplementation(
        () => new Promise((resolve) => setTimeout(() => resolve(['member.holder', 'member.standby']), 4_000)),
      );
    const crashedAt = performance.now();
    await a.controller.close({ release: false });
    await until('b takes the lapsed lease', () => b.controller.held().length === 1, 10_000);
    const tookMs = performance.now() - crashedAt;
    expect(listing).toHaveBeenCalled();
    // TTL 1 s plus a poll or two; a poll waiting for the 4 s listing would take 8 s or more.
    expect(tookMs).toBeLessThan(2_500);
  }, 30_000);
});
