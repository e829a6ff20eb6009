/**
 * A hostile server's text frames, end to end, against every public client: the bare KiteTicker, the
 * single-key and multi-key managers, and the compat ticker. Each frame used to end the process with an
 * uncaught exception from inside the ws message callback. Now: the process survives, what is refused is
 * reported as a protocol error, and ticks keep flowing afterwards. Also: ticks for instruments nobody
 * subscribed reach the raw connection (it is the raw layer) but not the managers' consumers.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { KiteTicker as CompatTicker } from '../../src/compat/index.js';
import { KiteTicker } from '../../src/connection/index.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { encodeTicks } from '../../src/protocol/index.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../../src/protocol/types.js';
import { MockKiteServer, waitFor } from './connection-mock-server.js';

const WANTED = 408065;
const UNKNOWN = (390_624 << 8) | 1; // an NSE token (segment 1) nobody subscribes

const ltp = (token: number, price: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: price,
});

const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;

/** The frames that killed the process before, and how many protocol errors each must give. */
const KILLER_ORDER = '{"type":"order","data":{"order_id":"1","status":{"toString":1}}}';
const REFUSED = [
  `{"type":${deepArray(20_000)}}`, // 40 KB
  `{"type":${deepObject(20_000)}}`,
  `{"type":"order","data":{"order_id":"2","status":${deepArray(5_000)}}}`, // 10 KB nested order
  `{"type":"error","data":${deepArray(20_000)}}`,
  `{"type":"message","data":${deepObject(20_000)}}`,
];
const HUGE_ERROR = JSON.stringify({ type: 'error', data: 'E'.repeat(2_000_000) });

let server: MockKiteServer;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown): void => {
  uncaught.push(error);
};

beforeAll(() => {
  process.on('uncaughtException', onUncaught);
});
afterAll(() => {
  process.off('uncaughtException', onUncaught);
});
beforeEach(async () => {
  uncaught.length = 0;
  server = new MockKiteServer();
  await server.start();
  server.heartbeats(200);
});
afterEach(async () => {
  await server.stop();
});

/** Sends every hostile frame, then a tick of the wanted instrument and one of an unknown instrument. */
function attack(): void {
  server.broadcast(KILLER_ORDER);
  for (const text of REFUSED) server.broadcast(text);
  server.broadcast(HUGE_ERROR);
  server.broadcast(encodeTicks([ltp(WANTED, 101), ltp(UNKNOWN, 1)]));
}

interface Seen {
  protocolErrors: ProtocolErrorInfo[];
  orders: OrderUpdate[];
  serverErrors: string[];
  ticks: number[];
}

function seen(): Seen {
  return { protocolErrors: [], orders: [], serverErrors: [], ticks: [] };
}

/** What every client must have seen after attack(). */
function expectSurvived(s: Seen): void {
  expect(uncaught).toEqual([]);
  expect(s.protocolErrors.map((e) => e.kind)).toEqual(REFUSED.map(() => 'invalid_text_message'));
  for (const e of s.protocolErrors) expect(e.detail.length).toBeLessThan(200);
  expect(s.orders.map((o) => o.order_id)).toEqual(['1']);
  expect(() => JSON.stringify(s.orders[0])).not.toThrow();
  expect(s.serverErrors).toHaveLength(1);
  expect(s.serverErrors[0]!.length).toBeLessThan(5000);
}

