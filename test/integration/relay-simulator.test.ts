import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connect,
  type Rig,
  sentTicks,
  simHoldings,
  smallManager,
  startRig,
  type TestClient,
  waitFor,
} from './relay-helpers.js';

let rig: Rig | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await rig?.stop();
  rig = undefined;
});

async function client(id: string, token: string): Promise<TestClient> {
  const c = await connect(rig!.relay.url, id, token);
  clients.push(c);
  return c;
}

function tokensOf(n: number, from = 0): number[] {
  return rig!.sim
    .instruments()
    .slice(from, from + n)
    .map((i) => i.instrument_token);
}

/** A throwaway self-signed certificate for 127.0.0.1, or undefined when openssl is not installed. */
function selfSigned(): { cert: Buffer; key: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'relay-tls-'));
  const r = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  try {
    return r.status === 0
      ? { cert: readFileSync(join(dir, 'cert.pem')), key: readFileSync(join(dir, 'key.pem')) }
      : undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const tls = selfSigned();
if (!tls) console.warn('relay-simulator.test.ts: skipping the TLS test: openssl is not installed');

describe('relay in front of the simulator', () => {
  it.skipIf(!tls)('relay - with tls it serves wss:// and Kite clients connect over it', async () => {
    rig = await startRig({}, { tls: { cert: tls!.cert, key: tls!.key } });
    expect(rig.relay.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const [t1] = tokensOf(1, 60);
    const a = await connect(rig.relay.url, 'alpha', 'alpha-token-123', { rejectUnauthorized: false });
    clients.push(a);
    a.send({ a: 'subscribe', v: [t1] });
    await waitFor(() => a.ticks.length > 0, 8000, 'ticks over TLS');
    await expect(connect(rig.relay.url.replace('wss:', 'ws:'), 'alpha', 'alpha-token-123')).rejects.toThrow();
  });

  it('relay - refuses a wrong id/token pair with 403, as Kite does', async () => {
    rig = await startRig();
    await expect(connect(rig.relay.url, 'alpha', 'beta-token-456')).rejects.toThrow('HTTP 403');
    await expect(connect(rig.relay.url, 'nobody', 'alpha-token-123')).rejects.toThrow('HTTP 403');
    await expect(connect(rig.relay.url, 'alpha', '')).rejects.toThrow('HTTP 403');
  });

  it('relay - each client gets exactly its tokens in its modes; upstream holds the union once at max mode; leaving shrinks it', async () => {
    rig = await startRig();
    const [t1, t2, t3, t4] = tokensOf(4, 10);
    const a = await client('alpha', 'alpha-token-123');
    const b = await client('beta', 'beta-token-456');
    a.send({ a: 'subscribe', v: [t1, t2, t3] });
    a.send({ a: 'mode', v: ['ltp', [t1]] });
    b.send({ a: 'subscribe', v: [t2, t3, t4] });
    b.send({ a: 'mode', v: ['full', [t2]] });
    await rig.relay.upstreamIdle();
    await waitFor(
      () => {
        const h = simHoldings(rig!.sim);
        // t1 went quote -> ltp: the upstream drops its mode after the 300 ms linger.
        return h.get(t2!)?.mode === 'full' && h.get(t1!)?.mode === 'ltp' && h.size === 4;
      },
      8000,
      'upstream union',
    );
    const held = simHoldings(rig.sim);
    expect([...held.keys()].sort()).toEqual([t1, t2, t3, t4].sort());
    for (const e of held.values()) expect(e.count).toBe(1);
    expect(held.get(t1!)!.mode).toBe('ltp');
    expect(held.get(t2!)!.mode).toBe('full');
    expect(held.get(t3!)!.mode).toBe('quote');
    expect(held.get(t4!)!.mode).toBe('quote');

    const aStart = a.ticks.length;
    const bStart = b.ticks.length;
    await waitFor(() => a.ticks.length > aStart + 30 && b.ticks.length > bStart + 30, 8000, 'ticks');
    const aTicks = a.ticks.slice(aStart);
    const bTicks = b.ticks.slice(bStart);
    // Exactly its tokens, each in its mode (full upstream for t2 is cut to quote for alpha).
    expect(new Set(aTicks.map((t) => t.instrument_token))).toEqual(new Set([t1, t2, t3]));
    expect(new Set(bTicks.map((t) => t.instrument_token))).toEqual(new Set([t2, t3, t4]));
    const modeFor = (ticks: typeof aTicks, t: number) =>
      new Set(ticks.filter((x) => x.instrument_token === t).map((x) => x.mode));
    expect(modeFor(aTicks, t1!)).toEqual(new Set(['ltp']));
    expect(modeFor(aTicks, t2!)).toEqual(new Set(['quote']));
    expect(modeFor(bTicks, t2!)).toEqual(new Set(['full']));
    // Values equal to what the simulator sent.
    const sent = sentTicks(rig.simFrames);
    const { canonical } = await import('./relay-helpers.js');
    for (const t of [...aTicks, ...bTicks]) expect(sent.has(canonical(t))).toBe(true);

    const stats = rig.relay.stats();
    expect(stats.upstreamTokens).toBe(4);
    expect(stats.clients.find((c) => c.clientId === 'alpha')!.modes).toEqual({ ltp: 1, quote: 2, full: 0 });

    // beta leaves: after the linger t4 is gone upstream and t2 drops to quote.
    b.ws.close();
    await waitFor(
      () => {
        const h = simHoldings(rig!.sim);
        return h.size === 3 && h.get(t2!)?.mode === 'quote';
      },
      8000,
      'upstream shrink',
    );
    expect(rig.relay.stats().upstreamTokens).toBe(3);
  });

  it('relay - garbage commands get Kite error frames and the client stays connected and served', async () => {
    rig = await startRig();
    const [t1] = tokensOf(1, 20);
    const a = await client('alpha', 'alpha-token-123');
    a.send('not json');
    a.send({ a: 'subscribe', v: 'x' });
    a.send({ a: 'mode', v: ['turbo', [t1]] });
    a.ws.send(Buffer.from([1, 2, 3]));
    await waitFor(() => a.texts.length >= 4, 5000, 'error frames');
    expect(a.texts.every((t) => t.type === 'error')).toBe(true);
    a.send({ a: 'subscribe', v: [t1] });
    await waitFor(() => a.ticks.some((t) => t.instrument_token === t1), 8000, 'ticks after garbage');
    expect(a.ws.readyState).toBe(1);
  });

  it('relay - client limits: instruments over maxInstruments and a mode not allowed are refused with error frames', async () => {
    rig = await startRig(
      {},
      {
        clients: [
          {
            id: 'small',
            accessToken: 'small-token-1',
            maxInstruments: 2,
            modes: ['ltp', 'quote'],
            maxSockets: 1,
          },
        ],
      },
    );
    const [t1, t2, t3] = tokensOf(3, 30);
    const s = await client('small', 'small-token-1');
    await expect(connect(rig.relay.url, 'small', 'small-token-1')).rejects.toThrow('HTTP 429');
    s.send({ a: 'subscribe', v: [t1, t2, t3] });
    s.send({ a: 'mode', v: ['full', [t1]] });
    await waitFor(() => s.texts.length >= 2, 5000, 'errors');
    expect(s.texts[0]!.data).toMatch(
      new RegExp(`max tokens exceeded: 1 token\\(s\\) not subscribed \\(${t3}\\)`),
    );
    expect(s.texts[1]!.data).toMatch(/mode full is not allowed/);
    await rig.relay.upstreamIdle();
    expect([...rig.relay.upstreamSubscriptions()]).toEqual([
      [t1, 'quote'],
      [t2, 'quote'],
    ]);
    await waitFor(() => s.ticks.length > 10, 8000, 'ticks');
    expect(new Set(s.ticks.map((t) => t.mode))).toEqual(new Set(['quote']));
  });

  it('relay - an upstream capacity error goes only to the client that caused it, nobody is disconnected', async () => {
    rig = await startRig({}, {}, (url) => smallManager(url, 3));
    const ts = tokensOf(5, 40);
    const a = await client('alpha', 'alpha-token-123');
    const b = await client('beta', 'beta-token-456');
    a.send({ a: 'subscribe', v: ts.slice(0, 2) });
    await rig.relay.upstreamIdle();
    await waitFor(() => a.ticks.length > 0, 8000, 'alpha ticks');
    b.send({ a: 'subscribe', v: ts.slice(2, 5) });
    await waitFor(() => b.texts.length > 0, 5000, 'beta error');
    expect(b.texts[0]!.type).toBe('error');
    expect(String(b.texts[0]!.data)).toMatch(
      new RegExp(
        `3 token\\(s\\) not subscribed \\(${ts.slice(2, 5).join(', ')}\\): the relay's upstream refused them`,
      ),
    );
    expect(a.texts).toEqual([]);
    const before = a.ticks.length;
    await waitFor(() => a.ticks.length > before + 5, 8000, 'alpha still served');
    expect(a.ws.readyState).toBe(1);
    expect(b.ws.readyState).toBe(1);
    expect(rig.relay.stats().clients.find((c) => c.clientId === 'beta')!.subscriptions).toBe(0);
  });

  it('relay - order postbacks go to the clients entitled to the upstream key', async () => {
    rig = await startRig(
      {},
      {
        clients: [
          { id: 'all', accessToken: 'all-token-1' },
          { id: 'none', accessToken: 'none-token-1', orders: [] },
          { id: 'k1only', accessToken: 'k1-token-1', orders: ['k1'] },
          { id: 'other', accessToken: 'other-token-1', orders: ['k2'] },
        ],
      },
    );
    const all = await client('all', 'all-token-1');
    const none = await client('none', 'none-token-1');
    const k1 = await client('k1only', 'k1-token-1');
    const other = await client('other', 'other-token-1');
    // The upstream socket opens when there is something to subscribe.
    all.send({ a: 'subscribe', v: tokensOf(1) });
    await waitFor(() => rig!.sim.connections().length > 0, 8000, 'upstream socket');
    const order = { order_id: '1001', status: 'COMPLETE', tradingsymbol: 'INFY' };
    rig.sim.sendOrderUpdate('sim_key_1', order);
    await waitFor(() => all.texts.length > 0 && k1.texts.length > 0, 5000, 'orders');
    await new Promise((r) => setTimeout(r, 200));
    expect(all.texts).toEqual([{ type: 'order', data: order }]);
    expect(k1.texts).toEqual([{ type: 'order', data: order }]);
    expect(none.texts).toEqual([]);
    expect(other.texts).toEqual([]);
  });
});
