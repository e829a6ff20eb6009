/**
 * Fencing under a partition: the active instance loses NATS (through a proxy the test cuts) but keeps
 * Kite. It must close its Kite sockets before its lease can be taken, so the simulator never sees the
 * key's sockets from both instances: sampled every few ms, and the simulator's own high-water mark.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/protocol/constants.js';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, haInstance, socketsOf, startHaSimulator, type TestInstance, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
let universe: number[];
const running: TestInstance[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  const first = await startHaSimulator();
  universe = first.instruments().map((i) => i.instrument_token);
  await first.stop();
});

afterAll(async () => {
  await Promise.allSettled(running.map((i) => i.controller.close()));
  await Promise.allSettled(proxies.map((p) => p.close()));
  await sim?.stop();
  await nats?.dispose();
});

describe('ha partition', () => {
  for (const mode of ['blackhole', 'reset'] as const) {
    it(`ha - a holder cut off from NATS (${mode}) closes its Kite sockets before the standby can take the key`, async () => {
      // A simulator of its own: its high-water mark of sockets per key covers this test alone.
      sim = await startHaSimulator();
      const want = new Map<number, Mode>([[universe[0]!, 'full']]);
      const proxy = await startTcpProxy(nats.port);
      proxies.push(proxy);
      const group = `part-${mode}`;
      // Both instances may hold only `key`: the simulator's per-key count is theirs alone.
      const only = { keyCount: 1, initialWant: () => want } as const;
      const a = haInstance(sim, { servers: proxy.url, instance: 'active', group, ...only });
      const b = haInstance(sim, { servers: nats.url, instance: 'standby', group, ...only });
      running.push(a, b);
      await a.controller.start();
      await until('a holds the key', () => a.controller.held().length === 1);
      await b.controller.start();
      await until('a subscribed', () => socketsOf(sim, HA_KEYS[0].apiKey).some((s) => s.size === 1));
      const apiKey = HA_KEYS[0].apiKey;

      // Sample the simulator's view of the key and both instances' views, every 5 ms.
      const samples: { at: number; sockets: number; a: boolean; b: boolean }[] = [];
      const sampler = setInterval(() => {
        samples.push({
          at: performance.now(),
          sockets: socketsOf(sim, apiKey).length,
          a: a.host.manager(HA_KEYS[0].id) !== undefined,
          b: b.host.manager(HA_KEYS[0].id) !== undefined,
        });
      }, 5);
      let fencedAt = 0;
      let socketsWhenTaken = -1;
      a.controller.once('lost', (_id, reason) => {
        if (reason === 'fenced') fencedAt = performance.now();
      });
      const took = new Promise<number>((resolve) =>
        b.controller.once('took', () => {
          socketsWhenTaken = socketsOf(sim, apiKey).length;
          resolve(performance.now());
        }),
      );
      const cutAt = performance.now();
      proxy.cut(mode);
      const tookAt = await took;
      await until('b subscribed', () => socketsOf(sim, apiKey).some((s) => s.size === 1));
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(sampler);

      const { fenceMs, ttlMs } = a.controller.timings;
      // The holder's sockets were gone when the standby took the key, with the margin to spare.
      expect(socketsWhenTaken).toBe(0);
      for (const s of samples) {
        expect(s.sockets).toBeLessThanOrEqual(1);
        expect(s.a && s.b).toBe(false);
      }
      expect(sim.keyInfo(apiKey).maxConcurrentConnections).toBe(1);
      expect(a.controller.stats().lost.fenced).toBe(1);
      expect(fencedAt - cutAt).toBeLessThanOrEqual(fenceMs + 300);
      expect(tookAt - fencedAt).toBeGreaterThan(ttlMs - fenceMs - a.controller.timings.renewMs);
      expect(tookAt - cutAt).toBeLessThan(ttlMs + 1_500);
      expect(samples.length).toBeGreaterThan(100);

      // The partition heals: the old holder finds the key taken and stays a standby.
      proxy.restore();
      await new Promise((r) => setTimeout(r, 1_500));
      expect(a.controller.held()).toEqual([]);
      expect(b.controller.held()).toEqual([HA_KEYS[0].id]);
      expect(socketsOf(sim, apiKey)).toHaveLength(1);
      await a.controller.close();
      await b.controller.close();
      running.length = 0;
      await sim.stop();
    }, 30_000);
  }
});
