/**
 * `kiteticker stream --ha` as users run it: two processes, one Kite simulator (in this process, so
 * its socket counts are read directly) and a real nats-server. kill -9 of the active one: the standby
 * takes over; SIGTERM of the next active one: its leases are released and the new standby takes over
 * at once. `kiteticker ha status` and the metrics show who holds what.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, socketsOf, startHaSimulator, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
const KEY = HA_KEYS[0];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  sim = await startHaSimulator();
});

afterEach(() => killAll());

afterAll(async () => {
  await sim?.stop();
  await nats?.dispose();
});

const ENV = { KITE_API_KEY: KEY.apiKey, KITE_ACCESS_TOKEN: KEY.accessToken };

function instance(id: string, extra: string[] = []) {
  const token = String(sim.instruments()[0]!.instrument_token);
  return startCli(
    [
      'stream',
      token,
      '--url',
      sim.url,
      '--nats',
      nats.url,
      '--ha',
      'cli',
      '--ha-instance',
      id,
      '--format',
      'none',
      ...extra,
    ],
    ENV,
    60_000,
  );
}

describe('cli ha', () => {
  it('cli - stream --ha: kill -9 of the active instance hands the key to the standby; SIGTERM hands it over at once', async () => {
    // Consumers see ticks from whichever instance is active, on the same subjects.
    const consumer: NatsConnection = await connect({ servers: nats.url });
    let ticks = 0;
    consumer.subscribe('kite.tick.>', {
      callback: () => {
        ticks++;
      },
    });
    const p1 = instance('p1');
    await p1.waitFor('stderr', /ha cli\/p1: active for key/, 20_000);
    const p2 = instance('p2', ['--metrics-port', '0']);
    await p2.waitFor('stderr', /ha cli\/p2: started; holding 0 of 1/, 20_000);
    await until('p1 subscribed', () => socketsOf(sim, KEY.apiKey).some((s) => s.size === 1));
    expect(socketsOf(sim, KEY.apiKey)).toHaveLength(1);

    const status = await runCli(['ha', 'status', '--nats', nats.url, '--ha', 'cli', '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      leases: { holder: string }[];
      members: { instance: string }[];
    };
    expect(parsed.leases.map((l) => l.holder)).toEqual(['p1']);
    expect(parsed.members.map((m) => m.instance)).toEqual(['p1', 'p2']);

    await until('ticks from p1 on NATS', () => ticks > 0, 10_000);

    // kill -9: no release; the standby waits for the lease to lapse (2 s by default).
    const killedAt = performance.now();
    p1.child.kill('SIGKILL');
    await p2.waitFor('stderr', /ha cli\/p2: active for key \S+ \(taken over from p1\)/, 10_000);
    const takeover = performance.now() - killedAt;
    expect(takeover).toBeLessThan(4_000);
    await until('p2 subscribed', () => socketsOf(sim, KEY.apiKey).some((s) => s.size === 1), 5_000);
    const before = ticks;
    await until('ticks from p2 on NATS', () => ticks > before, 10_000);

    const metricsUrl = (await p2.waitFor('stderr', /metrics (http:\/\/\S+)/))[1]!;
    // The first renewal comes renewMs (500 ms) after the takeover.
    let metrics = '';
    for (let i = 0; i < 50 && !/kiteticker_ha_renew_seconds_count\{[^}]*\} [1-9]/.test(metrics); i++) {
      metrics = await (await fetch(metricsUrl)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(metrics).toMatch(/kiteticker_ha_active\{instance="p2",group="cli",api_key_id="\S+"\} 1/);
    expect(metrics).toMatch(/kiteticker_ha_takeovers_total\{instance="p2",group="cli"\} 1/);
    expect(metrics).toMatch(/kiteticker_ha_renew_seconds_count\{instance="p2",group="cli"\} [1-9]/);

    // SIGTERM: p2 closes its socket, then releases; p3 takes the key without waiting for the TTL.
    const p3 = instance('p3');
    await p3.waitFor('stderr', /ha cli\/p3: started; holding 0 of 1/, 20_000);
    const termAt = performance.now();
    p2.child.kill('SIGTERM');
    await p3.waitFor('stderr', /ha cli\/p3: active for key/, 5_000);
    const handover = performance.now() - termAt;
    expect(handover).toBeLessThan(1_500);
    expect((await p2.done).code).toBe(0);
    await until('p3 subscribed', () => socketsOf(sim, KEY.apiKey).some((s) => s.size === 1), 5_000);
    expect(socketsOf(sim, KEY.apiKey)).toHaveLength(1);
    expect(sim.keyInfo(KEY.apiKey).maxConcurrentConnections).toBe(1);

    const table = await runCli(['ha', 'status', '--nats', nats.url, '--ha', 'cli']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/KEY\s+HOLDER\s+SINCE\s+LEASE AGE/);
    expect(table.stdout).toMatch(/\sp3\s/);
    p3.child.kill('SIGTERM');
    expect((await p3.done).code).toBe(0);
    await consumer.close();
  }, 90_000);

  it('cli - --ha flags are checked before anything starts', async () => {
    const noNats = await runCli(['stream', '--ha', 'g', '--url', sim.url], ENV);
    expect(noNats.code).toBe(2);
    expect(noNats.stderr).toContain('--ha needs --nats');
    const badGroup = await runCli(['stream', '--ha', 'a.b', '--nats', nats.url, '--url', sim.url], ENV);
    expect(badGroup.code).toBe(2);
    expect(badGroup.stderr).toContain('--ha: expected 1 to 64 letters');
    const badTtl = await runCli(
      ['stream', '--ha', 'g', '--ha-ttl', '50', '--nats', nats.url, '--url', sim.url],
      ENV,
    );
    expect(badTtl.code).toBe(2);
    expect(badTtl.stderr).toContain('--ha-ttl');
    const badReplicas = await runCli(
      ['stream', '--ha', 'g', '--ha-replicas', '2', '--nats', nats.url, '--url', sim.url],
      ENV,
    );
    expect(badReplicas.code).toBe(2);
    expect(badReplicas.stderr).toContain('--ha-replicas: expected 1, 3 or 5');
    const noCreds = await runCli(['stream', '--ha', 'g', '--nats', nats.url]);
    expect(noCreds.code).toBe(2);
    expect(noCreds.stderr).toContain('--ha needs credentials');
    const noBucket = await runCli(['ha', 'status', '--nats', nats.url, '--ha', 'nosuchgroup']);
    expect(noBucket.code).toBe(1);
    expect(noBucket.stderr).toContain('KITE_HA_nosuchgroup');
  }, 60_000);
});
