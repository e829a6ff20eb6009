import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeFrame } from '../../src/protocol/decode.js';
import type { Tick } from '../../src/protocol/types.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import type { FaultRecord, SimulatorOptions } from '../../src/simulator/types.js';

const NIFTY = 256265;
const INFY = 408065;
const SENSEX = 265;

/** A plain `ws` client that records everything it receives. */
class Client {
  readonly ws: WebSocket;
  readonly binary: Buffer[] = [];
  readonly texts: string[] = [];
  closeInfo: { code: number; reason: string } | undefined;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.binary.push(data as Buffer);
      else this.texts.push(data.toString());
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason: reason.toString() };
        resolve(this.closeInfo);
      });
    });
  }

  send(obj: unknown): void {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  ticks(): Tick[] {
    return this.binary.flatMap((b) => decodeFrame(b));
  }

  heartbeats(): number {
    return this.binary.filter((b) => b.byteLength === 1).length;
  }
}

let sims: KiteSimulator[] = [];
let clients: Client[] = [];

async function startSim(options: SimulatorOptions = {}): Promise<KiteSimulator> {
  const sim = new KiteSimulator({ universeSize: 500, ...options });
  sims.push(sim);
  await sim.start({ port: 0 });
  return sim;
}

function urlFor(sim: KiteSimulator, key = 'sim_key_1', token = 'sim_token_1'): string {
  return `${sim.url}/?api_key=${key}&access_token=${token}&uid=${Date.now()}`;
}

async function connect(sim: KiteSimulator, key = 'sim_key_1', token = `sim_token_${key.slice(-1)}`) {
  const c = new Client(urlFor(sim, key, token));
  clients.push(c);
  await c.opened;
  return c;
}

