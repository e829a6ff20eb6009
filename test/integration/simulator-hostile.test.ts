/**
 * The simulator as the target of a hostile client (issue 13, item 3): nothing a client sends may end
 * the server, hold a connection slot it did not get, or grow its memory without bound. Real sockets on
 * a loopback port; raw `net` sockets where a WebSocket client would refuse to send the request.
 */
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeFrame } from '../../src/protocol/decode.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import type { SimulatorOptions } from '../../src/simulator/types.js';

const INFY = 408065;

class Client {
  readonly ws: WebSocket;
  readonly texts: string[] = [];
  readonly tokens = new Set<number>();
  closeCode: number | undefined;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (!isBinary) this.texts.push(data.toString());
      else for (const t of decodeFrame(data as Buffer)) this.tokens.add(t.instrument_token);
    });
    this.ws.on('close', (code) => {
      this.closeCode = code;
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }
}

let sims: KiteSimulator[] = [];
let clients: Client[] = [];

async function startSim(options: SimulatorOptions = {}): Promise<KiteSimulator> {
  const sim = new KiteSimulator({ universeSize: 200, batchIntervalMs: 20, ticksPerSecond: 20, ...options });
  sims.push(sim);
  await sim.start({ port: 0 });
  return sim;
}

async function connect(sim: KiteSimulator): Promise<Client> {
  const c = new Client(`${sim.url}/?api_key=sim_key_1&access_token=sim_token_1`);
  clients.push(c);
  await c.opened;
  return c;
}

async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Sends `request` on a raw TCP socket; resolves with the HTTP status line once the server closes it. */
function rawRequest(port: number, request: string, endAfterWrite = false): Promise<string> {
  return new Promise((resolve) => {
    const socket = netConnect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('connect', () => {
      if (endAfterWrite) socket.end(request);
      else socket.write(request);
    });
  });
}

function upgradeRequest(headers: string[]): string {
  return [
    'GET /?api_key=sim_key_1&access_token=sim_token_1 HTTP/1.1',
    'Host: 127.0.0.1',
    ...headers,
    '',
    '',
  ].join('\r\n');
}

afterEach(async () => {
  for (const c of clients) c.ws.terminate();
  clients = [];
  await Promise.all(sims.map((s) => s.stop()));
  sims = [];
});

