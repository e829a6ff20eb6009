/**
 * `kiteticker relay` as a service, against the simulator: the keys file watched (and SIGHUP) with
 * what changed applied to the running upstream, --service waiting for refused keys and retrying
 * unreachable ones, /metrics with the relay's families, /healthz and /readyz, and --nats publishing
 * from the same process.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/server.js';
import { freePort, type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { type CliRun, killAll, parseLines, startCli } from './cli-helpers.js';
import { connect, type TestClient, waitFor } from './relay-helpers.js';

let sim: KiteSimulator;
let dir: string;
let clientsFile: string;
const clients: TestClient[] = [];
const cleanups: Array<() => Promise<unknown>> = [];

const K1 = { id: 'k1', apiKey: 'sim_key_1', accessToken: 'sim_token_1' };
const K2 = { id: 'k2', apiKey: 'sim_key_2', accessToken: 'sim_token_2' };
const SCANNER = { id: 'scanner', accessToken: 'scanner-token-9f3' };

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 200, seed: 7, ticksPerSecond: 5, batchIntervalMs: 50 });
  await sim.start();
  dir = await mkdtemp(join(tmpdir(), 'kt-relay-svc-'));
  clientsFile = join(dir, 'clients.json');
  await writeFile(clientsFile, JSON.stringify([SCANNER]), { mode: 0o600 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  killAll();
  for (const f of cleanups.splice(0)) await f();
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Written as `kiteticker login` does: a temp file renamed over F, mode 0600. */
async function writeKeys(path: string, entries: readonly object[] | string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, typeof entries === 'string' ? entries : JSON.stringify(entries), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

const token = (i: number): number => sim.instruments()[i]!.instrument_token;

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T = await get();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
    last = await get();
  }
  return last;
}

async function readyz(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(base: string, line: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').find((l) => line.test(l));
}

/** The relay's URL and the metrics base URL, from its log. */
async function addresses(run: CliRun): Promise<{ relay: string; base: string }> {
  const [, relay] = await run.waitFor('stderr', /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/, 20_000);
  const [, base] = await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 5_000);
  return { relay: relay!, base: base! };
}

function service(keysFile: string, url: string, extra: string[] = [], clients = clientsFile): CliRun {
  const args = ['relay', '--service', '--keys-file', keysFile, '--clients-file', clients, '--url', url];
  return startCli([...args, '--port', '0', '--metrics-port', '0', '--linger', '0', ...extra], {}, 60_000);
}

