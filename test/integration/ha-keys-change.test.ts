/**
 * The group's key set changing at run time (a watched keys file gained or lost a key): a key added
 * is taken when the share allows, with its sockets opened; a key removed has its sockets closed and
 * its lease released, so no instance keeps using a key nobody is configured with. Real nats-server
 * and the simulator (which counts each key's sockets).
 */
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { ManagerKeyHost } from '../../src/ha/key-host.js';
import { leaseKey } from '../../src/ha/names.js';
import { LeaseStore } from '../../src/ha/store.js';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, haInstance, socketsOf, startHaSimulator, type TestInstance, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
let running: TestInstance[] = [];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  sim = await startHaSimulator();
});

afterAll(async () => {
  await sim?.stop();
  await nats?.dispose();
});

afterEach(async () => {
  await Promise.allSettled(running.map((i) => i.controller.close()));
  running = [];
});

const [A, B] = HA_KEYS;

describe('ha keys change', () => {
  it('ha - a key added at run time is taken with its sockets; removed, its sockets close and its lease is released', async () => {
    const inst = haInstance(sim, { servers: nats.url, instance: 'solo', group: 'keyset', keyCount: 1 });
    running.push(inst);
    const { controller, host } = inst;
    await controller.start();
    await until('alpha held', () => controller.held().includes(A.id));
    expect(socketsOf(sim, B.apiKey)).toHaveLength(0);

    expect(() => controller.addKey(A.id)).toThrow(InvalidArgumentError);
    host.setKey(B);
    controller.addKey(B.id);
    await until('beta held', () => controller.held().includes(B.id), 5_000);
    await until('beta socket open', () => socketsOf(sim, B.apiKey).length === 1, 5_000);
    expect(controller.stats().keys.map((k) => k.apiKeyId)).toEqual([A.id, B.id]);

    const nc = await connect({ servers: nats.url });
    try {
      const store = await LeaseStore.open(nc, 'keyset', {
        cleanupMs: 60_000,
        timeoutMs: 2_000,
        storage: 'memory',
      });
      expect((await store.get(leaseKey(B.id)))?.value).toBeDefined();
      await controller.removeKey(B.id);
      await host.removeKey(B.id);
      expect(controller.held()).toEqual([A.id]);
      // Released, not left to lapse: the entry is gone at once.
      expect((await store.get(leaseKey(B.id)))?.value).toBeUndefined();
      await until('beta socket closed', () => socketsOf(sim, B.apiKey).length === 0, 5_000);
      expect(controller.stats().keys.map((k) => k.apiKeyId)).toEqual([A.id]);
      // Not taken again by the next polls.
      await new Promise((r) => setTimeout(r, 3 * controller.timings.pollMs));
      expect(controller.held()).toEqual([A.id]);
      expect(socketsOf(sim, B.apiKey)).toHaveLength(0);
      expect(socketsOf(sim, A.apiKey)).toHaveLength(1);
    } finally {
      await nc.close();
    }
    expect(inst.errors).toEqual([]);
  }, 30_000);

  it('ha - with waitForKeys, a key taken with a refused token opens anyway; its instruments wait and are subscribed once a new token works', async () => {
    const host = new ManagerKeyHost({
      keys: [{ id: A.id, apiKey: A.apiKey, accessToken: 'yesterdays-token' }],
      configure: (b) =>
        b
          .url(sim.url)
          .waitForKeys(true)
          .baseConfig({ reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' } }),
    });
    const errors: Error[] = [];
    host.on('error', (e) => errors.push(e));
    const want = new Map(
      sim
        .instruments()
        .slice(0, 3)
        .map((i) => [i.instrument_token, 'ltp' as const]),
    );
    try {
      // Resolves (the held key is not given up): the service waits for the next token.
      await host.open(A.id, want);
      const stats = host.manager(A.id)!.getStats();
      expect(stats.perApiStats[0]!.state).toBe('failed');
      expect(stats.unplacedSymbols).toBe(3);
      expect(socketsOf(sim, A.apiKey)).toHaveLength(0);
      await host.manager(A.id)!.updateAccessToken(A.id, A.accessToken);
      await until(
        'the waiting instruments subscribed',
        () => socketsOf(sim, A.apiKey).some((s) => s.size === 3),
        5_000,
      );
      expect(host.manager(A.id)!.getStats().unplacedSymbols).toBe(0);
    } finally {
      await host.closeAll();
    }
  }, 20_000);
});
