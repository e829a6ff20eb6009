/**
 * Two `kiteticker stream --ha --service --keys-file F` processes sharing one keys file, the simulator
 * with its trading clock (tokens die at 06:00 IST) and a real nats-server. The morning expiry: the
 * active instance keeps its lease (the lease is NATS's business, the token Kite's), reports not ready,
 * and resumes without a restart once `kiteticker login` rewrites F. A key added to F joins the group
 * (the standby takes it: its share), removed it is released. Then kill -9 of the active instance: the
 * standby takes the key over with the NEW token. No token in either instance's JSON log.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { updateKeysFile } from '../../src/cli/keys-file-update.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { parseIst } from '../../src/simulator/trading-clock.js';
import { until } from '../helpers/ha.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { type CliRun, killAll, runCli, startCli } from './cli-helpers.js';

/** Real ms from the simulator's start to the morning expiry: both instances are up and ticking by then (with room for a loaded machine). */
const EXPIRY_AFTER_MS = Number(process.env.CLI_HA_SERVICE_EXPIRY_MS ?? 30_000);
const K1 = { id: 'k1', apiKey: 'sim_key_1', secret: 'sim_secret_1' };
const K2 = { id: 'k2', apiKey: 'sim_key_2', secret: 'sim_secret_2' };

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  killAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The browser's part: the login page redirects to the app with a request token. */
async function requestToken(base: string, apiKey: string): Promise<string> {
  const res = await fetch(`${base}/connect/login?v=3&api_key=${apiKey}`, { redirect: 'manual' });
  return new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
}

