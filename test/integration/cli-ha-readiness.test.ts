/**
 * `kiteticker stream --ha` (no --service) as users run it, two instances over one keys file of two
 * keys, the simulator and a real nats-server. /readyz and kiteticker_ready are the HA readiness (the
 * instance does its share), not the never-started hub manager's. An unreadable entry in the group's
 * bucket is reported once per entry and revision on the instances' stderr, plain and --service JSON.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { updateKeysFile } from '../../src/cli/keys-file-update.js';
import { bucketName, leaseKey, memberKey } from '../../src/ha/names.js';
import type { KiteSimulator } from '../../src/simulator/index.js';
import { HA_KEYS, startHaSimulator, until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { type CliRun, killAll, startCli } from './cli-helpers.js';

let nats: NatsServerHandle;
let sim: KiteSimulator;
let dir: string;
let keysFile: string;
const [A, B] = [HA_KEYS[0], HA_KEYS[1]];

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
  sim = await startHaSimulator();
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-ha-ready-'));
  keysFile = join(dir, 'keys.json');
  await updateKeysFile(keysFile, A.id, A.apiKey, A.accessToken);
  await updateKeysFile(keysFile, B.id, B.apiKey, B.accessToken);
});

afterEach(() => killAll());

afterAll(async () => {
  await sim?.stop();
  await nats?.dispose();
  await rm(dir, { recursive: true, force: true });
});

function instance(group: string, id: string, extra: string[] = []): CliRun {
  const tokens = sim
    .instruments()
    .slice(0, 4)
    .map((i) => String(i.instrument_token));
  return startCli(
    [
      'stream',
      ...tokens,
      '--keys-file',
      keysFile,
      '--url',
      sim.url,
      '--nats',
      nats.url,
      '--ha',
      group,
      '--ha-instance',
      id,
      '--format',
      'none',
      '--metrics-port',
      '0',
      ...extra,
    ],
    {},
    60_000,
  );
}

const metricsBase = async (run: CliRun): Promise<string> =>
  (await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 30_000))[1]!;

async function readyz(base: string): Promise<{ status: number; body: { ready: boolean; reason?: string } }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string } };
}

async function readyGauge(base: string): Promise<string | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return /^kiteticker_ready(?:\{[^}]*\})? (\d+)$/m.exec(text)?.[1];
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('cli ha readiness', () => {
  it('cli ha - /readyz and kiteticker_ready are the instance doing its share; an unreachable held key makes its holder not ready', async () => {
    const p1 = instance('ready', 'p1');
    await p1.waitFor('stderr', /ha ready\/p1: started/, 30_000);
    const p2 = instance('ready', 'p2');
    await p2.waitFor('stderr', /ha ready\/p2: started/, 30_000);
    const [m1, m2] = await Promise.all([metricsBase(p1), metricsBase(p2)]);
    // Each takes its share: one key each, two instruments on each key.
    const heldBy1 = (await p1.waitFor('stderr', /ha ready\/p1: active for key (\S+)/, 15_000))[1]!;
    await p2.waitFor('stderr', /ha ready\/p2: active for key (\S+)/, 15_000);
    await eventually(
      'both ready',
      async () => (await readyz(m1)).status === 200 && (await readyz(m2)).status === 200,
    );
    expect((await readyz(m1)).body.ready).toBe(true);
    expect(await readyGauge(m1)).toBe('1');
    expect(await readyGauge(m2)).toBe('1');

    // p1's key becomes unreachable: its sockets drop and every upgrade is refused.
    const key = HA_KEYS.find((k) => k.id === heldBy1)!;
    sim.refuseUpgrades(503, 30_000, key.apiKey);
    sim.dropConnection({ apiKey: key.apiKey });
    await eventually('p1 not ready', async () => (await readyz(m1)).status === 503);
    const r = await readyz(m1);
    expect(r.body.ready).toBe(false);
    expect(r.body.reason).toContain(heldBy1);
    expect(await readyGauge(m1)).toBe('0');
    expect((await readyz(m2)).status).toBe(200);
  }, 90_000);

  it('cli ha - an unreadable bucket entry (100 kB lease, deeply nested member) is reported once per revision on stderr, plain and --service', async () => {
    const p1 = instance('bad', 'p1');
    await p1.waitFor('stderr', /ha bad\/p1: started/, 30_000);
    const p2 = instance('bad', 'p2', ['--service']);
    await p2.waitFor('stderr', /ha bad\/p2: started/, 30_000);
    await p2.waitFor('stderr', /ha bad\/p2: active for key/, 15_000);

    const nc = await connect({ servers: nats.url });
    try {
      const kv = await new Kvm(nc).open(bucketName('bad'));
      await kv.put(leaseKey(A.id), 'x'.repeat(100_000));
      await kv.put(memberKey('ghost'), `${'['.repeat(1_500)}${']'.repeat(1_500)}`);
      // Several polls (500 ms apart) see the same revisions: each is reported once, not once a poll.
      await new Promise((r) => setTimeout(r, 3_000));
    } finally {
      await nc.close();
    }
    const count = (text: string, what: string): number =>
      text.split('\n').filter((l) => l.includes('HaEntryError') && l.includes(what)).length;
    for (const run of [p1, p2]) {
      const err = run.stderr();
      expect(count(err, leaseKey(A.id))).toBe(1);
      expect(count(err, memberKey('ghost'))).toBe(1);
      // The 100 kB entry itself is never echoed.
      expect(err).not.toContain('x'.repeat(100));
    }
    // --service: the report is one JSON log line, like the rest of its stderr.
    for (const line of p2
      .stderr()
      .split('\n')
      .filter((l) => l.includes('HaEntryError'))) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
  }, 90_000);
});
