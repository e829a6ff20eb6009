import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/ticker.js';
import type { KiteTickerOptions, StatusEvent } from '../../src/connection/types.js';
import { USER_AGENT } from '../../src/connection/version.js';
import type { KiteTickerError } from '../../src/errors.js';
import type { FrameView } from '../../src/protocol/index.js';
import { encodeFrame, encodeTicks } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo, Tick } from '../../src/protocol/types.js';
import { MockKiteServer, sleep, waitFor } from './connection-mock-server.js';

const QUOTE: Tick = {
  instrument_token: 408065,
  tradable: true,
  exchange: 'NSE',
  mode: 'quote',
  last_price: 1500.5,
  last_traded_quantity: 10,
  average_traded_price: 1499.25,
  volume_traded: 100000,
  total_buy_quantity: 500,
  total_sell_quantity: 600,
  ohlc: { open: 1490, high: 1510, low: 1480, close: 1495 },
  change: ((1500.5 - 1495) * 100) / 1495,
  net_change: 5.5,
};
const LTP: Tick = {
  instrument_token: 256265,
  tradable: false,
  exchange: 'INDICES',
  mode: 'ltp',
  last_price: 23000.5,
};

let server: MockKiteServer;
const tickers: KiteTicker[] = [];

function ticker(overrides: Partial<KiteTickerOptions> = {}): KiteTicker {
  const t = new KiteTicker({
    apiKey: 'key1',
    accessToken: 'tok1',
    url: server.url,
    livenessTimeoutMs: 2000,
    connectTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 50, jitter: 'none' },
    ...overrides,
  });
  tickers.push(t);
  return t;
}

function recordStatuses(t: KiteTicker): StatusEvent[] {
  const out: StatusEvent[] = [];
  t.on('status', (e) => out.push(e));
  return out;
}

beforeEach(async () => {
  server = new MockKiteServer();
  await server.start();
});

afterEach(async () => {
  await Promise.all(tickers.splice(0).map((t) => t.close()));
  await server.stop();
});

