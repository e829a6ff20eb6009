/**
 * Token secrecy: with a recognisable access token, every log line (a recording logger, the library's and
 * the simulator's), every error (message, stack, cause), every status event, every stats object and the
 * CLI's stdout/stderr are captured during short chaos runs that include revoked and rotated tokens.
 * The token never appears in any of them.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/index.js';
import type { Logger } from '../../src/logger.js';
import type { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { runSoak } from '../soak/harness.js';

const SECRET = 'SECRET-TOKEN-zq81x';
/** Distinctive enough that a fragment (a truncated or encoded token) is caught too. */
const NEEDLES = [
  SECRET,
  'zq81x',
  encodeURIComponent(SECRET),
  Buffer.from(SECRET).toString('base64').slice(0, 16),
];

/** Everything an operator could see, as text. Errors are expanded (message, stack, code, cause chain). */
class Capture {
  readonly lines: string[] = [];

  add(label: string, value: unknown): void {
    this.lines.push(`${label} ${render(value)}`);
  }

  logger(label: string): Logger {
    const at =
      (level: string) =>
      (obj: object | string, msg?: string): void =>
        this.add(`${label}.${level}`, { obj, msg });
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  leaks(): string[] {
    return this.lines.filter((line) => NEEDLES.some((n) => line.includes(n)));
  }
}

function render(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Error) {
      const e = v as Error & { code?: unknown; cause?: unknown };
      return {
        name: e.name,
        message: e.message,
        stack: e.stack,
        code: e.code,
        cause: e.cause,
        str: String(e),
      };
    }
    if (v instanceof Map) return [...v];
    if (v instanceof Set) return [...v];
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('token secrecy', () => {
  it('token secrecy - the capture would see a token if one leaked (control)', () => {
    const capture = new Capture();
    capture.logger('lib').warn({ err: new Error(`bad url ws://h/?access_token=${SECRET}`) }, 'failed');
    capture.add('stats', { nested: new Map([[1, { token: `x${SECRET}` }]]) });
    expect(capture.leaks()).toHaveLength(2);
  });

  it('token secrecy - logs, errors, status events and stats of a chaos run with revoked tokens never show one', async () => {
    const capture = new Capture();
    let statsTimer: ReturnType<typeof setInterval> | undefined;
    let manager: MultiApiKiteTickerManager | undefined;
    const report = await runSoak({
      durationMs: 8_000,
      instruments: 300,
      keys: 3,
      seed: 5,
      meanFaultIntervalMs: 800,
      recoveryBoundMs: 10_000,
      tokenPrefix: SECRET,
      logger: capture.logger('library'),
      simulator: { logger: capture.logger('simulator') },
      onManager: (m) => {
        manager = m;
        m.on('status', (event, id, index) => capture.add('status', { event, id, index }));
        m.on('error', (error, id) => capture.add('error', { error, id }));
        m.on('serverError', (message, id) => capture.add('serverError', { message, id }));
        m.on('failover', (event) => capture.add('failover', event));
        m.on('unplaced', (event) => capture.add('unplaced', event));
        m.on('recovered', (id) => capture.add('recovered', id));
        statsTimer = setInterval(() => {
          capture.add('stats', m.getStats());
          capture.add('distribution', m.getSymbolDistribution());
        }, 500);
      },
    });
    clearInterval(statsTimer);
    capture.add('report', { ...report, finalStats: report.finalStats });

    // Refused calls name the problem, never the value.
    if (manager) {
      for (const call of [
        () => manager!.updateAccessToken('no-such-key', `${SECRET}-x`),
        () => manager!.updateAccessToken('key1', `${SECRET} with a space`),
      ]) {
        try {
          await call();
        } catch (error) {
          capture.add('thrown', error);
        }
      }
    }

    // The run exercised what it claims: revocations, rotations, failures with logs and errors.
    expect(report.faultsByKind.revoke ?? 0).toBeGreaterThanOrEqual(1);
    expect(report.tokenRotations).toBeGreaterThanOrEqual(1);
    expect(capture.lines.filter((l) => l.startsWith('status')).length).toBeGreaterThan(10);
    expect(capture.lines.some((l) => l.includes('auth_failed'))).toBe(true);
    expect(capture.lines.filter((l) => l.startsWith('library.')).length).toBeGreaterThan(10);
    expect(capture.lines.filter((l) => l.startsWith('thrown')).length).toBe(2);
    expect(capture.leaks()).toEqual([]);
  }, 60_000);

  it('token secrecy - a ticker refused (403), refused (503) and unreachable reports errors without the token', async () => {
    const capture = new Capture();
    const sim = new KiteSimulator({ credentials: { api_s: `${SECRET}-good` }, universeSize: 50 });
    await sim.start();
    cleanups.push(() => sim.stop());
    const url = sim.url;
    const make = (token: string, target: string, maxAttempts = 2) => {
      const t = new KiteTicker({
        apiKey: 'api_s',
        accessToken: token,
        url: target,
        connectTimeoutMs: 1000,
        reconnect: { maxAttempts, initialDelayMs: 10, maxDelayMs: 200 },
        logger: capture.logger('ticker'),
      });
      t.on('status', (event) => capture.add('status', event));
      t.on('error', (error) => capture.add('error', error));
      cleanups.push(() => t.close());
      return t;
    };
    const attempt = async (t: KiteTicker) => {
      try {
        await t.connect();
      } catch (error) {
        capture.add('rejected', error);
      }
      capture.add('stats', t.stats());
    };

    await attempt(make(`${SECRET}-wrong`, url)); // 403
    sim.refuseUpgrades(503, 2000);
    await attempt(make(`${SECRET}-good`, url)); // 503 until retries run out
    await attempt(make(`${SECRET}-good`, 'ws://127.0.0.1:1')); // nothing listens

    // A live socket (retrying through what is left of the 503 window), revoked under it, then rotated.
    const live = make(`${SECRET}-good`, url, Number.POSITIVE_INFINITY);
    await live.connect();
    sim.revokeToken('api_s');
    await new Promise((r) => setTimeout(r, 300));
    sim.setAccessToken('api_s', `${SECRET}-rotated`);
    live.updateAccessToken(`${SECRET}-rotated`);
    const deadline = Date.now() + 5000;
    while (!live.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(live.connected).toBe(true);
    capture.add('stats', live.stats());

    expect(capture.lines.some((l) => l.startsWith('rejected') && l.includes('ERR_AUTH_FAILED'))).toBe(true);
    expect(capture.lines.filter((l) => l.startsWith('error')).length).toBeGreaterThanOrEqual(3);
    expect(capture.leaks()).toEqual([]);
  }, 30_000);

  it('token secrecy - providers (refused, throwing, rotated) and the REST login log no token, secret or request token', async () => {
    const capture = new Capture();
    const sim = new KiteSimulator({
      universeSize: 50,
      credentials: { api_p: `${SECRET}-start` },
      apps: { api_p: { apiSecret: `${SECRET}-apisecret` } },
      logger: capture.logger('sim'),
    });
    await sim.start();
    cleanups.push(() => sim.stop());
    let current = `${SECRET}-start`;
    let fail = false;
    const t = new KiteTicker({
      apiKey: 'api_p',
      accessToken: () => {
        if (fail) throw new Error(`vault said no for ${current}`);
        return current;
      },
      url: sim.url,
      tokenRefreshIntervalMs: 100,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50 },
      logger: capture.logger('ticker'),
    });
    t.on('status', (event) => capture.add('status', event));
    t.on('error', (error) => capture.add('error', error));
    cleanups.push(() => t.close());
    await t.connect();
    sim.revokeToken('api_p');
    await new Promise((r) => setTimeout(r, 250)); // refused, provider asked again and again
    fail = true;
    await new Promise((r) => setTimeout(r, 250)); // provider throws with the token in its message
    // The user logs in over REST; the request token and secret are watched for too.
    const base = sim.url.replace(/^ws/, 'http');
    const res = await fetch(`${base}/connect/login?v=3&api_key=api_p`, { redirect: 'manual' });
    const rt = new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
    const { createHash } = await import('node:crypto');
    const session = await fetch(`${base}/session/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
      body: new URLSearchParams({
        api_key: 'api_p',
        request_token: rt,
        checksum: createHash('sha256').update(`api_p${rt}${SECRET}-apisecret`).digest('hex'),
      }).toString(),
    });
    const minted = ((await session.json()) as { data: { access_token: string } }).data.access_token;
    current = minted;
    fail = false;
    const deadline = Date.now() + 5000;
    while (!t.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(t.connected).toBe(true);
    capture.add('stats', t.stats());
    expect(capture.lines.some((l) => l.includes('ERR_TOKEN_PROVIDER'))).toBe(true);
    expect(capture.leaks()).toEqual([]);
    for (const secret of [minted, rt]) {
      expect(capture.lines.filter((l) => l.includes(secret))).toEqual([]);
    }
  }, 30_000);

  it('token secrecy - the CLI prints no token on stdout or stderr, with a revoked and a wrong key', async () => {
    const sim = new KiteSimulator({
      credentials: { api_c1: `${SECRET}-cli-1`, api_c2: `${SECRET}-cli-2` },
      universeSize: 50,
    });
    await sim.start();
    cleanups.push(() => sim.stop());
    const tokens = sim
      .instruments()
      .slice(0, 5)
      .map((i) => String(i.instrument_token));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'stream',
        '--url',
        sim.url,
        '--format',
        'ndjson',
        '-d',
        '5',
        '-v',
        ...tokens,
      ],
      {
        cwd: process.cwd(),
        env: {
          ...process.env,
          KITE_API_KEY_1: 'api_c1',
          KITE_ACCESS_TOKEN_1: `${SECRET}-cli-1`,
          KITE_API_KEY_2: 'api_c2',
          KITE_ACCESS_TOKEN_2: `${SECRET}-wrong`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    // Revoke the good key once it streams, so the run also meets a mid-session 403 (not on a timer:
    // under load the CLI may take seconds to start).
    let revoked = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!revoked && stdout.includes('"instrument_token"')) {
        revoked = true;
        sim.revokeToken('api_c1');
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));

    expect(code, stderr).not.toBeNull();
    expect(stdout.length + stderr.length).toBeGreaterThan(0);
    expect(revoked, stderr).toBe(true);
    expect(stderr).toContain('403');
    for (const needle of NEEDLES) {
      expect(stdout.includes(needle), `stdout contains ${needle}`).toBe(false);
      expect(stderr.includes(needle), `stderr contains ${needle}`).toBe(false);
    }
  }, 30_000);

  it('token secrecy - --service JSON logs, keys-file watch warnings and /readyz bodies show no token, api secret or request token', async () => {
    const { chmod, mkdtemp, rename, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createHash } = await import('node:crypto');
    const sim = new KiteSimulator({
      credentials: { api_s1: `${SECRET}-svc-1`, api_s2: `${SECRET}-svc-2` },
      apps: { api_s1: { apiSecret: `${SECRET}-apisecret` } },
      universeSize: 50,
    });
    await sim.start();
    cleanups.push(() => sim.stop());
    const dir = await mkdtemp(join(tmpdir(), 'kt-secrecy-svc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'keys.json');
    const write = async (text: string, mode = 0o600): Promise<void> => {
      await writeFile(`${file}.tmp`, text, { mode });
      await chmod(`${file}.tmp`, mode);
      await rename(`${file}.tmp`, file);
    };
    const entries = (t1: string, t2: string) =>
      JSON.stringify([
        { id: 's1', apiKey: 'api_s1', accessToken: t1 },
        { id: 's2', apiKey: 'api_s2', accessToken: t2 },
      ]);
    // s2's token is wrong from the start: a service waits for it.
    await write(entries(`${SECRET}-svc-1`, `${SECRET}-wrong`));
    const tokens = sim
      .instruments()
      .slice(0, 5)
      .map((i) => String(i.instrument_token));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'stream',
        '--service',
        '-v',
        '--keys-file',
        file,
        '--url',
        sim.url,
        '--format',
        'ndjson',
        '--metrics-port',
        '0',
        ...tokens,
      ],
      { cwd: process.cwd(), env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const until = async (what: string, check: () => boolean): Promise<void> => {
      const end = Date.now() + 15_000;
      while (!check()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    await until('metrics URL', () => /metrics http:\/\/127\.0\.0\.1:\d+/.test(stderr));
    const base = /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(stderr)![1]!;
    await until('ticks', () => stdout.includes('"instrument_token"'));
    const bodies: string[] = [];
    const scrape = async (): Promise<void> => {
      for (const path of ['/readyz', '/healthz', '/metrics'])
        bodies.push(await (await fetch(`${base}${path}`)).text());
    };
    await scrape();
    // Mid-session 403, then files the watcher must refuse, each holding a token.
    sim.revokeToken('api_s1');
    await write(`[{"id":"s1","apiKey":"api_s1","accessToken":"${SECRET}-broken" `);
    await until('malformed warning', () => stderr.includes('not valid JSON'));
    await write(entries(`${SECRET}-open-1`, `${SECRET}-open-2`), 0o644);
    await until('too-open warning', () => stderr.includes('too open'));
    await scrape();
    // The user logs in over REST: request token and api secret, and the minted token goes in the file.
    const rest = sim.url.replace(/^ws/, 'http');
    const res = await fetch(`${rest}/connect/login?v=3&api_key=api_s1`, { redirect: 'manual' });
    const rt = new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
    const session = await fetch(`${rest}/session/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
      body: new URLSearchParams({
        api_key: 'api_s1',
        request_token: rt,
        checksum: createHash('sha256').update(`api_s1${rt}${SECRET}-apisecret`).digest('hex'),
      }).toString(),
    });
    const minted = ((await session.json()) as { data: { access_token: string } }).data.access_token;
    await write(entries(minted, `${SECRET}-svc-2`));
    await until('applied', () => /keys file applied: new token s1, s2/.test(stderr));
    await scrape();
    child.kill('SIGTERM');
    await new Promise((r) => child.on('exit', r));

    expect(stderr).toMatch(/"level":40/);
    expect(bodies.some((b) => b.includes('"authFailed":["s2"]') || b.includes('"authFailed":["s1"'))).toBe(
      true,
    );
    for (const text of [stdout, stderr, ...bodies]) {
      for (const needle of [...NEEDLES, minted, rt, `${SECRET}-apisecret`]) {
        expect(text.includes(needle), `output contains ${needle}`).toBe(false);
      }
    }
  }, 45_000);
  it('token secrecy - relay --service: client and upstream tokens never in its JSON logs, /metrics, /readyz or /healthz', async () => {
    const { chmod, mkdtemp, rename, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { startCli } = await import('./cli-helpers.js');
    const { connect, waitFor } = await import('./relay-helpers.js');
    const sim = new KiteSimulator({
      credentials: { api_r1: `${SECRET}-up-1`, api_r2: `${SECRET}-up-2` },
      universeSize: 50,
      ticksPerSecond: 5,
      batchIntervalMs: 50,
    });
    await sim.start();
    cleanups.push(() => sim.stop());
    const dir = await mkdtemp(join(tmpdir(), 'kt-secrecy-relay-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const keys = join(dir, 'keys.json');
    const clientsFile = join(dir, 'clients.json');
    const write = async (path: string, text: string, mode = 0o600): Promise<void> => {
      await writeFile(`${path}.tmp`, text, { mode });
      await chmod(`${path}.tmp`, mode);
      await rename(`${path}.tmp`, path);
    };
    const entries = (t1: string, t2: string) =>
      JSON.stringify([
        { id: 'r1', apiKey: 'api_r1', accessToken: t1 },
        { id: 'r2', apiKey: 'api_r2', accessToken: t2 },
      ]);
    // r2's token is wrong from the start: the service waits for it.
    await write(keys, entries(`${SECRET}-up-1`, `${SECRET}-wrong`));
    await write(clientsFile, JSON.stringify([{ id: 'scanner', accessToken: `${SECRET}-client` }]));
    const run = startCli(
      [
        'relay',
        '--service',
        '-v',
        '--keys-file',
        keys,
        '--clients-file',
        clientsFile,
        '--url',
        sim.url,
        '--port',
        '0',
        '--metrics-port',
        '0',
      ],
      {},
      40_000,
    );
    cleanups.push(async () => {
      if (run.child.exitCode === null) run.child.kill('SIGKILL');
    });
    const [, relayUrl] = await run.waitFor('stderr', /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/, 20_000);
    const [, base] = await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+)\/metrics/);
    const bodies: string[] = [];
    const scrape = async (): Promise<void> => {
      for (const path of ['/readyz', '/healthz', '/metrics'])
        bodies.push(await (await fetch(`${base}${path}`)).text());
    };
    // A client with the right token, one with a wrong token, one with a token under another id.
    await expect(connect(relayUrl!, 'scanner', `${SECRET}-guess`)).rejects.toThrow('HTTP 403');
    await expect(connect(relayUrl!, 'nobody', `${SECRET}-client`)).rejects.toThrow('HTTP 403');
    const c = await connect(relayUrl!, 'scanner', `${SECRET}-client`);
    cleanups.push(async () => c.ws.terminate());
    const t = sim.instruments()[2]!.instrument_token;
    c.send({ a: 'subscribe', v: [t] });
    c.send({ a: 'mode', v: ['full', [t]] });
    await waitFor(() => c.ticks.length > 0, 10_000, 'ticks');
    await scrape();
    // A mid-session 403 upstream, then keys files the watcher refuses, each holding a token.
    sim.revokeToken('api_r1');
    await write(keys, `[{"id":"r1","apiKey":"api_r1","accessToken":"${SECRET}-broken" `);
    await run.waitFor('stderr', /not valid JSON/);
    await write(keys, entries(`${SECRET}-open-1`, `${SECRET}-open-2`), 0o644);
    await run.waitFor('stderr', /too open/);
    // Used with the warning (as at start): its tokens go upstream and must not show either.
    await run.waitFor('stderr', /keys file applied: new token r1, r2/);
    await scrape();
    await write(keys, entries(`${SECRET}-up-1`, `${SECRET}-up-2`));
    await waitFor(
      () => (run.stderr().match(/keys file applied: new token r1, r2/g)?.length ?? 0) >= 2,
      10_000,
      'the good file applied',
    );
    await scrape();
    run.child.kill('SIGTERM');
    const done = await run.done;

    expect(done.code).toBe(0);
    expect(done.stderr).toMatch(/"level":40/);
    expect(bodies.some((b) => b.includes('"authFailed":["r2"]'))).toBe(true);
    expect(
      bodies.some((b) => b.includes('kiteticker_relay_client_subscriptions{client_id="scanner"} 1')),
    ).toBe(true);
    for (const text of [done.stdout, done.stderr, ...bodies]) {
      for (const needle of NEEDLES) expect(text.includes(needle), `output contains ${needle}`).toBe(false);
    }
  }, 45_000);
});
