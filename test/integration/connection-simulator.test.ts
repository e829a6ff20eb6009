/**
 * The connection against the real simulator: faults are injected there and the server's own
 * introspection is the judge of what the connection subscribed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/ticker.js';
import type { KiteTickerOptions, StatusEvent } from '../../src/connection/types.js';
import type { Logger } from '../../src/logger.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { sleep, waitFor } from './connection-mock-server.js';

const KEY = 'sim_key_1';
const TOKEN = 'sim_token_1';

let sim: KiteSimulator;
let tokens: number[];
const tickers: KiteTicker[] = [];

function ticker(overrides: Partial<KiteTickerOptions> = {}): KiteTicker {
  const t = new KiteTicker({
    apiKey: KEY,
    accessToken: TOKEN,
    url: sim.url,
    livenessTimeoutMs: 1500,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50, jitter: 'none' },
    ...overrides,
  });
  tickers.push(t);
  return t;
}

/** The subscriptions the simulator holds for the key's only open connection. */
function serverSide(apiKey = KEY): Map<number, Mode> | undefined {
  const open = sim.connections().filter((c) => c.apiKey === apiKey);
  return open.length === 1 ? open[0]!.subscriptions : undefined;
}

function sameMap(a: ReadonlyMap<number, Mode> | undefined, b: ReadonlyMap<number, Mode>): boolean {
  if (!a || a.size !== b.size) return false;
  for (const [k, v] of b) if (a.get(k) !== v) return false;
  return true;
}

beforeEach(async () => {
  sim = new KiteSimulator({
    universeSize: 60,
    heartbeatIntervalMs: 100,
    batchIntervalMs: 50,
    ticksPerSecond: 20,
  });
  await sim.start({ port: 0 });
  tokens = sim.instruments().map((i) => i.instrument_token);
});

afterEach(async () => {
  await Promise.all(tickers.splice(0).map((t) => t.close()));
  await sim.stop();
});