describe('cli relay service', () => {
  it('cli relay service - a FIFO, a directory or a symlink loop at the clients file is a warning; clients are still served, a good file put back applies, SIGTERM stops it', async () => {
    const keys = join(dir, 'fifo-keys.json');
    await writeKeys(keys, [K1]);
    const file = join(dir, 'fifo-clients.json');
    await writeFile(file, JSON.stringify([SCANNER]), { mode: 0o600 });
    const run = service(keys, sim.url, [], file);
    const { relay, base } = await addresses(run);
    await rm(file);
    execFileSync('mkfifo', [file]);
    await run.waitFor(
      'stderr',
      /fifo-clients\.json is not a regular file; the relay keeps its current clients/,
      10_000,
    );
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    clients.push(await connect(relay, SCANNER.id, SCANNER.accessToken));
    await rm(file);
    await mkdir(file);
    await until(
      'the directory reported too',
      async () => run.stderr().match(/fifo-clients\.json is not a regular file/g)?.length ?? 0,
      (n) => n >= 2,
    );
    await rm(file, { recursive: true });
    await symlink(file, file);
    await run.waitFor('stderr', /cannot read [^\n]*fifo-clients\.json: ELOOP/, 10_000);
    await rm(file);
    const other = { id: 'other', accessToken: 'other-token-4a1' };
    await writeFile(file, JSON.stringify([SCANNER, other]), { mode: 0o600 });
    await until(
      'the new client accepted',
      () =>
        connect(relay, other.id, other.accessToken).then(
          (c) => (clients.push(c), true),
          () => false,
        ),
      (ok) => ok,
    );
    // A FIFO again, seen by the watch, then SIGTERM: the process stops promptly.
    await rm(file);
    execFileSync('mkfifo', [file]);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const t0 = Date.now();
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);
    await rm(file);
  }, 45_000);

  it('cli relay service - a key refused at start waits: /readyz says why while a client waits, and a new token in the keys file serves it without a restart', async () => {
    const file = join(dir, 'refused.json');
    await writeKeys(file, [{ ...K1, accessToken: 'expired_token_123' }]);
    const run = service(file, sim.url);
    const { relay, base } = await addresses(run);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await expect(connect(relay, SCANNER.id, 'wrong')).rejects.toThrow('HTTP 403');
    const c = await connect(relay, SCANNER.id, SCANNER.accessToken);
    clients.push(c);
    const t = token(3);
    c.send({ a: 'subscribe', v: [t] });
    c.send({ a: 'mode', v: ['ltp', [t]] });
    const waiting = await until(
      'readyz 503 with k1 refused',
      () => readyz(base),
      (r) => r.status === 503 && (r.body.authFailed as string[]).includes('k1') && r.body.unplaced === 1,
    );
    expect(String(waiting.body.reason)).toMatch(/refused for k1/);
    expect(await metric(base, /^kiteticker_ready /)).toBe('kiteticker_ready 0');
    expect(await metric(base, /^kiteticker_api_key_auth_failed\{api_key_id="k1"\}/)).toMatch(/ 1$/);
    expect(await metric(base, /^kiteticker_relay_clients_connected /)).toBe(
      'kiteticker_relay_clients_connected 1',
    );
    expect(await metric(base, /^kiteticker_relay_client_subscriptions\{client_id="scanner"\}/)).toMatch(
      / 1$/,
    );
    expect(await metric(base, /^kiteticker_relay_refused_total\{status="403"\}/)).toMatch(/ 1$/);
    expect(await metric(base, /^kiteticker_relay_accepted_total /)).toBe('kiteticker_relay_accepted_total 1');
    expect(run.child.exitCode).toBeNull();

    await writeKeys(file, [K1]);
    const ready = await until(
      'readyz 200',
      () => readyz(base),
      (r) => r.status === 200,
    );
    expect(ready.body).toMatchObject({ ready: true, unplaced: 0, authFailed: [] });
    await waitFor(() => c.ticks.some((x) => x.instrument_token === t && x.mode === 'ltp'), 10_000, 'ticks');
    expect(sim.connections().flatMap((x) => [...x.subscriptions.keys()])).toEqual([t]);
    expect(await metric(base, /^kiteticker_relay_upstream_instruments /)).toBe(
      'kiteticker_relay_upstream_instruments 1',
    );
    expect(await metric(base, /^kiteticker_relay_client_frames_total\{client_id="scanner"\}/)).not.toMatch(
      / 0$/,
    );
    expect(await metric(base, /^kiteticker_symbols\{api_key_id="k1"/)).toMatch(/ 1$/);

    run.child.kill('SIGTERM');
    const done = await run.done;
    expect(done.code).toBe(0);
    // A service: JSON lines on stderr, nothing on stdout.
    expect(done.stdout).toBe('');
    const logs = parseLines(done.stderr);
    for (const l of logs) expect([20, 30, 40, 50]).toContain(l.level);
    expect(logs.some((l) => /keys file applied: new token k1/.test(String(l.msg)))).toBe(true);
    expect(logs.some((l) => l.level === 40)).toBe(true);
    expect(logs.some((l) => /relay stopped \(SIGTERM\)/.test(String(l.msg)))).toBe(true);
  }, 60_000);

  it('cli relay service - an upstream unreachable at start is retried until it answers', async () => {
    const port = await freePort();
    const file = join(dir, 'late.json');
    await writeKeys(file, [K1]);
    const run = service(file, `ws://127.0.0.1:${port}`);
    const { relay, base } = await addresses(run);
    const c = await connect(relay, SCANNER.id, SCANNER.accessToken);
    clients.push(c);
    const late = new KiteSimulator({ universeSize: 50, seed: 2, ticksPerSecond: 5, batchIntervalMs: 50 });
    cleanups.push(() => late.stop());
    const t = late.instruments()[1]!.instrument_token;
    c.send({ a: 'subscribe', v: [t] });
    await until(
      'readyz 503 while the upstream is down',
      () => readyz(base),
      (r) => r.status === 503 && r.body.unplaced === 1,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect(run.child.exitCode).toBeNull();
    await late.start({ port, host: '127.0.0.1' });
    await until(
      'readyz 200 once the upstream answers',
      () => readyz(base),
      (r) => r.status === 200,
      30_000,
    );
    await waitFor(() => c.ticks.some((x) => x.instrument_token === t), 10_000, 'ticks after the retry');
    // It did fail meanwhile (logged as JSON), and kept trying rather than exiting.
    expect(run.stderr()).toMatch(/ECONNREFUSED/);
    expect(parseLines(run.stderr()).length).toBeGreaterThan(0);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  }, 60_000);

  it('cli relay keys file - keys added and removed apply to the running relay; a malformed file changes nothing; SIGHUP re-reads', async () => {
    const file = join(dir, 'keys.json');
    await writeKeys(file, [K1]);
    // Not a service: text lines, the banner on stdout; the watch works the same.
    const run = startCli(
      ['relay', '--keys-file', file, '--clients-file', clientsFile, '--url', sim.url, '--port', '0'].concat([
        '--metrics-port',
        '0',
      ]),
      {},
      60_000,
    );
    const [, relay] = await run.waitFor('stdout', /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/, 20_000);
    const [, base] = await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    const c = await connect(relay!, SCANNER.id, SCANNER.accessToken);
    clients.push(c);
    const wanted = [token(10), token(11), token(12)];
    c.send({ a: 'subscribe', v: wanted });
    const keysMetric = () => metric(base!, /^kiteticker_api_keys /);

    await writeKeys(file, [K1, K2]);
    await run.waitFor('stderr', /keys file applied: new token -; added k2; removed -/);
    expect(await keysMetric()).toBe('kiteticker_api_keys 2');

    await writeKeys(file, '[{"id": "k1", ');
    await run.waitFor('stderr', /warning: keys file: .*not valid JSON/);
    expect(await keysMetric()).toBe('kiteticker_api_keys 2');

    await writeKeys(file, [K2]);
    await run.waitFor('stderr', /keys file applied: new token -; added -; removed k1/);
    expect(await keysMetric()).toBe('kiteticker_api_keys 1');
    // The client's instruments moved to k2: it keeps receiving them.
    const before = c.ticks.length;
    await waitFor(() => c.ticks.length > before + 3, 10_000, 'ticks after k1 left');
    expect(
      sim
        .connections()
        .flatMap((x) => [...x.subscriptions.keys()])
        .sort(),
    ).toEqual([...wanted].sort());

    run.child.kill('SIGHUP');
    await run.waitFor('stderr', /SIGHUP: re-reading the keys file/);
    await new Promise((r) => setTimeout(r, 300));
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  }, 60_000);
});

describe('cli relay nats', () => {
  let nats: NatsServerHandle;
  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(async () => {
    await nats?.dispose();
  });

  it('cli relay nats - the relay and the NATS sink in one process: what relay clients want is published', async () => {
    const t = token(20);
    const sub = startCli(['subscribe', '--nats', nats.url, '--filter', String(t), '--count', '3']);
    await sub.waitFor('stderr', /kiteticker: subscribed to/, 12_000);
    const run = startCli(
      ['relay', '--clients-file', clientsFile, '--url', sim.url, '--port', '0', '--nats', nats.url],
      { KITE_API_KEY: 'sim_key_1', KITE_ACCESS_TOKEN: 'sim_token_1' },
      30_000,
    );
    const [, relay] = await run.waitFor('stdout', /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/, 20_000);
    const c = await connect(relay!, SCANNER.id, SCANNER.accessToken);
    clients.push(c);
    c.send({ a: 'subscribe', v: [t] });
    const got = await sub.done;
    expect(got.code).toBe(0);
    const ticks = parseLines(got.stdout);
    expect(ticks).toHaveLength(3);
    for (const tick of ticks) expect(tick.instrument_token).toBe(t);
    expect(c.ticks.some((x) => x.instrument_token === t)).toBe(true);
    run.child.kill('SIGTERM');
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(done.stdout + done.stderr).not.toContain('sim_token_1');
  }, 45_000);
});