/** The HTTP status of a refused upgrade (or 101 when accepted, then closed). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('error', () => {});
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.once('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('error', (e) => reject(e));
  });
}

async function until(pred: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  for (const c of clients) c.ws.terminate();
  clients = [];
  await Promise.all(sims.map((s) => s.stop()));
  sims = [];
});

describe('simulator server', () => {
  it('simulator - accepts good credentials in any order, refuses bad ones with HTTP 403', async () => {
    const sim = await startSim();
    expect(sim.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    expect(await upgradeStatus(`${sim.url}?access_token=sim_token_2&api_key=sim_key_2`)).toBe(101);
    expect(await upgradeStatus(`${sim.url}/?api_key=sim_key_1&access_token=sim_token_1&uid=1`)).toBe(101);
    expect(await upgradeStatus(`${sim.url}/?api_key=sim_key_1&access_token=wrong`)).toBe(403);
    expect(await upgradeStatus(`${sim.url}/?api_key=sim_key_1`)).toBe(403);
    expect(await upgradeStatus(`${sim.url}/?api_key=unknown&access_token=sim_token_1`)).toBe(403);
    await until(() => sim.keyInfo('sim_key_1').openConnections === 0);
    const info = sim.keyInfo('sim_key_1');
    expect(info.rejectedUpgrades).toEqual({ 403: 2 });
    expect(info.acceptedUpgrades).toBe(1);
  });

  it('simulator - a 4th connection of a key is refused with 429; a slot frees when one closes', async () => {
    const sim = await startSim();
    const a = await connect(sim);
    await connect(sim);
    await connect(sim);
    expect(await upgradeStatus(urlFor(sim))).toBe(429);
    // Other keys are not affected.
    expect(await upgradeStatus(urlFor(sim, 'sim_key_2', 'sim_token_2'))).toBe(101);
    a.ws.close();
    await until(() => sim.keyInfo('sim_key_1').openConnections === 2);
    expect(await upgradeStatus(urlFor(sim))).toBe(101);
    const info = sim.keyInfo('sim_key_1');
    expect(info.rejectedUpgrades[429]).toBe(1);
    expect(info.maxConcurrentConnections).toBe(3);
  });

  it('simulator - connection limit and its status are configurable', async () => {
    const sim = await startSim({ maxConnectionsPerKey: 1, connectionLimitStatus: 503 });
    await connect(sim);
    expect(await upgradeStatus(urlFor(sim))).toBe(503);
  });

  it('simulator - subscribe defaults to quote, mode changes it, ticks arrive in each mode', async () => {
    const sim = await startSim({ batchIntervalMs: 20 });
    const c = await connect(sim);
    c.send({ a: 'subscribe', v: [NIFTY, INFY, SENSEX, 999_999_999] });
    await until(() => sim.connections()[0]?.subscriptions.size === 4);
    expect([...sim.connections()[0]!.subscriptions]).toEqual([
      [NIFTY, 'quote'],
      [INFY, 'quote'],
      [SENSEX, 'quote'],
      [999_999_999, 'quote'],
    ]);
    // First snapshot arrives within a batch or two, in quote mode (index 28-byte packets).
    await until(() => c.ticks().some((t) => t.instrument_token === NIFTY));
    const first = c.ticks().find((t) => t.instrument_token === NIFTY)!;
    expect(first).toMatchObject({ mode: 'quote', tradable: false, exchange: 'INDICES' });
    expect(c.binary.some((b) => b.includes(Buffer.from([0, 28])))).toBe(true);

    c.send({ a: 'mode', v: ['full', [INFY]] });
    c.send({ a: 'mode', v: ['ltp', [SENSEX]] });
    c.send({ a: 'mode', v: ['full', [123]] }); // not subscribed: ignored
    await until(() => c.ticks().some((t) => t.instrument_token === INFY && t.mode === 'full'));
    await until(() => c.ticks().some((t) => t.instrument_token === SENSEX && t.mode === 'ltp'));
    const subs = sim.connections()[0]!.subscriptions;
    expect(subs.get(INFY)).toBe('full');
    expect(subs.get(SENSEX)).toBe('ltp');
    expect(subs.has(123)).toBe(false);
    // A repeated subscribe does not reset the mode.
    c.send({ a: 'subscribe', v: [INFY] });
    c.send({ a: 'unsubscribe', v: [NIFTY, 999_999_999] });
    await until(() => sim.connections()[0]!.subscriptions.size === 2);
    expect(sim.connections()[0]!.subscriptions.get(INFY)).toBe('full');
    // Unknown tokens never tick.
    expect(c.ticks().some((t) => t.instrument_token === 999_999_999)).toBe(false);
    const log = sim.keyInfo('sim_key_1').commands;
    expect(log.map((e) => e.text)).toContain('{"a":"mode","v":["full",[123]]}');
    expect(log.every((e) => e.connectionId === sim.connections()[0]!.id && e.at > 0)).toBe(true);
  });

  it('simulator - every frame decodes to the values the simulator meant (onFrameSent + snapshot)', async () => {
    const problems: string[] = [];
    let checked = 0;
    let sim: KiteSimulator | undefined;
    const onFrameSent = (_id: number, frame: Uint8Array | string): void => {
      if (typeof frame === 'string' || frame.byteLength < 2) return;
      const errors: unknown[] = [];
      for (const t of decodeFrame(frame, (e) => errors.push(e))) {
        const meant = sim!.snapshot(t.instrument_token, t.mode);
        if (!isDeepStrictEqual(meant, t)) problems.push(`${t.instrument_token} ${t.mode}`);
        checked++;
      }
      if (errors.length) problems.push(JSON.stringify(errors));
    };
    sim = await startSim({ universeSize: 3000, ticksPerSecond: 10, batchIntervalMs: 25, onFrameSent });
    const tokens = sim.instruments().map((i) => i.instrument_token);
    const c = await connect(sim);
    c.send({ a: 'subscribe', v: tokens.slice(0, 900) });
    c.send({ a: 'mode', v: ['full', tokens.slice(0, 300)] });
    c.send({ a: 'mode', v: ['ltp', tokens.slice(600, 900)] });
    await until(() => checked > 3000, 5000, 'ticks');
    expect(problems).toEqual([]);
    // The client got the same packets the hook saw (what was sent is what arrived).
    await until(() => c.ticks().length >= 3000);
    const modes = new Set(c.ticks().map((t) => t.mode));
    expect(modes).toEqual(new Set(['ltp', 'quote', 'full']));
  });

  it('simulator - over-limit subscribe subscribes what fits and sends an error text frame', async () => {
    const sim = await startSim({ maxInstrumentsPerConnection: 10 });
    const c = await connect(sim);
    const tokens = sim.instruments().map((i) => i.instrument_token);
    c.send({ a: 'subscribe', v: tokens.slice(0, 6) });
    c.send({ a: 'subscribe', v: [...tokens.slice(0, 3), ...tokens.slice(6, 12)] }); // 3 dups, 6 new, 4 fit
    await until(() => c.texts.length === 1);
    const msg = JSON.parse(c.texts[0]!);
    expect(msg.type).toBe('error');
    expect(msg.data).toMatch(/max tokens exceeded: 2 token\(s\)/);
    const subs = sim.connections()[0]!.subscriptions;
    expect(subs.size).toBe(10);
    expect(subs.has(tokens[9]!)).toBe(true);
    expect(subs.has(tokens[10]!)).toBe(false);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('simulator - malformed commands get an error text frame and the connection stays up', async () => {
    const sim = await startSim();
    const c = await connect(sim);
    c.send('not json');
    c.send({ a: 'subscribe', v: ['408065'] });
    c.send({ a: 'mode', v: ['fast', [1]] });
    c.ws.send(Buffer.from([1, 2, 3]));
    await until(() => c.texts.length === 4);
    for (const t of c.texts) expect(JSON.parse(t)).toMatchObject({ type: 'error' });
    expect(JSON.parse(c.texts[1]!).data).toMatch(/element 0/);
    c.send({ a: 'subscribe', v: [INFY] });
    await until(() => c.ticks().some((t) => t.instrument_token === INFY));
    expect(sim.keyInfo('sim_key_1').commands).toHaveLength(5);
  });

  it('simulator - idle connections get a 1-byte heartbeat every heartbeatIntervalMs', async () => {
    const sim = await startSim({ heartbeatIntervalMs: 100 });
    const c = await connect(sim);
    await sleep(650);
    const n = c.heartbeats();
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(7);
    expect(c.binary.every((b) => b.byteLength === 1)).toBe(true);
    expect(sim.connections()[0]!.heartbeatsSent).toBe(n);
  });

  it('simulator - default heartbeat: never more than 2 s of silence', async () => {
    const sim = await startSim();
    const c = await connect(sim);
    const gaps: number[] = [];
    let last = Date.now();
    c.ws.on('message', () => {
      gaps.push(Date.now() - last);
      last = Date.now();
    });
    await sleep(2600);
    expect(gaps.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps, Date.now() - last)).toBeLessThan(2000);
  });

  it('simulator - order updates go to every socket of the key only', async () => {
    const sim = await startSim();
    const a = await connect(sim);
    const b = await connect(sim);
    const other = await connect(sim, 'sim_key_2');
    const order = { order_id: '220303000308932', status: 'COMPLETE', instrument_token: 779521 };
    sim.sendOrderUpdate('sim_key_1', order);
    await until(() => a.texts.length === 1 && b.texts.length === 1);
    expect(JSON.parse(a.texts[0]!)).toEqual({ type: 'order', data: order });
    await sleep(50);
    expect(other.texts).toEqual([]);
  });

  it('simulator - dropConnection closes the TCP socket abruptly (1006)', async () => {
    const faults: FaultRecord[] = [];
    const sim = await startSim();
    sim.on('fault', (f) => faults.push(f));
    const c = await connect(sim);
    const id = sim.connections()[0]!.id;
    sim.dropConnection(id);
    expect((await c.closed).code).toBe(1006);
    expect(sim.connections()).toEqual([]);
    expect(faults).toMatchObject([{ kind: 'drop', connectionId: id, apiKey: 'sim_key_1', source: 'manual' }]);
    expect(sim.faultLog()).toEqual(faults);
  });

  it('simulator - closeConnection sends a close frame with the code and reason', async () => {
    const sim = await startSim();
    const a = await connect(sim);
    const b = await connect(sim);
    sim.closeConnection({ apiKey: 'sim_key_1' }, 1011, 'maintenance');
    expect(await a.closed).toEqual({ code: 1011, reason: 'maintenance' });
    expect(await b.closed).toEqual({ code: 1011, reason: 'maintenance' });
    expect(sim.keyInfo('sim_key_1').openConnections).toBe(0);
  });

  it('simulator - stallConnection silences ticks and heartbeats, keeps the socket, then resumes', async () => {
    const sim = await startSim({ heartbeatIntervalMs: 50, batchIntervalMs: 20, ticksPerSecond: 50 });
    const c = await connect(sim);
    c.send({ a: 'subscribe', v: [INFY] });
    await until(() => c.ticks().length > 0);
    const id = sim.connections()[0]!.id;
    sim.stallConnection(id, 400);
    expect(sim.connections()[0]!.stalled).toBe(true);
    await sleep(30);
    const before = c.binary.length;
    await sleep(250);
    expect(c.binary.length).toBe(before);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => c.binary.length > before, 2000, 'resume');
    expect(sim.connections()[0]!.stalled).toBe(false);
  });

  it('simulator - each corruption kind sends one bad frame; the decoder survives and reports it', async () => {
    const sim = await startSim();
    const c = await connect(sim);
    c.send({ a: 'subscribe', v: [INFY] });
    await until(() => c.ticks().length > 0);
    const id = sim.connections()[0]!.id;
    const kinds = ['lying_count', 'truncated_packet', 'unknown_length', 'garbage_binary'] as const;
    for (const kind of kinds) {
      const n = c.binary.length;
      sim.corruptConnection(id, kind);
      await until(() => c.binary.length > n);
      const frame = c.binary.find((b, i) => i >= n && b.byteLength > 1)!;
      const errors: Array<{ kind: string }> = [];
      const ticks = decodeFrame(frame, (e) => errors.push(e));
      expect(errors.length, kind).toBeGreaterThan(0);
      if (kind !== 'garbage_binary')
        expect(
          ticks.some((t) => t.instrument_token === INFY),
          kind,
        ).toBe(true);
    }
    sim.corruptConnection(id, 'garbage_text');
    await until(() => c.texts.length === 1);
    expect(() => JSON.parse(c.texts[0]!)).toThrow();
    expect(sim.faultLog().map((f) => f.detail)).toEqual([...kinds, 'garbage_text']);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('simulator - refuseUpgrades answers 503/429 for the window, per key or all', async () => {
    const sim = await startSim();
    sim.refuseUpgrades(503, 300, 'sim_key_1');
    expect(await upgradeStatus(urlFor(sim))).toBe(503);
    expect(await upgradeStatus(urlFor(sim, 'sim_key_2', 'sim_token_2'))).toBe(101);
    sim.refuseUpgrades(429, 200);
    expect(await upgradeStatus(urlFor(sim, 'sim_key_2', 'sim_token_2'))).toBe(429);
    await sleep(320);
    expect(await upgradeStatus(urlFor(sim))).toBe(101);
    expect(sim.keyInfo('sim_key_1').rejectedUpgrades).toEqual({ 503: 1 });
    expect(() => sim.refuseUpgrades(200, 100)).toThrow(/HTTP error status/);
  });

  it('simulator - revokeToken closes the key, refuses 403 until setAccessToken', async () => {
    const sim = await startSim();
    const a = await connect(sim);
    const other = await connect(sim, 'sim_key_2');
    sim.revokeToken('sim_key_1');
    expect((await a.closed).code).toBe(1008);
    expect(other.ws.readyState).toBe(WebSocket.OPEN);
    expect(await upgradeStatus(urlFor(sim))).toBe(403);
    sim.setAccessToken('sim_key_1', 'fresh_token');
    expect(await upgradeStatus(urlFor(sim, 'sim_key_1', 'sim_token_1'))).toBe(403);
    expect(await upgradeStatus(urlFor(sim, 'sim_key_1', 'fresh_token'))).toBe(101);
  });

  it('simulator - restart drops everyone, refuses TCP during downtime, listens again on the same port', async () => {
    const sim = await startSim();
    const port = sim.port;
    const c = await connect(sim);
    const restarting = sim.restart(300);
    expect((await c.closed).code).toBe(1006);
    await sleep(50);
    await expect(upgradeStatus(urlFor(sim))).rejects.toThrow(/ECONNREFUSED/);
    await restarting;
    expect(sim.port).toBe(port);
    const again = await connect(sim);
    again.send({ a: 'subscribe', v: [INFY] });
    await until(() => again.ticks().length > 0);
    expect(sim.faultLog().map((f) => f.kind)).toEqual(['restart']);
  });

  it('simulator - stop is idempotent, closes sockets and leaves no listener', async () => {
    const sim = await startSim();
    const c = await connect(sim);
    const url = urlFor(sim);
    await sim.stop();
    await sim.stop();
    expect((await c.closed).code).toBe(1006);
    await expect(upgradeStatus(url)).rejects.toThrow(/ECONNREFUSED/);
    await expect(sim.start()).rejects.toThrow(/stopped/);
  });

  it('simulator - same seed gives the same first ticks over the wire', async () => {
    const firstTicks = async (seed: number) => {
      const sim = await startSim({ seed, universeSize: 2000 });
      const c = await connect(sim);
      const tokens = sim
        .instruments()
        .map((i) => i.instrument_token)
        .slice(0, 50);
      c.send({ a: 'subscribe', v: tokens });
      c.send({ a: 'mode', v: ['quote', tokens] });
      await until(() => new Set(c.ticks().map((t) => t.instrument_token)).size === 50);
      const seen = new Map<number, Tick>();
      for (const t of c.ticks()) if (!seen.has(t.instrument_token)) seen.set(t.instrument_token, t);
      return [...seen.entries()].sort((x, y) => x[0] - y[0]);
    };
    const a = await firstTicks(77);
    const b = await firstTicks(77);
    const d = await firstTicks(78);
    expect(b).toEqual(a);
    expect(d).not.toEqual(a);
  });

  it('simulator - blast mode saturates a client with full frames without unbounded buffering', async () => {
    const sim = await startSim({ blast: { packetsPerFrame: 50 }, universeSize: 1000 });
    const c = await connect(sim);
    const tokens = sim
      .instruments()
      .map((i) => i.instrument_token)
      .slice(0, 200);
    let packets = 0;
    let bytes = 0;
    c.ws.on('message', (d: Buffer) => {
      bytes += d.byteLength;
      if (d.byteLength > 1) packets += d.readUInt16BE(0);
    });
    c.send({ a: 'subscribe', v: tokens });
    await sleep(600);
    const info = sim.connections()[0]!;
    expect(packets).toBeGreaterThan(20_000);
    expect(info.ticksSent).toBeGreaterThanOrEqual(packets);
    const sample = decodeFrame(c.binary[c.binary.length - 1]!);
    expect(sample).toHaveLength(50);
    expect(sample.every((t) => t.mode === 'full')).toBe(true);
    expect(bytes).toBeGreaterThan(1_000_000);
  });

  it('simulator - chaos injects logged faults and never leaves the server refusing', async () => {
    const faults: FaultRecord[] = [];
    const sim = await startSim({ chaos: { faultsPerSecond: 40, seed: 5 } });
    sim.on('fault', (f) => faults.push(f));
    const deadline = Date.now() + 1200;
    // Keep clients coming so connection faults have targets.
    while (Date.now() < deadline) {
      for (const key of ['sim_key_1', 'sim_key_2']) {
        const c = new Client(urlFor(sim, key, `sim_token_${key.slice(-1)}`));
        clients.push(c);
        c.opened.then(() => c.send({ a: 'subscribe', v: [INFY, NIFTY] })).catch(() => {});
      }
      await sleep(100);
    }
    sim.pauseChaos();
    expect(faults.length).toBeGreaterThan(15);
    // Which kinds land depends on timing (a drawn kind without a target falls back to another one).
    expect(new Set(faults.map((f) => f.kind)).size).toBeGreaterThanOrEqual(4);
    expect(faults.some((f) => f.connectionId !== undefined)).toBe(true);
    expect(faults.every((f) => f.source === 'chaos' && f.detail.length > 0)).toBe(true);
    expect(sim.faultLog()).toEqual(faults);
    // Refusal windows and revocations last at most 2 s and restarts 1 s: after that, every key works.
    await sleep(2100);
    for (const key of ['sim_key_1', 'sim_key_2', 'sim_key_3']) {
      expect(await upgradeStatus(urlFor(sim, key, `sim_token_${key.slice(-1)}`)), key).toBe(101);
    }
    expect(sim.faultLog()).toHaveLength(faults.length);
  });
});
