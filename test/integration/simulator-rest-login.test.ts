import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KiteSimulator } from '../../src/simulator/server.js';
import { parseIst } from '../../src/simulator/trading-clock.js';
import type { SimulatorOptions } from '../../src/simulator/types.js';

const sims: KiteSimulator[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.stop();
});

async function startSim(options: SimulatorOptions = {}): Promise<{ sim: KiteSimulator; base: string }> {
  const sim = new KiteSimulator({ universeSize: 200, seed: 5, ...options });
  sims.push(sim);
  await sim.start();
  return { sim, base: `http://127.0.0.1:${sim.port}` };
}

const V3 = { 'X-Kite-Version': '3' };
const checksum = (k: string, rt: string, secret: string): string =>
  createHash('sha256')
    .update(k + rt + secret)
    .digest('hex');

async function requestToken(base: string, apiKey = 'sim_key_1'): Promise<string> {
  const res = await fetch(`${base}/connect/login?v=3&api_key=${apiKey}`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
}

function exchange(base: string, form: Record<string, string>, headers: Record<string, string> = V3) {
  return fetch(`${base}/session/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

async function login(base: string, apiKey = 'sim_key_1', secret = 'sim_secret_1'): Promise<string> {
  const rt = await requestToken(base, apiKey);
  const res = await exchange(base, {
    api_key: apiKey,
    request_token: rt,
    checksum: checksum(apiKey, rt, secret),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: { access_token: string } };
  return body.data.access_token;
}

/** The HTTP status of a ticker upgrade (101 when it opened), the socket closed at once. */
function upgradeStatus(base: string, apiKey: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/?api_key=${apiKey}&access_token=${token}`);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
}

function profile(base: string, auth: string, headers: Record<string, string> = V3) {
  return fetch(`${base}/user/profile`, { headers: { Authorization: auth, ...headers } });
}

describe('simulator rest login', () => {
  it('simulator rest login - /connect/login redirects to the app with a request token', async () => {
    const { base } = await startSim();
    const res = await fetch(`${base}/connect/login?v=3&api_key=sim_key_2`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location') ?? '');
    expect(`${to.origin}${to.pathname}`).toBe('http://127.0.0.1:5010/');
    expect(to.searchParams.get('request_token')).toMatch(/^[0-9a-f]{32}$/);
    expect(to.searchParams.get('action')).toBe('login');
    expect(to.searchParams.get('status')).toBe('success');
    const noV = await fetch(`${base}/connect/login?api_key=sim_key_2`, { redirect: 'manual' });
    expect(noV.status).toBe(400);
    expect(await noV.json()).toMatchObject({ status: 'error', error_type: 'InputException' });
    const unknown = await fetch(`${base}/connect/login?v=3&api_key=nope`, { redirect: 'manual' });
    expect(unknown.status).toBe(400);
  });

  it('simulator rest login - POST /session/token mints a token the ticker accepts at once', async () => {
    const { base } = await startSim();
    const rt = await requestToken(base);
    const res = await exchange(base, {
      api_key: 'sim_key_1',
      request_token: rt,
      checksum: checksum('sim_key_1', rt, 'sim_secret_1'),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-kite-version')).toBe('3');
    const body = (await res.json()) as { status: string; data: Record<string, unknown> };
    expect(body.status).toBe('success');
    for (const field of [
      'user_id',
      'user_name',
      'user_shortname',
      'email',
      'user_type',
      'broker',
      'exchanges',
      'products',
      'order_types',
      'api_key',
      'access_token',
      'public_token',
      'refresh_token',
      'login_time',
    ]) {
      expect(body.data, field).toHaveProperty(field);
    }
    expect(body.data.user_id).toBe('SIM001');
    expect(body.data.refresh_token).toBe('');
    expect(Number.isFinite(parseIst(String(body.data.login_time)))).toBe(true);
    const token = String(body.data.access_token);
    expect(token).not.toBe('sim_token_1');
    expect(await upgradeStatus(base, 'sim_key_1', token)).toBe(101);
    expect(await upgradeStatus(base, 'sim_key_1', 'sim_token_1')).toBe(403);
    const p = await profile(base, `token sim_key_1:${token}`);
    expect(p.status).toBe(200);
    expect(await p.json()).toMatchObject({ status: 'success', data: { user_id: 'SIM001' } });
  });

  it('simulator rest login - a wrong checksum and a reused or expired request token are TokenException', async () => {
    const { base } = await startSim({ tradingClock: { requestTokenTtlMs: 200 } });
    const rt = await requestToken(base);
    const wrong = await exchange(base, {
      api_key: 'sim_key_1',
      request_token: rt,
      checksum: checksum('sim_key_1', rt, 'not_the_secret'),
    });
    expect(wrong.status).toBe(403);
    const wrongBody = await wrong.json();
    expect(wrongBody).toMatchObject({ status: 'error', error_type: 'TokenException' });
    expect(JSON.stringify(wrongBody)).not.toContain(rt);
    // Hex garbage after a valid-looking prefix is no checksum either.
    const good = checksum('sim_key_1', rt, 'sim_secret_1');
    const padded = await exchange(base, { api_key: 'sim_key_1', request_token: rt, checksum: `${good}zz` });
    expect(padded.status).toBe(403);
    // The right one works once...
    const first = await exchange(base, { api_key: 'sim_key_1', request_token: rt, checksum: good });
    expect(first.status).toBe(200);
    // ...and never again.
    const again = await exchange(base, { api_key: 'sim_key_1', request_token: rt, checksum: good });
    expect(again.status).toBe(403);
    expect(await again.json()).toMatchObject({ error_type: 'TokenException' });
    // A request token of another key is not this key's.
    const rt2 = await requestToken(base, 'sim_key_2');
    const cross = await exchange(base, {
      api_key: 'sim_key_1',
      request_token: rt2,
      checksum: checksum('sim_key_1', rt2, 'sim_secret_1'),
    });
    expect(cross.status).toBe(403);
    // Request tokens are short-lived.
    const rt3 = await requestToken(base);
    await new Promise((r) => setTimeout(r, 300));
    const late = await exchange(base, {
      api_key: 'sim_key_1',
      request_token: rt3,
      checksum: checksum('sim_key_1', rt3, 'sim_secret_1'),
    });
    expect(late.status).toBe(403);
  });

  it('simulator rest login - hostile forms get an error envelope, never a crash', async () => {
    const { base, sim } = await startSim();
    const rt = await requestToken(base);
    const good = checksum('sim_key_1', rt, 'sim_secret_1');
    const cases: Array<[number, string, Promise<Response>]> = [
      [400, 'InputException', exchange(base, { api_key: 'sim_key_1', request_token: rt })],
      [400, 'InputException', exchange(base, { api_key: '', request_token: rt, checksum: good })],
      [
        400,
        'InputException',
        exchange(base, { api_key: 'sim_key_1', request_token: rt, checksum: good }, {}),
      ],
      [403, 'InputException', exchange(base, { api_key: 'nope', request_token: rt, checksum: good })],
      [
        400,
        'InputException',
        fetch(`${base}/session/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...V3 },
          body: JSON.stringify({ api_key: 'sim_key_1', request_token: rt, checksum: good }),
        }),
      ],
      [
        400,
        'InputException',
        fetch(`${base}/session/token`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...V3 },
          body: `api_key=sim_key_1&api_key=sim_key_2&request_token=${rt}&checksum=${good}`,
        }),
      ],
      [
        400,
        'InputException',
        exchange(base, { api_key: 'x'.repeat(300), request_token: rt, checksum: good }),
      ],
      [405, 'InputException', fetch(`${base}/session/token`, { method: 'PUT', headers: V3 })],
      [405, 'InputException', fetch(`${base}/user/profile`, { method: 'POST', headers: V3 })],
      [403, 'TokenException', profile(base, 'token sim_key_1')],
      [403, 'TokenException', profile(base, 'Bearer abc')],
      [400, 'InputException', profile(base, 'token sim_key_1:sim_token_1', {})],
    ];
    for (const [status, errorType, p] of cases) {
      const res = await p;
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ status: 'error', error_type: errorType });
    }
    // A huge form: 413 before it is buffered.
    const status = await new Promise<number>((resolve) => {
      const req = request(`${base}/session/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...V3 },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', () => resolve(-1));
      const chunk = Buffer.alloc(64 * 1024, 'a');
      for (let i = 0; i < 32; i++) req.write(chunk);
      req.end();
    });
    expect([413, -1]).toContain(status);
    // The request token survived all of that, and the simulator still answers.
    const ok = await exchange(base, { api_key: 'sim_key_1', request_token: rt, checksum: good });
    expect(ok.status).toBe(200);
    expect(sim.port).toBeGreaterThan(0);
  });

  it('simulator rest login - DELETE /session/token logs out: profile and ticker refuse the token', async () => {
    const { base } = await startSim();
    const token = await login(base);
    expect((await profile(base, `token sim_key_1:${token}`)).status).toBe(200);
    const bad = await fetch(`${base}/session/token?api_key=sim_key_1&access_token=wrong`, {
      method: 'DELETE',
      headers: V3,
    });
    expect(bad.status).toBe(403);
    const out = await fetch(`${base}/session/token?api_key=sim_key_1&access_token=${token}`, {
      method: 'DELETE',
      headers: V3,
    });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ status: 'success', data: true });
    const p = await profile(base, `token sim_key_1:${token}`);
    expect(p.status).toBe(403);
    expect(await p.json()).toMatchObject({ status: 'error', error_type: 'TokenException' });
    expect(await upgradeStatus(base, 'sim_key_1', token)).toBe(403);
    // A new login works again.
    const next = await login(base);
    expect(await upgradeStatus(base, 'sim_key_1', next)).toBe(101);
  });

  it('simulator rest login - at the daily expiry open sockets close, upgrades and profile get 403', async () => {
    // 100 simulated ms per real ms: 06:00 IST comes about 600 ms after the start.
    const { base } = await startSim({
      tradingClock: { speed: 100, startAt: parseIst('2026-03-02 05:59:00') },
    });
    const token = await login(base, 'sim_key_2', 'sim_secret_2');
    const ws = new WebSocket(`${base.replace('http', 'ws')}/?api_key=sim_key_2&access_token=${token}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = await new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(closed).toBe(1008);
    expect(await upgradeStatus(base, 'sim_key_2', token)).toBe(403);
    expect(await upgradeStatus(base, 'sim_key_1', 'sim_token_1')).toBe(403);
    expect((await profile(base, `token sim_key_2:${token}`)).status).toBe(403);
    // The next morning's login lives until the next 06:00 (a simulated day, ~14 real minutes away).
    const fresh = await login(base, 'sim_key_2', 'sim_secret_2');
    expect(await upgradeStatus(base, 'sim_key_2', fresh)).toBe(101);
    expect((await profile(base, `token sim_key_2:${fresh}`)).status).toBe(200);
  });

  it('simulator rest login - bad apps options are InvalidArgumentError', () => {
    expect(() => new KiteSimulator({ universeSize: 10, apps: { k: { apiSecret: '' } } })).toThrow(
      /apiSecret/,
    );
    expect(
      () => new KiteSimulator({ universeSize: 10, apps: { k: { apiSecret: 's', redirectUrl: 'ftp://x/' } } }),
    ).toThrow(/redirectUrl/);
    expect(() => new KiteSimulator({ universeSize: 10, tradingClock: { speed: -1 } })).toThrow(/speed/);
  });
});