describe('connection', () => {
  it('connection - sends credentials, X-Kite-Version and User-Agent on the upgrade', async () => {
    const t = ticker();
    await t.connect();
    expect(t.status).toBe('connected');
    const up = server.upgrades[0]!;
    expect(up.url.searchParams.get('api_key')).toBe('key1');
    expect(up.url.searchParams.get('access_token')).toBe('tok1');
    expect(up.headers['x-kite-version']).toBe('3');
    expect(up.headers['user-agent']).toBe(USER_AGENT);
    expect(up.headers['sec-websocket-extensions']).toBeUndefined(); // perMessageDeflate off
  });

  it('connection - subscriptions made before connect are replayed once open, then deltas are sent', async () => {
    const t = ticker({ maxTokensPerMessage: 2 });
    t.subscribe([1, 2, 3], 'full');
    t.subscribe([4]);
    await t.connect();
    await waitFor(() => server.last().commands.length >= 4, 2000, 'replay');
    expect(server.last().commands).toEqual([
      '{"a":"subscribe","v":[1,2]}',
      '{"a":"subscribe","v":[3,4]}',
      '{"a":"mode","v":["quote",[4]]}',
      '{"a":"mode","v":["full",[1,2]]}',
      '{"a":"mode","v":["full",[3]]}',
    ]);
    t.subscribe([3, 4]); // 3 changes to quote, 4 already quote
    t.unsubscribe([1]);
    t.setMode('ltp', [2, 99]);
    await waitFor(() => server.last().commands.length >= 8, 2000, 'deltas');
    expect(server.last().commands.slice(5)).toEqual([
      '{"a":"mode","v":["quote",[3]]}',
      '{"a":"unsubscribe","v":[1]}',
      '{"a":"mode","v":["ltp",[2]]}',
    ]);
    expect([...t.subscriptions()]).toEqual([
      [2, 'ltp'],
      [3, 'quote'],
      [4, 'quote'],
    ]);
  });

  it('connection - decodes ticks per frame, exposes the frame view, counts frames, heartbeats and bytes', async () => {
    const t = ticker();
    const batches: Tick[][] = [];
    const tokensSeen: number[] = [];
    const raw: number[] = [];
    t.on('ticks', (ticks) => batches.push(ticks));
    t.on('frame', (view: FrameView) => {
      for (let i = 0; i < view.count; i++) tokensSeen.push(view.token(i));
    });
    t.on('rawFrame', (data) => raw.push(data.length));
    const startedAt = Date.now();
    await t.connect();
    const frame = encodeTicks([QUOTE, LTP]);
    server.broadcast(frame);
    server.broadcast(Uint8Array.of(0));
    server.broadcast(encodeTicks([LTP]));
    await waitFor(() => batches.length === 2 && t.stats().heartbeats === 1, 2000, 'frames');
    expect(batches[0]).toHaveLength(2);
    expect(batches[0]![0]).toMatchObject({ instrument_token: 408065, mode: 'quote', last_price: 1500.5 });
    expect(batches[0]![1]).toMatchObject({ instrument_token: 256265, mode: 'ltp', last_price: 23000.5 });
    expect(tokensSeen).toEqual([408065, 256265, 256265]);
    expect(raw).toEqual([frame.length, 1, encodeTicks([LTP]).length]);
    const s = t.stats();
    expect(s).toMatchObject({ frames: 2, ticks: 3, heartbeats: 1, connected: true, status: 'connected' });
    expect(s.bytes).toBe(frame.length + 1 + encodeTicks([LTP]).length);
    expect(s.lastFrameAgeMs).not.toBeNull();
    expect(s.lastFrameAgeMs!).toBeLessThan(1000);
    // Uptime is the open socket's age: bounded by the test's own clock, and growing while open.
    expect(s.uptimeMs).toBeLessThanOrEqual(Date.now() - startedAt);
    await sleep(60);
    expect(t.stats().uptimeMs).toBeGreaterThanOrEqual(s.uptimeMs + 50);
  });

  it('connection - text frames become order, serverError and serverMessage events; bad text is a protocol error', async () => {
    const t = ticker();
    const orders: unknown[] = [];
    const errors: string[] = [];
    const messages: unknown[] = [];
    const protocol: ProtocolErrorInfo[] = [];
    t.on('order', (o) => orders.push(o));
    t.on('serverError', (m) => errors.push(m));
    t.on('serverMessage', (m) => messages.push(m));
    t.on('protocolError', (p) => protocol.push(p));
    await t.connect();
    server.broadcast(JSON.stringify({ type: 'order', data: { order_id: '1', status: 'COMPLETE' } }));
    server.broadcast(JSON.stringify({ type: 'error', data: 'max tokens exceeded' }));
    server.broadcast(JSON.stringify({ type: 'message', data: 'hello' }));
    server.broadcast('not json');
    await waitFor(() => t.stats().textMessages === 4, 2000, 'text');
    expect(orders).toEqual([expect.objectContaining({ order_id: '1' })]);
    expect(errors).toEqual(['max tokens exceeded']);
    expect(messages).toEqual(['hello']);
    expect(protocol.map((p) => p.kind)).toEqual(['invalid_json']);
    expect(t.stats().protocolErrors).toBe(1);
  });

  it('connection - a corrupt frame is counted and skipped; the connection lives on', async () => {
    const t = ticker();
    const kinds: string[] = [];
    const batches: Tick[][] = [];
    t.on('protocolError', (p) => kinds.push(p.kind));
    t.on('ticks', (ticks) => batches.push(ticks));
    await t.connect();
    // Frame claims 2 packets but holds 1, then a packet of an unknown length.
    const lying = encodeFrame([encodeTicks([LTP]).subarray(4)]);
    new DataView(lying.buffer, lying.byteOffset).setUint16(0, 2);
    server.broadcast(lying);
    server.broadcast(encodeFrame([new Uint8Array(13)]));
    server.broadcast(encodeTicks([QUOTE]));
    await waitFor(() => batches.some((b) => b[0]?.instrument_token === 408065), 2000, 'good frame');
    expect(kinds.length).toBeGreaterThanOrEqual(2);
    expect(t.stats().protocolErrors).toBe(kinds.length);
    expect(t.status).toBe('connected');
    expect(server.open()).toHaveLength(1);
  });

  it('connection - a drop reconnects with backoff and replays the exact subscriptions', async () => {
    const t = ticker();
    const statuses = recordStatuses(t);
    t.subscribe([11, 12], 'full');
    t.subscribe([13], 'ltp');
    await t.connect();
    await waitFor(() => server.last().commands.length === 3, 2000, 'first replay');
    const first = [...server.last().commands];
    server.dropAll();
    await waitFor(() => server.connections.length === 2 && t.status === 'connected', 3000, 'reconnect');
    await waitFor(() => server.last().commands.length === 3, 2000, 'second replay');
    expect(server.last().commands).toEqual(first);
    expect(first).toEqual([
      '{"a":"subscribe","v":[11,12,13]}',
      '{"a":"mode","v":["ltp",[13]]}',
      '{"a":"mode","v":["full",[11,12]]}',
    ]);
    expect(statuses.map((s) => s.status)).toEqual([
      'connecting',
      'connected',
      'reconnecting',
      'connecting',
      'connected',
    ]);
    const rec = statuses.find((s) => s.status === 'reconnecting');
    expect(rec).toMatchObject({ attempt: 1, delayMs: 20 });
    expect((rec as { reason: string }).reason).toMatch(/^closed_/);
    expect(t.stats().reconnects).toBe(1);
  });

  it('connection - 429/5xx upgrades are retried with growing delays', async () => {
    server.refuseWith = 503;
    const t = ticker({ reconnect: { initialDelayMs: 10, multiplier: 2, maxDelayMs: 40, jitter: 'none' } });
    const statuses = recordStatuses(t);
    const pending = t.connect();
    await waitFor(() => server.upgrades.length >= 3, 3000, 'three refused upgrades');
    server.refuseWith = undefined;
    await pending;
    const delays = statuses.filter((s) => s.status === 'reconnecting');
    expect(delays.slice(0, 3)).toEqual([
      { status: 'reconnecting', attempt: 1, delayMs: 10, reason: 'http_503' },
      { status: 'reconnecting', attempt: 2, delayMs: 20, reason: 'http_503' },
      { status: 'reconnecting', attempt: 3, delayMs: 40, reason: 'http_503' },
    ]);
    expect(t.status).toBe('connected');
  });

  it('connection - 403 means auth_failed: connect rejects, no retry with the same token, a new token resumes', async () => {
    server.validToken = 'good';
    const t = ticker({ accessToken: 'expired' });
    const statuses = recordStatuses(t);
    const errors: KiteTickerError[] = [];
    t.on('error', (e) => errors.push(e));
    t.subscribe([7, 8], 'full');
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_AUTH_FAILED', status: 403 });
    expect(t.status).toBe('auth_failed');
    expect(statuses.at(-1)).toEqual({
      status: 'auth_failed',
      httpStatus: 403,
      reason: 'access token refused; waiting for updateAccessToken()',
    });
    expect(errors.map((e) => e.code)).toEqual(['ERR_AUTH_FAILED']);
    await sleep(150); // several backoff periods
    expect(server.upgrades).toHaveLength(1);
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_AUTH_FAILED' });
    expect(server.upgrades).toHaveLength(1);

    t.updateAccessToken('good');
    await waitFor(() => t.status === 'connected', 2000, 'connected with the new token');
    expect(server.upgrades).toHaveLength(2);
    expect(server.upgrades[1]!.url.searchParams.get('access_token')).toBe('good');
    await waitFor(() => server.last().commands.length === 2, 2000, 'replay');
    expect(server.last().commands).toEqual([
      '{"a":"subscribe","v":[7,8]}',
      '{"a":"mode","v":["full",[7,8]]}',
    ]);
  });

  it('connection - 401 is refused like 403: auth_failed, no retry with the same token, a new token resumes', async () => {
    server.refuseWith = 401;
    const t = ticker({ accessToken: 'unauthorised' });
    const statuses = recordStatuses(t);
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_AUTH_FAILED', status: 401 });
    expect(t.status).toBe('auth_failed');
    expect(statuses.at(-1)).toEqual({
      status: 'auth_failed',
      httpStatus: 401,
      reason: 'access token refused; waiting for updateAccessToken()',
    });
    expect(statuses.some((s) => s.status === 'reconnecting')).toBe(false);
    await sleep(150); // several backoff periods
    expect(server.upgrades).toHaveLength(1);
    expect(server.upgrades[0]!.status).toBe(401);

    server.refuseWith = undefined;
    t.updateAccessToken('renewed');
    await waitFor(() => t.status === 'connected', 2000, 'connected with the new token');
    expect(server.upgrades).toHaveLength(2);
  });

  it('connection - a token revoked mid-session turns a reconnect into auth_failed', async () => {
    server.validToken = 'tok1';
    const t = ticker();
    await t.connect();
    server.validToken = 'other';
    server.dropAll();
    await waitFor(() => t.status === 'auth_failed', 2000, 'auth_failed');
    await sleep(100);
    expect(server.upgrades.filter((u) => !u.accepted)).toHaveLength(1);
  });

  it('connection - a silent socket goes stale within the liveness timeout and is replaced', async () => {
    const t = ticker({ livenessTimeoutMs: 300 });
    const statuses = recordStatuses(t);
    server.heartbeats(50);
    await t.connect();
    await sleep(500);
    expect(t.status).toBe('connected'); // heartbeats keep it alive
    expect(t.stats().heartbeats).toBeGreaterThan(3);
    const silentFrom = Date.now();
    server.stopHeartbeats();
    await waitFor(() => statuses.some((s) => s.status === 'stale'), 1000, 'stale');
    const detectedAfter = Date.now() - silentFrom;
    // Timeout + one check period, with slack for a loaded machine.
    expect(detectedAfter).toBeLessThan(300 + 75 + 300);
    const stale = statuses.find((s) => s.status === 'stale') as { silentMs: number };
    expect(stale.silentMs).toBeGreaterThanOrEqual(300);
    await waitFor(() => t.status === 'connected' && server.connections.length === 2, 2000, 'reconnected');
    expect(statuses.find((s) => s.status === 'reconnecting')).toMatchObject({ reason: 'stale' });
  });

  it('connection - a server that never answers the upgrade hits the connect timeout and is retried', async () => {
    server.hang = true;
    const t = ticker({
      connectTimeoutMs: 100,
      reconnect: { initialDelayMs: 10, jitter: 'none', maxAttempts: 1 },
    });
    const statuses = recordStatuses(t);
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_RECONNECT_EXHAUSTED' });
    expect(server.upgrades).toHaveLength(2);
    expect(statuses.find((s) => s.status === 'reconnecting')).toMatchObject({ reason: 'connect_timeout' });
  });

  it('connection - exhausted attempts close it for good (no process.exit), closed() resolves', async () => {
    server.refuseWith = 500;
    const t = ticker({ reconnect: { initialDelayMs: 5, jitter: 'none', maxAttempts: 2 } });
    const done = t.closed();
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_RECONNECT_EXHAUSTED' });
    const event = await done;
    expect(event.reason).toBe('reconnect_exhausted');
    expect(event.error?.code).toBe('ERR_RECONNECT_EXHAUSTED');
    expect(server.upgrades).toHaveLength(3); // first try + 2 retries
    expect(t.status).toBe('closed');
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => t.subscribe([1])).toThrow(expect.objectContaining({ code: 'ERR_CLOSED' }));
  });

  it('connection - reconnect disabled: a drop closes with reconnect_exhausted', async () => {
    const t = ticker({ reconnect: { enabled: false } });
    await t.connect();
    server.dropAll();
    const event = await t.closed();
    expect(event).toMatchObject({ status: 'closed', reason: 'reconnect_exhausted' });
    expect(server.connections).toHaveLength(1);
  });

  it('connection - aborting a pending connect rejects it and returns to idle; connect works again', async () => {
    server.refuseWith = 503;
    const t = ticker({ reconnect: { initialDelayMs: 30, jitter: 'none' } });
    const statuses = recordStatuses(t);
    const ac = new AbortController();
    const pending = t.connect(ac.signal);
    await waitFor(() => server.upgrades.length >= 1, 2000, 'first upgrade');
    ac.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_ABORTED' });
    expect(t.status).toBe('idle');
    expect(statuses.at(-1)).toEqual({ status: 'idle', reason: 'aborted' });
    const count = server.upgrades.length;
    await sleep(100);
    expect(server.upgrades.length).toBe(count);
    server.refuseWith = undefined;
    await t.connect();
    expect(t.status).toBe('connected');
    await expect(t.connect(AbortSignal.abort())).resolves.toBeUndefined(); // already connected
  });

  it('connection - close() is idempotent, ends statuses() and rejects a pending connect', async () => {
    server.refuseWith = 503;
    const t = ticker({ reconnect: { initialDelayMs: 1000, jitter: 'none' } });
    const seen: string[] = [];
    const iterating = (async () => {
      for await (const s of t.statuses()) seen.push(s.status);
    })();
    const pending = t.connect();
    await waitFor(() => t.status === 'reconnecting', 2000, 'reconnecting');
    const a = t.close();
    const b = t.close();
    expect(a).toBe(b);
    await a;
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await iterating;
    expect(seen).toEqual(['connecting', 'reconnecting', 'closed']);
    expect((await t.closed()).reason).toBe('user');
  });

  it('connection - close() of an open socket sends a close frame and resolves once it is gone', async () => {
    const t = ticker();
    await t.connect();
    const conn = server.last();
    const closedCode = new Promise<number>((resolve) => conn.socket.on('close', (code) => resolve(code)));
    await t.close();
    expect(await closedCode).toBe(1000);
    expect(t.stats()).toMatchObject({ status: 'closed', connected: false, uptimeMs: 0 });
  });

  it('connection - with no error listener, failures never throw an unhandled error', async () => {
    server.refuseWith = 502;
    const t = ticker({ reconnect: { initialDelayMs: 5, maxAttempts: 1, jitter: 'none' } });
    expect(t.listenerCount('error')).toBe(0);
    await expect(t.connect()).rejects.toMatchObject({ code: 'ERR_RECONNECT_EXHAUSTED' });
  });

  it('connection - two tickers in one process are independent', async () => {
    const a = ticker({ apiKey: 'A' });
    const b = ticker({ apiKey: 'B' });
    const ticksA: number[] = [];
    const ticksB: number[] = [];
    a.on('ticks', (t) => ticksA.push(t.length));
    b.on('ticks', (t) => ticksB.push(t.length));
    a.subscribe([1]);
    b.subscribe([2], 'ltp');
    await Promise.all([a.connect(), b.connect()]);
    const connA = server.connections.find((c) => c.url.searchParams.get('api_key') === 'A')!;
    const connB = server.connections.find((c) => c.url.searchParams.get('api_key') === 'B')!;
    await waitFor(() => connA.commands.length === 2 && connB.commands.length === 2, 2000, 'replays');
    expect(connA.commands[0]).toBe('{"a":"subscribe","v":[1]}');
    expect(connB.commands[0]).toBe('{"a":"subscribe","v":[2]}');
    connA.socket.send(encodeTicks([QUOTE, LTP]));
    await waitFor(() => ticksA.length === 1, 2000, 'ticks on A');
    connA.socket.terminate();
    await waitFor(() => a.stats().reconnects === 1 && a.status === 'connected', 3000, 'A reconnected');
    expect(ticksB).toEqual([]);
    expect(b.stats().reconnects).toBe(0);
    expect(b.status).toBe('connected');
    await a.close();
    expect(b.status).toBe('connected');
  });
});
