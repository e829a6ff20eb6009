/**
 * Access-token providers against the simulator's REST login and trading-day clock: a token expires, the
 * key waits in auth_failed asking its provider, and resumes by itself once the provider has a new token.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/ticker.js';
import type { AccessTokenProvider, StatusEvent } from '../../src/connection/types.js';
import { AuthFailedError, ErrorCode, type KiteTickerError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { parseIst } from '../../src/simulator/trading-clock.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function startSim(clock?: { speed: number; startAt: number }): Promise<KiteSimulator> {
  const sim = new KiteSimulator({
    universeSize: 300,
    seed: 9,
    batchIntervalMs: 50,
    heartbeatIntervalMs: 100,
    ticksPerSecond: 10,
    ...(clock ? { tradingClock: clock } : {}),
  });
  await sim.start();
  closers.push(() => sim.stop());
  return sim;
}

/** Plays the user: a browser login and the token exchange over the simulator's REST API. */
async function login(sim: KiteSimulator, apiKey: string, secret: string): Promise<string> {
  const base = sim.url.replace(/^ws/, 'http');
  const res = await fetch(`${base}/connect/login?v=3&api_key=${apiKey}`, { redirect: 'manual' });
  const rt = new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
  const session = await fetch(`${base}/session/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
    body: new URLSearchParams({
      api_key: apiKey,
      request_token: rt,
      checksum: createHash('sha256')
        .update(apiKey + rt + secret)
        .digest('hex'),
    }).toString(),
  });
  const body = (await session.json()) as { data: { access_token: string } };
  return body.data.access_token;
}

function capturingLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push(`${level} ${JSON.stringify(obj)} ${msg ?? ''}`);
    };
  return {
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } as Logger,
    text: () => lines.join('\n'),
  };
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('connection token provider', () => {
  it('connection token provider - expiry, auth_failed, the provider gives a new token, ticks resume (no updateAccessToken)', async () => {
    // 1000x: 06:00 IST is ~1.2 s after the start; the next one is ~86 s later.
    const sim = await startSim({ speed: 1000, startAt: parseIst('2026-03-02 05:40:00') });
    let current = await login(sim, 'sim_key_1', 'sim_secret_1');
    const first = current;
    let calls = 0;
    const provider: AccessTokenProvider = async () => {
      calls++;
      return current;
    };
    const { logger, text } = capturingLogger();
    const ticker = new KiteTicker({
      apiKey: 'sim_key_1',
      accessToken: provider,
      url: sim.url,
      tokenRefreshIntervalMs: 150,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 'none' },
      logger,
    });
    closers.push(() => ticker.close());
    const statuses: StatusEvent[] = [];
    const errors: KiteTickerError[] = [];
    ticker.on('status', (e) => statuses.push(e));
    ticker.on('error', (e) => errors.push(e));
    let ticks = 0;
    ticker.on('ticks', (t) => {
      ticks += t.length;
    });
    await ticker.connect();
    expect(calls).toBe(1); // asked at start
    ticker.subscribe([sim.instruments()[0]!.instrument_token], Mode.Quote);
    await waitFor(() => ticks > 0, 3000, 'first ticks');

    await waitFor(() => ticker.status === 'auth_failed', 5000, 'the expiry');
    const failed = statuses.find((s) => s.status === 'auth_failed');
    expect(failed).toMatchObject({ httpStatus: 403 });
    expect((failed as { reason: string }).reason).toMatch(/waiting for the token provider/);
    const callsAtExpiry = calls;
    // Asked at once after the 403, then every 150 ms while it returns the refused token.
    await sleep(600);
    expect(ticker.status).toBe('auth_failed');
    const waitingCalls = calls - callsAtExpiry;
    expect(waitingCalls).toBeGreaterThanOrEqual(3);
    expect(waitingCalls).toBeLessThanOrEqual(7); // no hot loop

    // The user logs in again; the provider now returns the new token.
    current = await login(sim, 'sim_key_1', 'sim_secret_1');
    const loggedInAt = Date.now();
    const ticksBefore = ticks;
    await waitFor(
      () => ticker.status === 'connected' && ticks > ticksBefore,
      3000,
      'ticks after the new token',
    );
    expect(Date.now() - loggedInAt).toBeLessThan(1000);
    expect(ticker.subscriptions().size).toBe(1);
    expect(errors.some((e) => e instanceof AuthFailedError)).toBe(true);
    // Secrecy: no token in any log line or error.
    for (const token of [first, current]) {
      expect(text()).not.toContain(token);
      for (const e of errors) expect(e.message).not.toContain(token);
    }
  });

  it('connection token provider - a provider that throws or returns an empty string is reported, polled, then recovers', async () => {
    const sim = await startSim();
    let mode: 'throw' | 'empty' | 'ok' = 'throw';
    let calls = 0;
    const provider: AccessTokenProvider = () => {
      calls++;
      if (mode === 'throw') throw new Error('vault unreachable (token sim_token_2 redacted?)');
      if (mode === 'empty') return '';
      return 'sim_token_2';
    };
    const ticker = new KiteTicker({
      apiKey: 'sim_key_2',
      accessToken: provider,
      url: sim.url,
      tokenRefreshIntervalMs: 100,
    });
    closers.push(() => ticker.close());
    const errors: KiteTickerError[] = [];
    const statuses: StatusEvent[] = [];
    ticker.on('error', (e) => errors.push(e));
    ticker.on('status', (e) => statuses.push(e));
    const err = await ticker.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthFailedError);
    expect(ticker.status).toBe('auth_failed');
    const waiting = statuses.find((s) => s.status === 'auth_failed') as {
      httpStatus: number;
      reason: string;
    };
    expect(waiting.httpStatus).toBe(0);
    expect(waiting.reason).toMatch(/waiting for a token from the token provider/);
    await sleep(450);
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(calls).toBeLessThanOrEqual(7);
    const providerErrors = errors.filter((e) => e.code === ErrorCode.TokenProvider);
    expect(providerErrors.length).toBeGreaterThanOrEqual(3);
    // The thrown message is reported with known secrets taken out, bounded.
    expect(providerErrors[0]!.message).toMatch(/vault unreachable/);

    mode = 'empty';
    const before = errors.length;
    await waitFor(() => errors.length > before + 1, 2000, 'the empty-string reports');
    expect(errors.at(-1)!.message).toMatch(/empty string/);
    expect(ticker.status).toBe('auth_failed');

    mode = 'ok';
    await waitFor(() => ticker.status === 'connected', 2000, 'the connection');
  });

  it('connection token provider - a provider that never answers times out, at most two calls hang, close() is clean', async () => {
    const sim = await startSim();
    let calls = 0;
    const ticker = new KiteTicker({
      apiKey: 'sim_key_3',
      accessToken: () => {
        calls++;
        return new Promise<string>(() => {});
      },
      url: sim.url,
      tokenRefreshIntervalMs: 100,
      tokenProviderTimeoutMs: 100,
    });
    const errors: KiteTickerError[] = [];
    ticker.on('error', (e) => errors.push(e));
    await expect(ticker.connect()).rejects.toBeInstanceOf(AuthFailedError);
    expect(errors[0]!.message).toMatch(/did not answer within 100 ms/);
    await sleep(800);
    expect(calls).toBe(2); // two hang; no third call piles up
    expect(errors.some((e) => /still unanswered/.test(e.message))).toBe(true);
    expect(errors.length).toBeLessThanOrEqual(12); // one report per interval, not a loop
    await ticker.close();
    const n = errors.length;
    await sleep(300);
    expect(errors.length).toBe(n);
    expect(calls).toBe(2);
  });

  it('connection token provider - updateAccessToken still works while a provider waits', async () => {
    const sim = await startSim({ speed: 200, startAt: parseIst('2026-03-02 05:59:00') });
    const token = await login(sim, 'sim_key_1', 'sim_secret_1');
    let calls = 0;
    const ticker = new KiteTicker({
      apiKey: 'sim_key_1',
      accessToken: () => {
        calls++;
        return token;
      },
      url: sim.url,
      tokenRefreshIntervalMs: 200,
      reconnect: { initialDelayMs: 10, maxDelayMs: 50, jitter: 'none' },
    });
    closers.push(() => ticker.close());
    ticker.on('error', () => {});
    await ticker.connect();
    await waitFor(() => ticker.status === 'auth_failed', 3000, 'the expiry');
    ticker.updateAccessToken(await login(sim, 'sim_key_1', 'sim_secret_1'));
    await waitFor(() => ticker.status === 'connected', 2000, 'the reconnect');
    const n = calls;
    await sleep(500);
    expect(calls).toBe(n); // connected: the provider is left alone
  });

  it('connection token provider - a MultiApiKiteTickerManager key with a provider fails over on expiry and comes back by itself', async () => {
    const sim = await startSim({ speed: 200, startAt: parseIst('2026-03-02 05:59:00') });
    const tokens: Record<string, string> = {
      sim_key_1: await login(sim, 'sim_key_1', 'sim_secret_1'),
      sim_key_2: await login(sim, 'sim_key_2', 'sim_secret_2'),
    };
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'sim_key_1', () => tokens.sim_key_1!)
      .addApiKey('b', 'sim_key_2', async () => tokens.sim_key_2!)
      .url(sim.url)
      // The providers are asked again every 200 ms (default 5 s, as long as the wait below).
      .baseConfig({
        reconnect: { initialDelayMs: 10, maxDelayMs: 100, jitter: 'none' },
        tokenRefreshIntervalMs: 200,
      })
      .build();
    closers.push(() => manager.stop());
    await manager.start();
    const instruments = sim
      .instruments()
      .slice(0, 20)
      .map((i) => i.instrument_token);
    await manager.subscribeSymbols(instruments, Mode.LTP);
    await waitFor(() => manager.getApiStats('a').state === 'failed', 5000, 'key a failing at the expiry');
    expect(manager.getApiStats('a').failureReason).toBe('auth_failed');
    // Both keys expired: the user logs both in again; nobody calls updateAccessToken.
    tokens.sim_key_1 = await login(sim, 'sim_key_1', 'sim_secret_1');
    tokens.sim_key_2 = await login(sim, 'sim_key_2', 'sim_secret_2');
    await waitFor(
      () => manager.getApiStats('a').state === 'active' && manager.getApiStats('b').state === 'active',
      5000,
      'both keys back',
    );
    expect(manager.getUnplacedSymbols().size).toBe(0);
  });
});