describe('simulator hostile clients', () => {
  it('simulator hostile - a 20,000-deep nested command gets an error text frame; every client goes on being served', async () => {
    const sim = await startSim();
    const bystander = await connect(sim);
    const hostile = await connect(sim);
    bystander.ws.send(JSON.stringify({ a: 'subscribe', v: [INFY] }));
    const depth = 20_000;
    hostile.ws.send(`{"a":"subscribe","v":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    hostile.ws.send(`{"a":"mode","v":["full",[${'{"x":'.repeat(depth)}1${'}'.repeat(depth)}]]}`);
    await until(() => hostile.texts.length === 2, 5000, 'two error replies');
    for (const t of hostile.texts) {
      const msg = JSON.parse(t) as { type: string; data: string };
      expect(msg.type).toBe('error');
      expect(msg.data.length).toBeLessThan(200);
    }
    expect(hostile.texts[0]).toMatch(/element 0 is an array/);
    expect(hostile.texts[1]).toMatch(/element 0 is an object/);
    expect(sim.keyInfo('sim_key_1').invalidCommands).toBe(2);
    // The hostile socket itself stays usable, the bystander keeps ticking, a newcomer connects.
    hostile.ws.send(JSON.stringify({ a: 'subscribe', v: [INFY] }));
    await until(() => hostile.tokens.has(INFY) && bystander.tokens.has(INFY), 5000, 'ticks');
    const newcomer = await connect(sim);
    expect(newcomer.ws.readyState).toBe(WebSocket.OPEN);
    expect(sim.connections()).toHaveLength(3);
  });

  it('simulator hostile - upgrade requests without Sec-WebSocket-Key, with a bad version or cut short hold no connection slot', async () => {
    const sim = await startSim();
    const noKey = upgradeRequest(['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']);
    const badVersion = upgradeRequest([
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 7',
    ]);
    const badKey = upgradeRequest([
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: not-base64-16-bytes',
      'Sec-WebSocket-Version: 13',
    ]);
    const statuses = await Promise.all([
      rawRequest(sim.port, noKey),
      rawRequest(sim.port, noKey),
      rawRequest(sim.port, noKey),
      rawRequest(sim.port, badVersion),
      rawRequest(sim.port, badKey),
    ]);
    for (const s of statuses) expect(s).toMatch(/^HTTP\/1\.1 400/);
    // A complete request whose sender half-closes at once: upgraded or not, it must not keep a slot.
    const valid = upgradeRequest([
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version: 13',
    ]);
    await Promise.all([rawRequest(sim.port, valid, true), rawRequest(sim.port, valid, true)]);
    await until(() => sim.keyInfo('sim_key_1').openConnections === 0, 3000, 'slots released');
    expect(sim.keyInfo('sim_key_1').rejectedUpgrades[400]).toBeGreaterThanOrEqual(5);
    // Every slot is still there for real clients: three connect, a fourth is refused with 429.
    for (let i = 0; i < 3; i++) await connect(sim);
    expect(sim.keyInfo('sim_key_1').openConnections).toBe(3);
    await expect(connect(sim)).rejects.toThrow('HTTP 429');
  });

  it('simulator hostile - the command log is bounded in bytes: long commands keep a 64 KiB prefix, the total stays under commandLogBytes', async () => {
    const sim = await startSim({ commandLogBytes: 1024 * 1024 });
    const c = await connect(sim);
    const big = `{"a":"subscribe","v":["${'z'.repeat(200_000)}"]}`;
    const n = 40; // 8 MB sent; 40 x 200 KB would be kept by a log bounded by count only
    for (let i = 0; i < n; i++) c.ws.send(big);
    c.ws.send(JSON.stringify({ a: 'subscribe', v: [INFY] }));
    await until(() => c.texts.length === n, 10_000, 'every command answered');
    await until(() => c.tokens.has(INFY), 5000, 'the good command applied');
    const log = sim.keyInfo('sim_key_1').commands;
    const stored = log.reduce((sum, e) => sum + Buffer.byteLength(e.text), 0);
    expect(stored).toBeLessThanOrEqual(1024 * 1024);
    expect(log.length).toBeGreaterThan(10); // still useful: the recent history is there
    expect(log.length).toBeLessThan(n);
    const last = log.at(-1)!;
    expect(last).toMatchObject({ text: '{"a":"subscribe","v":[408065]}', truncated: false, bytes: 30 });
    expect(sim.keyInfo('sim_key_1').invalidCommands).toBe(n);
    const long = log.at(-2)!;
    expect(long.truncated).toBe(true);
    expect(long.bytes).toBe(Buffer.byteLength(big));
    expect(long.text).toBe(big.slice(0, 64 * 1024));
  });

  it('simulator hostile - oversized frames, invalid UTF-8 and binary frames are refused and counted; the server goes on', async () => {
    const sim = await startSim();
    const bystander = await connect(sim);
    bystander.ws.send(JSON.stringify({ a: 'subscribe', v: [INFY] }));

    const binary = await connect(sim);
    binary.ws.send(Buffer.from([0, 1, 2, 3]));
    await until(() => binary.texts.length === 1, 3000, 'binary refused');
    expect(binary.texts[0]).toMatch(/binary messages are not accepted/);

    const oversized = await connect(sim);
    oversized.ws.send(`{"a":"subscribe","v":[${'1,'.repeat(200_000)}1]}`); // 400 KB > 256 KiB
    await until(() => oversized.closeCode !== undefined, 3000, 'oversized closed');
    expect(oversized.closeCode).toBe(1009);

    const badUtf8 = await connect(sim);
    badUtf8.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
    await until(() => badUtf8.closeCode !== undefined, 3000, 'invalid UTF-8 closed');
    expect(badUtf8.closeCode).toBe(1007);

    const info = sim.keyInfo('sim_key_1');
    expect(info.invalidCommands).toBe(1);
    expect(info.badFrames).toBe(2);
    expect(info.commands.map((e) => e.text)).toContain('<binary 4 bytes>');
    await until(() => bystander.tokens.has(INFY), 5000, 'bystander ticks');
    expect(bystander.ws.readyState).toBe(WebSocket.OPEN);
    await until(() => sim.keyInfo('sim_key_1').openConnections === 2, 3000, 'slots freed');
  });

  it('simulator hostile - a client flooding bad commands without reading gets no more error frames queued past 1 MiB', async () => {
    const sim = await startSim();
    const c = await connect(sim);
    const socket = (c.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause(); // stop reading: every reply stays queued (kernel buffers, then the server's)
    const bad = JSON.stringify({ a: 'z'.repeat(60) });
    const reply = `{"type":"error","data":"invalid message: unknown action \\"${'z'.repeat(39)}...: expected \\"subscribe\\", \\"unsubscribe\\" or \\"mode\\""}`;
    const n = 60_000; // 60,000 replies of ~150 bytes: 9 MB if all were queued
    for (let i = 0; i < n; i++) c.ws.send(bad);
    await until(() => sim.keyInfo('sim_key_1').invalidCommands === n, 20_000, 'every command read');
    socket.resume();
    await until(() => c.texts.length > 0, 5000, 'replies');
    // Everything queued arrives; then quiet: the replies past the bound were never queued.
    let seen = -1;
    while (seen !== c.texts.length) {
      seen = c.texts.length;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(c.texts[0]).toBe(reply);
    expect(c.texts.length).toBeLessThan(n);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('simulator hostile - upgrades naming ever new unknown api_keys are refused without growing the key table', async () => {
    const sim = await startSim();
    const refused: number[] = [];
    sim.on('refused', (r) => refused.push(r.status));
    const total = 1100;
    for (let i = 0; i < total; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, j) =>
          rawRequest(
            sim.port,
            `GET /?api_key=junk_${i + j}&access_token=x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n`,
          ),
        ),
      );
    }
    expect(refused).toHaveLength(total);
    expect(refused.every((s) => s === 403)).toBe(true);
    expect(sim.keyInfo('junk_0').rejectedUpgrades).toEqual({ 403: 1 });
    // Past the table's bound a new unknown key is reported (the event above) but not remembered.
    expect(sim.keyInfo(`junk_${total - 1}`).rejectedUpgrades).toEqual({});
    // Known keys are always counted, and still connect.
    await rawRequest(
      sim.port,
      'GET /?api_key=sim_key_1&access_token=wrong HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
    );
    expect(sim.keyInfo('sim_key_1').rejectedUpgrades).toEqual({ 403: 1 });
    await connect(sim);
  });
});