describe('connection against the simulator', () => {
  it('connection - after a drop the simulator holds exactly the same tokens and modes', async () => {
    const t = ticker();
    t.subscribe(tokens.slice(0, 5), 'full');
    t.subscribe(tokens.slice(5, 9), 'ltp');
    t.subscribe(tokens.slice(9, 12));
    await t.connect();
    const want = t.subscriptions();
    await waitFor(() => sameMap(serverSide(), want), 2000, 'server holds the subscriptions');
    const firstId = sim.connections()[0]!.id;
    sim.dropConnection({ apiKey: KEY });
    await waitFor(
      () => t.status === 'connected' && sim.connections().some((c) => c.id !== firstId),
      3000,
      'reconnected',
    );
    await waitFor(() => sameMap(serverSide(), want), 2000, 'replayed subscriptions');
    expect(serverSide()!.size).toBe(12);
    expect(t.stats().reconnects).toBe(1);
    // Ticks keep flowing on the new socket.
    const before = t.stats().ticks;
    await waitFor(() => t.stats().ticks > before, 2000, 'ticks after reconnect');
  });

  it('connection - a stalled socket is detected within the liveness timeout and replaced', async () => {
    const t = ticker({ livenessTimeoutMs: 400 });
    const statuses: StatusEvent[] = [];
    t.on('status', (s) => statuses.push(s));
    t.subscribe(tokens.slice(0, 3), 'quote');
    await t.connect();
    await sleep(500); // heartbeats and ticks keep a healthy socket alive past the timeout
    expect(t.status).toBe('connected');
    expect(statuses.map((s) => s.status)).toEqual(['connecting', 'connected']);
    const stalledAt = Date.now();
    sim.stallConnection({ apiKey: KEY });
    await waitFor(() => statuses.some((s) => s.status === 'stale'), 1500, 'stale');
    // Silence starts at the last frame (<= 50 ms before the stall); checks run every 100 ms; slack for load.
    expect(Date.now() - stalledAt).toBeLessThan(400 + 100 + 300);
    expect(
      (statuses.find((s) => s.status === 'stale') as { silentMs: number }).silentMs,
    ).toBeGreaterThanOrEqual(400);
    await waitFor(
      () => t.status === 'connected' && sim.connections().some((c) => !c.stalled),
      2000,
      'replaced',
    );
    await waitFor(() => sameMap(serverSide(), t.subscriptions()), 2000, 'replayed');
  });

  it('connection - corrupt frames are counted and skipped; the same socket lives on', async () => {
    const t = ticker();
    const kinds: string[] = [];
    t.on('protocolError', (p) => kinds.push(p.kind));
    t.subscribe(tokens.slice(0, 4), 'full');
    await t.connect();
    await waitFor(() => t.stats().ticks > 0, 2000, 'first ticks');
    const id = sim.connections()[0]!.id;
    for (const kind of ['lying_count', 'truncated_packet', 'unknown_length', 'garbage_text'] as const) {
      sim.corruptConnection(id, kind);
    }
    sim.corruptConnection(id, 'garbage_binary');
    await waitFor(() => t.stats().protocolErrors >= 4, 2000, 'protocol errors');
    expect(kinds).toEqual(
      expect.arrayContaining([
        'truncated_length',
        'truncated_packet',
        'unknown_packet_length',
        'invalid_json',
      ]),
    );
    const ticks = t.stats().ticks;
    await waitFor(() => t.stats().ticks > ticks, 2000, 'ticks after corruption');
    expect(t.status).toBe('connected');
    expect(sim.connections().map((c) => c.id)).toEqual([id]);
    expect(t.stats().reconnects).toBe(0);
  });

  it('connection - a revoked token: auth_failed, no repeated upgrades, a new token resumes the same subscriptions', async () => {
    const t = ticker();
    t.subscribe(tokens.slice(0, 6), 'full');
    t.subscribe(tokens.slice(6, 8), 'ltp');
    await t.connect();
    const want = t.subscriptions();
    await waitFor(() => sameMap(serverSide(), want), 2000, 'subscribed');
    sim.revokeToken(KEY);
    await waitFor(() => t.status === 'auth_failed', 2000, 'auth_failed');
    await sleep(200); // many backoff periods of 20-50 ms
    expect(sim.keyInfo(KEY).rejectedUpgrades).toEqual({ 403: 1 });
    expect(sim.keyInfo(KEY).acceptedUpgrades).toBe(1);

    sim.setAccessToken(KEY, 'fresh_token');
    t.updateAccessToken('fresh_token');
    await waitFor(() => t.status === 'connected', 2000, 'connected again');
    await waitFor(() => sameMap(serverSide(), want), 2000, 'same subscriptions');
    expect(sim.keyInfo(KEY).acceptedUpgrades).toBe(2);
  });

  it('connection - upgrades refused with 429 are retried until the window passes', async () => {
    sim.refuseUpgrades(429, 150, KEY);
    const t = ticker();
    const reasons: string[] = [];
    t.on('status', (s) => {
      if (s.status === 'reconnecting') reasons.push(s.reason);
    });
    await t.connect();
    expect(reasons.length).toBeGreaterThan(0);
    expect(new Set(reasons)).toEqual(new Set(['http_429']));
    expect(sim.keyInfo(KEY).rejectedUpgrades[429]).toBe(reasons.length);
  });

  it('connection - two tickers are independent: a fault on one leaves the other untouched', async () => {
    const a = ticker();
    const b = ticker({ apiKey: 'sim_key_2', accessToken: 'sim_token_2' });
    a.subscribe(tokens.slice(0, 2), 'ltp');
    b.subscribe(tokens.slice(2, 5), 'full');
    await Promise.all([a.connect(), b.connect()]);
    await waitFor(
      () =>
        sameMap(serverSide(KEY), a.subscriptions()) && sameMap(serverSide('sim_key_2'), b.subscriptions()),
      2000,
      'both subscribed',
    );
    const bId = sim.connections().find((c) => c.apiKey === 'sim_key_2')!.id;
    sim.dropConnection({ apiKey: KEY });
    await waitFor(() => a.stats().reconnects === 1 && a.status === 'connected', 3000, 'A back');
    expect(b.stats().reconnects).toBe(0);
    expect(sim.connections().find((c) => c.apiKey === 'sim_key_2')!.id).toBe(bId);
    await a.close();
    expect(b.status).toBe('connected');
  });

  it('connection - close() leaves no socket or timer behind', async () => {
    const handles = (): string[] =>
      process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'Timeout');
    const baseline = handles().length;
    const t = ticker({ livenessTimeoutMs: 400, connectTimeoutMs: 1000 });
    t.subscribe(tokens.slice(0, 3));
    await t.connect();
    expect(handles().length).toBeGreaterThan(baseline);
    await t.close();
    await t.close();
    // Server-side sockets close on their own schedule; give them a moment, then compare.
    await waitFor(() => handles().length <= baseline, 2000, 'handles released');
    expect(t.stats().status).toBe('closed');
  });

  it('connection - a process that closes its ticker exits by itself', async () => {
    const src = fileURLToPath(new URL('../../src/connection/index.ts', import.meta.url));
    const script = join(tmpdir(), `kt-exit-${process.pid}-${Date.now()}.mts`);
    writeFileSync(
      script,
      `import { KiteTicker } from ${JSON.stringify(src)};
const t = new KiteTicker({ apiKey: ${JSON.stringify(KEY)}, accessToken: ${JSON.stringify(TOKEN)}, url: ${JSON.stringify(sim.url)},
  livenessTimeoutMs: 500, reconnect: { initialDelayMs: 20 } });
t.subscribe([${tokens.slice(0, 3).join(',')}], 'full');
await t.connect();
await new Promise((r) => t.once('ticks', r));
await t.close();
console.log('closed');
`,
    );
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const child = spawn(process.execPath, [tsx, script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.on('exit', (c) => {
        clearTimeout(killer);
        resolve(c);
      });
    });
    expect(err).toBe('');
    expect(out.trim()).toBe('closed');
    expect(code).toBe(0);
  }, 20_000);

  it('connection - the access token never appears in logs, statuses, errors or stats', async () => {
    const SECRET = 'SeCrEtToKeN9f3a';
    sim.setAccessToken(KEY, 'something_else');
    const lines: string[] = [];
    const record =
      (level: string) =>
      (obj: object | string, msg?: string): void => {
        lines.push(`${level} ${typeof obj === 'string' ? obj : JSON.stringify(obj)} ${msg ?? ''}`);
      };
    const logger: Logger = {
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
    };
    const seen: string[] = [];
    const t = ticker({ accessToken: SECRET, logger, livenessTimeoutMs: 300 });
    t.on('status', (s) => seen.push(JSON.stringify(s)));
    t.on('error', (e) => seen.push(`${e.name} ${e.message} ${JSON.stringify(e)} ${String(e.cause)}`));
    // 403 with the secret token.
    await t.connect().catch((e: Error) => seen.push(`${e.message} ${JSON.stringify(e)}`));
    // Then a working token that is just as secret, a drop, a stall and a network fault.
    const SECRET2 = 'AnotherSeCrEt77';
    sim.setAccessToken(KEY, SECRET2);
    t.updateAccessToken(SECRET2);
    t.subscribe(tokens.slice(0, 2));
    await waitFor(() => t.status === 'connected', 2000, 'connected');
    sim.dropConnection({ apiKey: KEY });
    await waitFor(() => t.stats().reconnects === 1 && t.status === 'connected', 3000, 'reconnected');
    sim.stallConnection({ apiKey: KEY });
    await waitFor(() => t.stats().reconnects === 2 && t.status === 'connected', 3000, 'stall recovered');
    await sim.stop();
    await waitFor(() => seen.some((s) => s.includes('network')), 3000, 'network failure');
    seen.push(JSON.stringify(t.stats()), JSON.stringify([...t.subscriptions()]));
    await t.close();
    seen.push(JSON.stringify(await t.closed()));
    const everything = [...lines, ...seen].join('\n');
    expect(lines.length).toBeGreaterThan(5);
    expect(everything).toContain('auth_failed');
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain(SECRET2);
    expect(everything).not.toContain('access_token=');
  });
});