/** A token minted at the simulator's REST surface (the first morning's, written before the start). */
async function mint(base: string, k: typeof K1): Promise<string> {
  const rt = await requestToken(base, k.apiKey);
  const res = await fetch(`${base}/session/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
    body: new URLSearchParams({
      api_key: k.apiKey,
      request_token: rt,
      checksum: createHash('sha256')
        .update(k.apiKey + rt + k.secret)
        .digest('hex'),
    }).toString(),
  });
  return ((await res.json()) as { data: { access_token: string } }).data.access_token;
}

/** JSON log entries of a run's stderr (a service writes nothing else there). */
function entries(run: CliRun): Array<Record<string, unknown>> {
  return run
    .stderr()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function readyz(base: string): Promise<{ status: number; body: { ready: boolean; reason?: string } }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as { ready: boolean; reason?: string } };
}

describe('cli ha service', () => {
  it('cli ha service - tokens expire: the active instance resumes after kiteticker login without restart or handover; kill -9 then hands the key over with the new token', async () => {
    const nats: NatsServerHandle = await startNatsServer({ jetstream: true });
    cleanups.push(() => nats.dispose());
    const sim = new KiteSimulator({
      universeSize: 50,
      seed: 7,
      ticksPerSecond: 4,
      batchIntervalMs: 50,
      heartbeatIntervalMs: 200,
      tradingClock: { speed: 1, startAt: parseIst('2026-03-02 06:00:00') - EXPIRY_AFTER_MS },
    });
    await sim.start({ port: 0 });
    cleanups.push(() => sim.stop());
    const expiries: number[] = [];
    sim.on('fault', (f) => {
      if (f.kind === 'revoke' && f.detail === 'access token expired') expiries.push(Date.now());
    });
    const base = sim.url.replace(/^ws/, 'http');
    const dir = await mkdtemp(join(tmpdir(), 'kt-cli-ha-svc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keysFile = join(dir, 'keys.json');
    const tokens: string[] = [];
    const first = await mint(base, K1);
    tokens.push(first);
    await updateKeysFile(keysFile, K1.id, K1.apiKey, first);

    const consumer: NatsConnection = await connect({ servers: nats.url });
    cleanups.push(() => consumer.close());
    let ticks = 0;
    consumer.subscribe('kite.tick.>', {
      callback: () => {
        ticks++;
      },
    });

    const symbols = sim
      .instruments()
      .slice(0, 5)
      .map((i) => i.instrument_token)
      .join(',');
    const instance = (id: string): CliRun =>
      startCli(
        [
          'stream',
          '--service',
          '--keys-file',
          keysFile,
          '--url',
          sim.url,
          '--nats',
          nats.url,
          '--ha',
          'svc',
          '--ha-instance',
          id,
          '--metrics-port',
          '0',
          '--symbols',
          symbols,
        ],
        {},
        120_000,
      );
    const metricsOf = async (run: CliRun): Promise<string> =>
      (await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 30_000))[1]!;

    const p1 = instance('p1');
    await p1.waitFor('stderr', /ha svc\/p1: active for key k1/, 30_000);
    const p2 = instance('p2');
    await p2.waitFor('stderr', /ha svc\/p2: started; holding 0 of 1/, 30_000);
    const [m1, m2] = await Promise.all([metricsOf(p1), metricsOf(p2)]);
    await until('ticks from p1', () => ticks > 0, 10_000);
    expect(expiries).toEqual([]);
    // Readiness = doing its share: the active one has its instruments up, the standby holds nothing.
    expect((await readyz(m1)).status).toBe(200);
    const standby = await readyz(m2);
    expect(standby.status).toBe(200);
    expect(standby.body.ready).toBe(true);

    // The morning: every token dies. p1 keeps its lease, is not ready, and does not exit.
    await until('the morning expiry', () => expiries.length > 0, EXPIRY_AFTER_MS + 10_000);
    await until('k1 has no socket', () => sim.connections().every((c) => c.apiKey !== K1.apiKey), 5_000);
    const notReady = await (async () => {
      for (let i = 0; i < 100; i++) {
        const r = await readyz(m1);
        if (r.status === 503) return r;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('p1 never reported not ready after the expiry');
    })();
    expect(notReady.body.reason).toMatch(/k1/);
    expect((await readyz(m2)).status).toBe(200);

    // The user logs in; `kiteticker login` rewrites the shared F.
    const rt = await requestToken(base, K1.apiKey);
    const login = await runCli(
      [
        'login',
        '--api-key',
        K1.apiKey,
        '--request-token',
        rt,
        '--keys-file',
        keysFile,
        '--id',
        K1.id,
        '--api-url',
        base,
      ],
      { KITE_API_SECRET: K1.secret },
    );
    expect(login.code, login.stderr).toBe(0);
    type Entry = { id: string; apiKey: string; accessToken: string };
    const readKeys = async (): Promise<Entry[]> => JSON.parse(await readFile(keysFile, 'utf8')) as Entry[];
    const second = (await readKeys()).find((e) => e.id === K1.id)!.accessToken;
    expect(second).not.toBe(first);
    tokens.push(second);
    const before = ticks;
    await until('ticks again from p1', () => ticks > before + 5, 15_000);
    await until(
      'p1 ready again',
      () => sim.connections().some((c) => c.apiKey === K1.apiKey && c.subscriptions.size === 5),
      10_000,
    );
    for (let i = 0; i < 100 && (await readyz(m1)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await readyz(m1)).status).toBe(200);
    // No restart, no handover: p1 still holds k1, p2 never took it.
    expect(p1.child.exitCode).toBeNull();
    expect(p2.child.exitCode).toBeNull();
    expect(p2.stderr()).not.toMatch(/active for key k1/);
    expect(await (await fetch(`${m1}/metrics`)).text()).toMatch(
      /kiteticker_ha_takeovers_total\{instance="p1",group="svc"\} 1\n/,
    );
    const status = await runCli(['ha', 'status', '--nats', nats.url, '--ha', 'svc', '--json']);
    expect(
      (JSON.parse(status.stdout) as { leases: { holder: string }[] }).leases.map((l) => l.holder),
    ).toEqual(['p1']);

    // A key added to F joins the group: p1 is at its share (2 keys, 2 members), so p2 takes it.
    const k2Token = await mint(base, K2);
    tokens.push(k2Token);
    await updateKeysFile(keysFile, K2.id, K2.apiKey, k2Token);
    await p2.waitFor('stderr', /ha svc\/p2: active for key k2/, 15_000);
    await until('k2 socket', () => sim.connections().some((c) => c.apiKey === K2.apiKey), 10_000);
    // Removed from F: p2 closes its sockets and releases the lease.
    const file = (await readKeys()).filter((e) => e.id !== K2.id);
    const tmp = join(dir, 'keys.json.tmp');
    await writeFile(tmp, JSON.stringify(file), { mode: 0o600 });
    await rename(tmp, keysFile);
    await p2.waitFor('stderr', /ha svc\/p2: standby for key k2 \(released\)/, 15_000);
    await until('k2 socket closed', () => sim.connections().every((c) => c.apiKey !== K2.apiKey), 5_000);
    expect(p1.stderr()).not.toMatch(/active for key k2/);

    // kill -9 of the active instance: p2 takes k1, and only the new token can open it.
    p1.child.kill('SIGKILL');
    await p2.waitFor('stderr', /ha svc\/p2: active for key k1 \(taken over from p1\)/, 15_000);
    await until(
      'p2 subscribed k1',
      () => sim.connections().some((c) => c.apiKey === K1.apiKey && c.subscriptions.size === 5),
      10_000,
    );
    const afterKill = ticks;
    await until('ticks from p2', () => ticks > afterKill + 5, 10_000);
    for (let i = 0; i < 100 && (await readyz(m2)).status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await readyz(m2)).status).toBe(200);
    expect(sim.connections().filter((c) => c.apiKey === K1.apiKey)).toHaveLength(1);

    p2.child.kill('SIGTERM');
    expect((await p2.done).code).toBe(0);
    await p1.done;
    // Secrecy, and every line a JSON entry: no token of the morning before or after in either log.
    for (const run of [p1, p2]) {
      const text = run.stderr() + run.stdout();
      for (const t of tokens) expect(text).not.toContain(t);
      expect(() => entries(run)).not.toThrow();
    }
  }, 150_000);
});
