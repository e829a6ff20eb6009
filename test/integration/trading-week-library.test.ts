/**
 * A trading week through the library: the simulator's trading-day clock runs fast, every morning at
 * 06:00 IST every token dies, and a script playing the user logs each key in again over the REST API
 * (`/connect/login` + `POST /session/token`) and rewrites the keys file. A MultiApiKiteTickerManager
 * whose keys read their tokens through `keysFileTokenProvider` resumes by itself: no
 * `updateAccessToken`, no restart. Reported per morning: time from the new token to the key's first
 * tick (goal < 1 s) and to every instrument ticking again; ticks lost outside the expired windows
 * (goal 0), found as gaps in each instrument's regular tick schedule.
 *
 * CI runs a short week (5 mornings, 8 s a simulated day). Longer: `npm run test:trading-week`
 * (TRADING_WEEK_DAY_MS=60000, a minute a day).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { updateKeysFile } from '../../src/cli/keys-file-update.js';
import { keysFileTokenProvider } from '../../src/connection/keys-file-provider.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { parseIst } from '../../src/simulator/trading-clock.js';

const DAYS = Number(process.env.TRADING_WEEK_DAYS ?? 5);
// 8 s a day: a login, a reconnect and every instrument back fit well inside one day on a busy machine.
const DAY_REAL_MS = Number(process.env.TRADING_WEEK_DAY_MS ?? 8000);
const INSTRUMENTS = Number(process.env.TRADING_WEEK_INSTRUMENTS ?? 3000);
/** Ticks per second per instrument: one every 500 ms, on a fixed schedule. */
const TPS = 2;
const PERIOD_MS = 1000 / TPS;
/** A gap longer than this outside an expired window is lost ticks (4 periods: room for a busy CI box). */
const GAP_MS = 4 * PERIOD_MS;
/** The user logs in this long (real time) after the morning's expiry. */
const USER_DELAY_MS = Math.min(800, DAY_REAL_MS / 5);
/**
 * Real time between one key's login and the next (default 0: back to back). A loaded machine spreads the
 * logins by itself; a gap longer than the token refresh interval makes a key come back before the next
 * key has logged in, every morning.
 */