describe('hostile server', () => {
  it('hostile server - a bare KiteTicker reports the frames, survives, and still delivers every tick', async () => {
    const ticker = new KiteTicker({ apiKey: 'k', accessToken: 't', url: server.url });
    const s = seen();
    ticker.on('protocolError', (info) => s.protocolErrors.push(info));
    ticker.on('order', (order) => s.orders.push(order));
    ticker.on('serverError', (message) => s.serverErrors.push(message));
    ticker.on('ticks', (ticks) => s.ticks.push(...ticks.map((t) => t.instrument_token)));
    await ticker.connect();
    ticker.subscribe([WANTED], 'ltp');
    attack();
    // The raw layer delivers what the server sends, the unknown instrument included.
    await waitFor(() => s.ticks.length === 2, 5000, 'ticks after the attack');
    expect(s.ticks).toEqual([WANTED, UNKNOWN]);
    expectSurvived(s);
    expect(ticker.stats()).toMatchObject({ connected: true, protocolErrors: REFUSED.length });
    await ticker.close();
  });

  it('hostile server - a throwing listener is reported as handler_error; the socket and later frames live on', async () => {
    const ticker = new KiteTicker({ apiKey: 'k', accessToken: 'secret-tok', url: server.url });
    const errors: ProtocolErrorInfo[] = [];
    const prices: number[] = [];
    ticker.on('protocolError', (info) => errors.push(info));
    ticker.on('ticks', (ticks) => {
      prices.push(ticks[0]!.last_price);
      if (prices.length === 1) throw new Error('listener bug near secret-tok');
    });
    await ticker.connect();
    server.broadcast(encodeTicks([ltp(WANTED, 1)]));
    await waitFor(() => errors.length === 1, 5000, 'the handler error');
    server.broadcast(encodeTicks([ltp(WANTED, 2)]));
    await waitFor(() => prices.length === 2, 5000, 'the next tick');
    expect(uncaught).toEqual([]);
    expect(errors[0]!.kind).toBe('handler_error');
    expect(errors[0]!.detail).toContain('listener bug');
    expect(errors[0]!.detail).not.toContain('secret-tok');
    expect(ticker.connected).toBe(true);
    await ticker.close();
  });

  it('hostile server - KiteTickerManager survives, reports, and drops (and counts) the unknown instrument', async () => {
    const manager = new KiteTickerManager('k', 't', { url: server.url, livenessTimeoutMs: 2000 });
    const s = seen();
    manager.on('protocolError', (info) => s.protocolErrors.push(info));
    manager.on('order', (order) => s.orders.push(order));
    manager.on('serverError', (message) => s.serverErrors.push(message));
    manager.on('ticks', (ticks) => s.ticks.push(...ticks.map((t) => t.instrument_token)));
    try {
      await manager.start();
      await manager.subscribeSymbols([WANTED], 'ltp');
      attack();
      await waitFor(() => s.ticks.length > 0, 5000, 'ticks after the attack');
      attack(); // the same again: the order is a copy now, the rest repeats
      await waitFor(() => s.ticks.length > 1, 5000, 'ticks after the second attack');
      expect(s.ticks).toEqual([WANTED, WANTED]);
      const stats = manager.getStats();
      expect(stats.unknownTokenDrops).toBe(2);
      expect(stats.duplicateOrders).toBe(1);
      expect(stats.totalProtocolErrors).toBe(2 * REFUSED.length);
      expect(manager.latestQuotes.has(UNKNOWN)).toBe(false);
      s.protocolErrors.splice(REFUSED.length);
      s.serverErrors.splice(1);
      expectSurvived(s);
    } finally {
      await manager.stop();
    }
  });

  it('hostile server - MultiApiKiteTickerManager survives, reports, and drops (and counts) the unknown instrument', async () => {
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k', 't')
      .url(server.url)
      .baseConfig({ livenessTimeoutMs: 2000 })
      .build();
    const s = seen();
    manager.on('protocolError', (info) => s.protocolErrors.push(info));
    manager.on('order', (order) => s.orders.push(order));
    manager.on('serverError', (message) => s.serverErrors.push(message));
    manager.on('ticks', (ticks) => s.ticks.push(...ticks.map((t) => t.instrument_token)));
    try {
      await manager.start();
      await manager.subscribeSymbols([WANTED], 'ltp');
      attack();
      await waitFor(() => s.ticks.length > 0, 5000, 'ticks after the attack');
      expect(s.ticks).toEqual([WANTED]);
      expect(manager.getStats().unknownTokenDrops).toBe(1);
      expectSurvived(s);
    } finally {
      await manager.stop();
    }
  });

  it('hostile server - the compat ticker survives, reports, and still delivers ticks', async () => {
    const ticker = new CompatTicker({ api_key: 'k', access_token: 't', root: server.url });
    const s = seen();
    ticker.ticker.on('protocolError', (info) => s.protocolErrors.push(info));
    ticker.ticker.on('serverError', (message) => s.serverErrors.push(message));
    ticker.on('order_update', (order) => s.orders.push(order));
    ticker.on('ticks', (ticks: Tick[]) => s.ticks.push(...ticks.map((t) => t.instrument_token)));
    let connected = false;
    ticker.on('connect', () => {
      connected = true;
    });
    ticker.connect();
    await waitFor(() => connected, 5000, 'connect');
    ticker.subscribe([WANTED]);
    attack();
    await waitFor(() => s.ticks.length === 2, 5000, 'ticks after the attack');
    expectSurvived(s);
    expect(ticker.stats().protocolErrors).toBe(REFUSED.length);
    expect(ticker.connected()).toBe(true);
    ticker.disconnect();
    await ticker.ticker.closed();
  });
});
