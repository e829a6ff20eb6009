/**
 * HA leases against a real nats-server (JetStream KV) and the Kite simulator, which counts each key's
 * sockets: one holder per key, standbys with no sockets, takeover after a crash within the TTL, fast
 * takeover after a release, keys shared out, and the want instruments carried to the next holder.
 */
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { leaseKey, wantKey } from '../../src/ha/names.js';
import { LeaseStore } from '../../src/ha/store.js';
import type { Mode } from '../../src/protocol/constants.js';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, haInstance, socketsOf, startHaSimulator, type TestInstance, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
let universe: number[];
let running: TestInstance[] = [];
let groupSeq = 0;

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  sim = await startHaSimulator();
  universe = sim.instruments().map((i) => i.instrument_token);
});

afterAll(async () => {
  await sim?.stop();
  await nats?.dispose();
});

afterEach(async () => {
  await Promise.allSettled(running.map((i) => i.controller.close()));
  running = [];
});

/** A fresh group per test: no leases left over from the previous one. */
function group(): string {
  groupSeq++;
  return `t${groupSeq}`;
}

function start(
  g: string,
  instance: string,
  extra: Partial<Parameters<typeof haInstance>[1]> = {},
): TestInstance {
  const inst = haInstance(sim, { servers: nats.url, instance, group: g, ...extra });
  running.push(inst);
  return inst;
}

const A = HA_KEYS[0];