const LOGIN_GAP_MS = Number(process.env.TRADING_WEEK_LOGIN_GAP_MS ?? 0);
const KEYS = [
  { id: 'k1', apiKey: 'sim_key_1', secret: 'sim_secret_1' },
  { id: 'k2', apiKey: 'sim_key_2', secret: 'sim_secret_2' },
  { id: 'k3', apiKey: 'sim_key_3', secret: 'sim_secret_3' },
];

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function login(base: string, apiKey: string, secret: string): Promise<string> {
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
  if (session.status !== 200) throw new Error(`login of ${apiKey} failed: HTTP ${session.status}`);
  return ((await session.json()) as { data: { access_token: string } }).data.access_token;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

interface Morning {
  expiredAt: number;
  loginAt: Record<string, number>;
  /** Per key: when a socket connected with the new token. */
  connectedAt: Record<string, number>;
  /** The first tick after the first login. */
  firstTickAt: number;
  /** Epoch ms at which every instrument had ticked again after the last login. */
  allBackAt: number;
}

describe('trading week', () => {
  it(
    'trading week - a MultiApiKiteTickerManager with keys-file providers lives through every morning expiry',
    async () => {
      const speed = 86_400_000 / DAY_REAL_MS;
      // The first 06:00 IST comes 1.5 real seconds after the start.
      const startAt = parseIst('2026-03-02 06:00:00') - 1500 * speed;
      const sim = new KiteSimulator({
        universeSize: Math.max(INSTRUMENTS + 100, 1000),
        seed: 11,
        ticksPerSecond: TPS,
        batchIntervalMs: 100,
        heartbeatIntervalMs: 500,
        tradingClock: { speed, startAt },
      });
      await sim.start();
      cleanups.push(() => sim.stop());
      const base = sim.url.replace(/^ws/, 'http');
      const dir = await mkdtemp(join(tmpdir(), 'kt-week-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const keysFile = join(dir, 'keys.json');
      for (const k of KEYS)
        await updateKeysFile(keysFile, k.id, k.apiKey, await login(base, k.apiKey, k.secret));

      const builder = MultiApiKiteTickerManager.builder().url(sim.url);
      const reports: string[] = [];
      for (const k of KEYS) {
        const provider = keysFileTokenProvider(keysFile, k.id, { onReport: (m) => reports.push(m) });
        cleanups.push(() => provider.close());
        builder.addApiKey(k.id, k.apiKey, provider);
      }
      expect(() =>
        MultiApiKiteTickerManager.builder()
          .addApiKey('x', 'k', () => 't')
          .baseConfig({ tokenRefreshIntervalMs: 5 })
          .build(),
      ).toThrow(/tokenRefreshIntervalMs/);
      const manager = builder
        .baseConfig({
          tokenRefreshIntervalMs: 200,
          reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' },
          livenessTimeoutMs: 3000,
        })
        .build();
      cleanups.push(() => manager.stop());

      // Per instrument: the last tick's time; gaps outside expired windows are lost ticks.
      const last = new Map<number, number>();
      let lost = 0;
      let lostGaps = 0;
      let totalTicks = 0;
      const windows: Array<{ from: number; to: number }> = [];
      let firstTickAt = 0;
      const backSince = new Set<number>();
      let currentLoginAt = Number.POSITIVE_INFINITY;
      manager.on('ticks', (ticks) => {
        const now = Date.now();
        totalTicks += ticks.length;
        if (now >= currentLoginAt && firstTickAt === 0) firstTickAt = now;
        for (const t of ticks) {
          const token = t.instrument_token;
          const prev = last.get(token);
          last.set(token, now);
          if (now >= currentLoginAt) backSince.add(token);
          if (prev === undefined || now - prev <= GAP_MS) continue;
          // A gap that covers an expiry is the expired window itself, not a loss.
          if (windows.some((w) => prev <= w.to && now >= w.from)) continue;
          lostGaps++;
          lost += Math.round((now - prev) / PERIOD_MS) - 1;
        }
      });

      // A key is back when one of its sockets connects with the new token (its instruments may have
      // moved to a key that came back first: they return or stay per the failover rules). Counted from
      // that key's own new token, not from the last key's: a key polls its provider every
      // tokenRefreshIntervalMs, so it can be back before the next key has even logged in.
      const connectedAt = new Map<string, number>();
      const issuedAt = new Map<string, number>();
      manager.on('status', (event, apiKeyId) => {
        if (event.status !== 'connected' || connectedAt.has(apiKeyId)) return;
        const since = issuedAt.get(apiKeyId);
        if (since !== undefined && Date.now() >= since) connectedAt.set(apiKeyId, Date.now());
      });
      await manager.start();
      const tokens = sim
        .instruments()
        .slice(0, INSTRUMENTS)
        .map((i) => i.instrument_token);
      await manager.subscribeSymbols(tokens, Mode.LTP);
      await waitFor(() => last.size === tokens.length, 10_000, 'every instrument ticking');

      const expiries: number[] = [];
      sim.on('fault', (f) => {
        if (f.kind === 'revoke' && f.detail === 'access token expired') expiries.push(Date.now());
      });
      const mornings: Morning[] = [];
      for (let day = 1; day <= DAYS; day++) {
        const seen = expiries.length;
        await waitFor(() => expiries.length >= seen + KEYS.length, DAY_REAL_MS + 5000, `morning ${day}`);
        const expiredAt = expiries[seen]!;
        // The window opens at the expiry (and a little before, for frames already on the way).
        const window = { from: expiredAt - PERIOD_MS, to: Number.POSITIVE_INFINITY };
        windows.push(window);
        await sleep(USER_DELAY_MS);
        connectedAt.clear();
        issuedAt.clear();
        firstTickAt = 0;
        backSince.clear();
        const loginAt: Record<string, number> = {};
        for (const k of KEYS) {
          if (LOGIN_GAP_MS > 0 && k !== KEYS[0]) await sleep(LOGIN_GAP_MS);
          const token = await login(base, k.apiKey, k.secret);
          // Before the write: no socket can connect with this token before the file holds it.
          issuedAt.set(k.id, Date.now());
          await updateKeysFile(keysFile, k.id, k.apiKey, token);
          loginAt[k.id] = Date.now();
          // From the first login on, ticks count as back (the first key may resume at once).
          if (currentLoginAt === Number.POSITIVE_INFINITY) currentLoginAt = loginAt[k.id]!;
        }
        await waitFor(
          () => connectedAt.size === KEYS.length && backSince.size === tokens.length,
          Math.max(10_000, DAY_REAL_MS),
          `every key and instrument back on morning ${day}`,
        ).catch((err: Error) => {
          const states = KEYS.map((k) => {
            const st = manager.getApiStats(k.id);
            return `${k.id} ${st.state}/${st.failureReason} conns ${st.activeConnections} symbols ${st.totalSymbols}`;
          });
          throw new Error(
            `${err.message}: keys connected ${[...connectedAt.keys()]}, instruments back ${backSince.size}/${tokens.length}, unplaced ${manager.getUnplacedSymbols().size}; ${states.join('; ')}`,
          );
        });
        const allBackAt = Date.now();
        window.to = allBackAt;
        currentLoginAt = Number.POSITIVE_INFINITY;
        issuedAt.clear();
        mornings.push({
          expiredAt,
          loginAt,
          connectedAt: Object.fromEntries(connectedAt),
          firstTickAt,
          allBackAt,
        });
      }
      // Steady state after the last morning, still measured for gaps.
      await sleep(Math.min(2000, DAY_REAL_MS / 3));

      const lines = mornings.map((m, i) => {
        const perKey = KEYS.map((k) => `${k.id} ${m.connectedAt[k.id]! - m.loginAt[k.id]!} ms`).join(', ');
        const firstLogin = Math.min(...Object.values(m.loginAt));
        const lastLogin = Math.max(...Object.values(m.loginAt));
        return `morning ${i + 1}: new token -> first tick ${m.firstTickAt - firstLogin} ms; new token -> key connected ${perKey}; every instrument back ${m.allBackAt - lastLogin} ms after the last login; expired window ${m.allBackAt - m.expiredAt} ms`;
      });
      const summary = `trading week (${DAYS} mornings, ${DAY_REAL_MS} ms a day, ${tokens.length} instruments, 3 keys): ${totalTicks} ticks; ticks lost outside the expired windows: ${lost} (${lostGaps} gaps); restarts: 0`;
      console.log([summary, ...lines].join('\n'));

      expect(mornings).toHaveLength(DAYS);
      for (const m of mornings) {
        // Goal < 1 s; the bounds leave room for a loaded CI machine.
        expect(m.firstTickAt - Math.min(...Object.values(m.loginAt))).toBeLessThan(2000);
        for (const k of KEYS) expect(m.connectedAt[k.id]! - m.loginAt[k.id]!).toBeLessThan(2000);
      }
      expect(lost).toBe(0);
      expect(manager.getUnplacedSymbols().size).toBe(0);
      for (const k of KEYS) expect(manager.getApiStats(k.id).state).toBe('active');
      expect(reports).toEqual([]);
    },
    Math.max(60_000, DAYS * (DAY_REAL_MS + 8000) + 20_000),
  );
});
