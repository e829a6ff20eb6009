/**
 * `stream --service --keys-file F` against the simulator: the file is watched and re-read on SIGHUP,
 * and what changed applies to the running process (new token, key added, key removed); a malformed,
 * missing or too-open file is one warning and changes nothing. Service mode waits for a key refused
 * at start instead of exiting, and /readyz says why it is not ready.
 */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/server.js';
import { type CliRun, killAll, startCli } from './cli-helpers.js';

let sim: KiteSimulator;
let dir: string;
let tokens: number[];

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 200, seed: 5, ticksPerSecond: 5, batchIntervalMs: 50 });
  await sim.start();
  dir = await mkdtemp(join(tmpdir(), 'kt-keys-watch-'));
  tokens = sim
    .instruments()
    .slice(0, 30)
    .map((i) => i.instrument_token);
});
// Not afterEach: the nested block shares one running service across its tests.
afterAll(async () => {
  killAll();
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Entry {
  id: string;
  apiKey: string;
  accessToken: string;
}
const K1: Entry = { id: 'k1', apiKey: 'sim_key_1', accessToken: 'sim_token_1' };
const K2: Entry = { id: 'k2', apiKey: 'sim_key_2', accessToken: 'sim_token_2' };

/** Written as `kiteticker login` does: a temp file renamed over F, mode 0600. */
async function writeKeys(path: string, entries: readonly Entry[] | string): Promise<void> {
  const tmp = `${path}.tmp`;
  await writeFile(tmp, typeof entries === 'string' ? entries : JSON.stringify(entries), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

function startService(file: string, extra: string[] = []): CliRun {
  return startCli(
    [
      'stream',
      '--service',
      '--keys-file',
      file,
      '--url',
      sim.url,
      '--metrics-port',
      '0',
      '--format',
      'ndjson',
      '--connections-per-key',
      '1',
      ...extra,
      ...tokens.map(String),
    ],
    {},
    60_000,
  );
}

/** Each stderr line of a service is one JSON object. */
function logLines(run: CliRun): Array<Record<string, unknown>> {
  return run
    .stderr()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function baseUrl(run: CliRun): Promise<string> {
  const m = await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/, 20_000);
  return m[1]!;
}

async function readyz(base: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

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

async function metric(base: string, line: RegExp): Promise<string | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return text.split('\n').find((l) => line.test(l));
}

const ticksSince = (run: CliRun, from: number): number => run.stdout().slice(from).split('\n').length - 1;

describe('cli keys file watch', () => {
  it('cli keys file watch - service waits for a key refused at start, /readyz says why, and a new token in the file brings it back', async () => {
    const file = join(dir, 'refused.json');
    await writeKeys(file, [{ ...K1, accessToken: 'expired_token_123' }]);
    const run = startService(file);
    const base = await baseUrl(run);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const notReady = await until(
      'readyz 503 with k1 refused',
      () => readyz(base),
      (r) => Array.isArray(r.body.authFailed) && (r.body.authFailed as string[]).includes('k1'),
    );
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ ready: false, unplaced: tokens.length });
    expect(String(notReady.body.reason)).toMatch(/refused/);
    expect(await metric(base, /^kiteticker_ready /)).toBe('kiteticker_ready 0');
    expect(await metric(base, /^kiteticker_api_key_auth_failed\{api_key_id="k1"\}/)).toMatch(/ 1$/);
    expect(await metric(base, /^kiteticker_unplaced_instruments /)).toBe(
      `kiteticker_unplaced_instruments ${tokens.length}`,
    );
    expect(run.child.exitCode).toBeNull();

    const before = run.stdout().length;
    await writeKeys(file, [K1]);
    const ready = await until(
      'readyz 200',
      () => readyz(base),
      (r) => r.status === 200,
    );
    expect(ready.body).toMatchObject({ ready: true, unplaced: 0, authFailed: [] });
    await until(
      'ticks after the new token',
      async () => ticksSince(run, before),
      (n) => n >= 5,
    );
    expect(await metric(base, /^kiteticker_ready /)).toBe('kiteticker_ready 1');
    const logs = logLines(run);
    for (const l of logs) {
      expect(typeof l.time).toBe('number');
      expect([20, 30, 40, 50]).toContain(l.level);
      expect(typeof l.msg).toBe('string');
    }
    expect(logs.some((l) => l.level === 30 && /keys file applied: new token k1/.test(String(l.msg)))).toBe(
      true,
    );
    // The refusal is explained for a watched file (no restart needed), and the return is said once.
    expect(logs.some((l) => /k1: Kite refused .* the running command applies it/.test(String(l.msg)))).toBe(
      true,
    );
    await run.waitFor('stderr', /k1: connected again with the new access token/, 10_000);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  }, 60_000);

  describe('one running service', () => {
    const file = () => join(dir, 'keys.json');
    let run: CliRun;
    let base: string;

    beforeAll(async () => {
      await writeKeys(file(), [K1]);
      run = startService(file());
      base = await baseUrl(run);
      await until(
        'ready',
        () => readyz(base),
        (r) => r.status === 200,
        20_000,
      );
    }, 30_000);
    afterAll(async () => {
      run.child.kill('SIGTERM');
      await run.done;
    });

    it('cli keys file watch - a key added to the file is added to the running stream', async () => {
      await writeKeys(file(), [K1, K2]);
      await until(
        'k2 connected',
        () => metric(base, /^kiteticker_connections\{api_key_id="k2",state="up"\}/),
        (l) => l !== undefined && / 1$/.test(l),
      );
      expect(logLines(run).some((l) => /added k2/.test(String(l.msg)))).toBe(true);
      // Its sockets' entries name it by its id, never by its Kite api_key.
      await run.waitFor('stderr', /"apiKeyId":"k2"[^\n]*kite ticker: connected/, 10_000);
      expect(run.stderr()).not.toContain('sim_key_2');
      expect((await readyz(base)).status).toBe(200);
    }, 30_000);

    it('cli keys file watch - a malformed file is one warning and changes nothing', async () => {
      const warningsBefore = logLines(run).filter((l) => l.level === 40).length;
      await writeKeys(file(), '[{"id": "k1", not json');
      await run.waitFor('stderr', /not valid JSON/, 10_000);
      // The same bad content again: not a second warning.
      await writeKeys(file(), '[{"id": "k1", not json');
      await new Promise((r) => setTimeout(r, 500));
      const warnings = logLines(run)
        .filter((l) => l.level === 40)
        .slice(warningsBefore);
      expect(warnings).toHaveLength(1);
      expect(String(warnings[0]!.msg)).toMatch(/not valid JSON at line 1.*the keys in use are kept/);
      expect(await metric(base, /^kiteticker_api_keys /)).toBe('kiteticker_api_keys 2');
      expect((await readyz(base)).status).toBe(200);
    }, 30_000);

    it('cli keys file watch - a world-readable file is used with one warning, as at start', async () => {
      await writeKeys(file(), [K1, K2]);
      await writeFile(file(), JSON.stringify([K1, { ...K2, accessToken: 'sim_token_2b' }]));
      await chmod(file(), 0o644);
      await run.waitFor('stderr', /permissions 0644 are too open/, 10_000);
      await run.waitFor('stderr', /keys file applied: new token k2/, 10_000);
      expect(await metric(base, /^kiteticker_api_keys /)).toBe('kiteticker_api_keys 2');
      // The same problem again (another change, still 0644): not a second warning.
      await writeFile(file(), JSON.stringify([K1, K2]));
      await run.waitFor(
        'stderr',
        /keys file applied: new token k2;.*\n.*keys file applied: new token k2/s,
        10_000,
      );
      expect(run.stderr().match(/are too open/g)).toHaveLength(1);
    }, 30_000);

    it('cli keys file watch - a key removed from the file is removed and its instruments move', async () => {
      await writeKeys(file(), [K1]);
      await until(
        'k2 gone',
        () => metric(base, /^kiteticker_api_keys /),
        (l) => l === 'kiteticker_api_keys 1',
      );
      await run.waitFor('stderr', /keys file applied: .*removed k2/, 10_000);
      const r = await until(
        'ready on k1 alone',
        () => readyz(base),
        (x) => x.status === 200,
      );
      expect(r.body.unplaced).toBe(0);
      const from = run.stdout().length;
      await until(
        'ticks on k1',
        async () => run.stdout().slice(from),
        (s) => s.split('\n').length > 5,
      );
      expect(run.stdout().slice(from)).not.toMatch(/"k2"/);
    }, 30_000);

    it('cli keys file watch - a deleted file is a warning; recreated, it applies again', async () => {
      await rm(file());
      await run.waitFor('stderr', /cannot read \(ENOENT\)/, 10_000);
      expect((await readyz(base)).status).toBe(200);
      sim.setAccessToken('sim_key_1', 'rotated_token_456');
      await writeKeys(file(), [{ ...K1, accessToken: 'rotated_token_456' }]);
      await run.waitFor('stderr', /keys file applied: new token k1/, 10_000);
      // The running socket keeps going; a reconnect must use the new token.
      sim.dropConnection({ apiKey: 'sim_key_1' });
      const from = run.stdout().length;
      await until(
        'ticks after the reconnect',
        async () => ticksSince(run, from),
        (n) => n >= 5,
      );
      expect(
        (
          await until(
            'ready',
            () => readyz(base),
            (x) => x.status === 200,
          )
        ).body.authFailed,
      ).toEqual([]);
    }, 30_000);

    it('cli keys file watch - SIGHUP re-reads the file (and does not end the process)', async () => {
      const hupsBefore = logLines(run).filter((l) => /SIGHUP/.test(String(l.msg))).length;
      run.child.kill('SIGHUP');
      await until(
        'the SIGHUP line',
        async () => logLines(run).filter((l) => /SIGHUP/.test(String(l.msg))).length,
        (n) => n > hupsBefore,
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(run.child.exitCode).toBeNull();
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    }, 30_000);

    it('cli keys file watch - a FIFO, a directory or a symlink loop at the path is a warning; the watch goes on and SIGTERM still stops it', async () => {
      await rm(file(), { force: true });
      execFileSync('mkfifo', [file()]);
      run.child.kill('SIGHUP');
      await run.waitFor('stderr', /keys\.json: not a regular file; the keys in use are kept/, 10_000);
      await rm(file());
      await mkdir(file());
      run.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      await rm(file(), { recursive: true });
      await symlink(file(), file());
      await run.waitFor('stderr', /cannot read \(ELOOP\)/, 10_000);
      await rm(file());
      await writeKeys(file(), [K1, K2]);
      await run.waitFor('stderr', /keys file applied: .*added k2/, 10_000);
      // A FIFO again (a read of it pending), then SIGTERM: the process stops promptly.
      await rm(file());
      execFileSync('mkfifo', [file()]);
      run.child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      run.child.kill('SIGTERM');
      expect((await run.done).code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(3000);
      await rm(file());
    }, 45_000);
  });
});