describe('ha leases', () => {
  it('ha - one key, two instances: one holds it with sockets open, the standby has none; a crash hands it over within ttl + poll', async () => {
    const g = group();
    const want = new Map<number, Mode>([[universe[0]!, 'quote']]);
    const a = start(g, 'inst-a', { initialWant: () => want });
    await a.controller.start();
    await until('a holds alpha', () => a.controller.held().includes(A.id));
    await until('a subscribed at the simulator', () => socketsOf(sim, A.apiKey).some((s) => s.size === 1));
    const b = start(g, 'inst-b', { initialWant: () => want });
    await b.controller.start();
    // Several polls and renewals: the standby stays a standby, with no socket of its own.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(b.controller.held()).toEqual([]);
    expect(b.host.manager(A.id)).toBeUndefined();
    expect(socketsOf(sim, A.apiKey)).toHaveLength(1);
    expect(b.controller.stats().keys[0]).toMatchObject({ role: 'standby', holder: 'inst-a' });
    expect(a.controller.stats().keys[0]).toMatchObject({ role: 'active', holder: 'inst-a' });

    const took = new Promise<number>((resolve) =>
      b.controller.once('took', () => resolve(performance.now())),
    );
    const crashedAt = performance.now();
    // A crash: sockets gone, the lease left in the bucket to lapse.
    await a.controller.close({ release: false });
    const gap = (await took) - crashedAt;
    const { ttlMs, pollMs } = b.controller.timings;
    expect(gap).toBeLessThan(ttlMs + pollMs + 1_200);
    // Not before the TTL: the crashed holder's lease is honoured (it was renewed up to the crash).
    expect(gap).toBeGreaterThan(ttlMs - a.controller.timings.renewMs - 50);
    await until('b subscribed at the simulator', () => socketsOf(sim, A.apiKey).some((s) => s.size === 1));
    expect(b.controller.stats()).toMatchObject({ takeovers: 1 });
    expect(sim.keyInfo(A.apiKey).maxConcurrentConnections).toBe(1);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
  }, 20_000);

  it('ha - a graceful close releases the lease and the standby takes it at once', async () => {
    const g = group();
    const a = start(g, 'inst-a');
    await a.controller.start();
    await until('a holds alpha', () => a.controller.held().length === 1);
    const b = start(g, 'inst-b');
    await b.controller.start();
    const took = new Promise<number>((resolve) =>
      b.controller.once('took', () => resolve(performance.now())),
    );
    const releasedAt = performance.now();
    await a.controller.close();
    const gap = (await took) - releasedAt;
    // The watch sees the delete: far sooner than the TTL (2 s).
    expect(gap).toBeLessThan(1_000);
    expect(a.controller.stats().lost.released).toBe(1);
    expect(b.errors).toEqual([]);
  }, 20_000);

  it('ha - three keys on two instances split 2/1, and all move to the survivor when one fails', async () => {
    const g = group();
    const timings = { ttlMs: 1_000 };
    const a = start(g, 'inst-a', { keyCount: 3, timings });
    const b = start(g, 'inst-b', { keyCount: 3, timings });
    await Promise.all([a.controller.start(), b.controller.start()]);
    await until(
      'a 2/1 split',
      () => {
        const counts = [a.controller.held().length, b.controller.held().length].sort();
        return counts[0] === 1 && counts[1] === 2;
      },
      10_000,
    );
    const held = new Set([...a.controller.held(), ...b.controller.held()]);
    expect(held.size).toBe(3);
    await until('one socket per key', () => HA_KEYS.every((k) => socketsOf(sim, k.apiKey).length === 1));
    const [bigger, smaller] =
      a.controller.held().length === 2 ? [a.controller, b.controller] : [b.controller, a.controller];
    await bigger.close({ release: false });
    await until('the survivor holds all three', () => smaller.held().length === 3, 10_000);
    await until('one socket per key', () => HA_KEYS.every((k) => socketsOf(sim, k.apiKey).length === 1));
    for (const k of HA_KEYS) {
      expect(socketsOf(sim, k.apiKey)).toHaveLength(1);
      expect(sim.keyInfo(k.apiKey).maxConcurrentConnections).toBeLessThanOrEqual(1);
    }
  }, 30_000);

  it('ha - the taking-over instance subscribes what the holder had, including a change made at run time', async () => {
    const g = group();
    const [t1, t2, t3, t4] = universe as [number, number, number, number];
    const a = start(g, 'inst-a', { initialWant: () => new Map([[t1, 'quote']]) });
    await a.controller.start();
    await until('a holds alpha', () => a.controller.held().length === 1);
    await a.controller.setWant(
      A.id,
      new Map<number, Mode>([
        [t1, 'ltp'],
        [t2, 'full'],
        [t3, 'quote'],
      ]),
    );
    const expected = [
      [t1, 'ltp'],
      [t2, 'full'],
      [t3, 'quote'],
    ].sort((x, y) => (x[0] as number) - (y[0] as number));
    await until('a subscribed the change', () =>
      socketsOf(sim, A.apiKey).some((s) => s.size === 3 && s.get(t2) === 'full'),
    );
    // The standby was configured with something else: the bucket's record wins.
    const b = start(g, 'inst-b', { initialWant: () => new Map([[t4, 'full']]), timings: { ttlMs: 1_000 } });
    await b.controller.start();
    await a.controller.close({ release: false });
    await until('b holds alpha', () => b.controller.held().length === 1, 10_000);
    await until('b subscribed', () => socketsOf(sim, A.apiKey).some((s) => s.size === 3));
    const subs = socketsOf(sim, A.apiKey);
    expect(subs).toHaveLength(1);
    expect([...subs[0]!.entries()].sort((x, y) => x[0] - y[0])).toEqual(expected);
    expect([...b.controller.want(A.id)!.entries()].sort((x, y) => x[0] - y[0])).toEqual(expected);
  }, 20_000);

  it('ha - a bad initial instrument list is reported, and the key still opens (with none)', async () => {
    const g = group();
    const a = start(g, 'inst-a', { initialWant: () => new Map<number, Mode>([[-5, 'quote']]) });
    await a.controller.start();
    await until('a holds alpha', () => a.controller.held().length === 1);
    await until('a reported it', () => a.errors.length === 1);
    expect(a.errors[0]).toBeInstanceOf(InvalidArgumentError);
    expect(a.controller.want(A.id)?.size).toBe(0);
    await until('a connected', () => socketsOf(sim, A.apiKey).length === 1);
  }, 20_000);

  it('ha - the store lists each key once, even while its records are being rewritten', async () => {
    const nc = await connect({ servers: nats.url });
    try {
      const store = await LeaseStore.open(nc, group(), {
        cleanupMs: 60_000,
        timeoutMs: 2_000,
        storage: 'memory',
      });
      const value = new TextEncoder().encode('{}');
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.put(`member.m${i}`, value)));
      let writing = true;
      const writer = (async () => {
        // Rewrites while the listings run, as live members do every renewMs.
        for (let i = 0; writing; i++) await store.put(`member.m${i % 300}`, value);
      })();
      for (let round = 0; round < 5; round++) {
        const keys = await store.keysUnder('member');
        expect(keys.length).toBe(300);
        expect(new Set(keys).size).toBe(300);
      }
      writing = false;
      await writer;
    } finally {
      await nc.close();
    }
  }, 30_000);

  it('ha - hostile bucket entries are reported once and ignored: an unreadable lease lapses and is taken', async () => {
    const g = group();
    const nc = await connect({ servers: nats.url });
    try {
      const store = await LeaseStore.open(nc, g, { cleanupMs: 60_000, timeoutMs: 2_000, storage: 'memory' });
      const enc = new TextEncoder();
      await store.put(leaseKey(A.id), enc.encode(`${'['.repeat(50_000)}${']'.repeat(50_000)}`));
      await store.put('member.evil', enc.encode('{"v":1,"instance":{"toString":1}}'));
      await store.put(
        wantKey(A.id),
        enc.encode('{"v":1,"apiKeyId":"alpha","by":"x","updatedAt":1,"modes":{"full":[-1]}}'),
      );
      const t1 = universe[0]!;
      const a = start(g, 'inst-a', { timings: { ttlMs: 1_000 }, initialWant: () => new Map([[t1, 'ltp']]) });
      await a.controller.start();
      await until('a holds alpha', () => a.controller.held().length === 1, 10_000);
      // The lease, the member and the want record: one report each, all typed.
      await until('three reports', () => a.errors.length >= 3);
      await new Promise((r) => setTimeout(r, 300));
      expect(a.errors.map((e) => e.name).sort()).toEqual(['HaEntryError', 'HaEntryError', 'HaEntryError']);
      expect(a.errors.map((e) => e.message).join('\n')).toMatch(
        /lease\.YWxwaGE[\s\S]*member\.evil|member\.evil[\s\S]*lease\.YWxwaGE/,
      );
      // The unreadable want record was ignored: the configured instruments were used.
      expect([...a.controller.want(A.id)!]).toEqual([[t1, 'ltp']]);
      await until('a subscribed', () => socketsOf(sim, A.apiKey).some((s) => s.get(t1) === 'ltp'));
    } finally {
      await nc.close();
    }
  }, 30_000);
});
