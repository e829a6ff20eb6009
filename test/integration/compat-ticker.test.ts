import { KiteTicker as OfficialKiteTicker, type Ticker } from 'kiteconnect';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CompatOptions, KiteTicker, type KiteTickerParams } from '../../src/compat/index.js';
import { encodeTicks } from '../../src/protocol/index.js';
import type { Tick } from '../../src/protocol/types.js';
import { MockKiteServer, sleep, waitFor } from './connection-mock-server.js';

const FULL: Tick = {
  instrument_token: 738561,
  tradable: true,
  exchange: 'NSE',
  mode: 'full',
  last_price: 2940.7,
  last_traded_quantity: 1,
  average_traded_price: 2933.55,
  volume_traded: 2827705,
  total_buy_quantity: 213779,
  total_sell_quantity: 425119,
  ohlc: { open: 2915, high: 2949, low: 2910.35, close: 2913.35 },
  change: ((2940.7 - 2913.35) * 100) / 2913.35,
  net_change: 27.35,
  last_trade_time: new Date(1718176569000),
  oi: 0,
  oi_day_high: 0,
  oi_day_low: 0,
  exchange_timestamp: new Date(1718176569000),
  depth: {
    buy: Array.from({ length: 5 }, (_, i) => ({ quantity: 10 + i, price: 2940 - i * 0.05, orders: 1 + i })),
    sell: Array.from({ length: 5 }, (_, i) => ({ quantity: 20 + i, price: 2941 + i * 0.05, orders: 2 + i })),
  },
};

let server: MockKiteServer;
const tickers: KiteTicker[] = [];
const fast: CompatOptions = { reconnect: { initialDelayMs: 20, maxDelayMs: 50 }, livenessTimeoutMs: 2000 };

function make(params: Partial<KiteTickerParams> = {}, options: CompatOptions = fast): KiteTicker {
  const t = new KiteTicker({ api_key: 'key1', access_token: 'tok1', root: server.url, ...params }, options);
  tickers.push(t);
  return t;
}

/**
 * Handler code written for the official client (its README's shape), typed with the official `Ticker`
 * type: passing our KiteTicker here also checks at compile time that it fits where theirs did.
 */
function officialStyleApp(ticker: Ticker) {
  const received: Tick[][] = [];
  let connects = 0;
  ticker.on('ticks', (ticks: Tick[]) => {
    received.push(ticks);
  });
  ticker.on('connect', () => {
    connects++;
    const items = [738561];
    ticker.subscribe(items);
    ticker.setMode(ticker.modeFull, items);
  });
  ticker.connect();
  return { received, connects: () => connects };
}

beforeEach(async () => {
  server = new MockKiteServer();
  await server.start();
});

afterEach(async () => {
  for (const t of tickers.splice(0)) {
    t.disconnect();
    await t.ticker.close();
  }
  await server.stop();
});

describe('compat', () => {
  it('compat - official handler code works unchanged: connect, subscribe in connect, ticks arrive', async () => {
    const t = make();
    expect([t.modeFull, t.modeQuote, t.modeLTP]).toEqual(['full', 'quote', 'ltp']);
    const app = officialStyleApp(t);
    await waitFor(() => app.connects() === 1, 2000, 'connect event');
    expect(t.connected()).toBe(true);
    await waitFor(() => server.last().commands.length === 2, 2000, 'commands');
    expect(server.last().commands).toEqual([
      '{"a":"subscribe","v":[738561]}',
      '{"a":"mode","v":["full",[738561]]}',
    ]);
    const frame = encodeTicks([FULL]);
    server.broadcast(frame);
    await waitFor(() => app.received.length === 1, 2000, 'ticks');

    // Every field the official client produces for this frame is identical in ours.
    const official = new OfficialKiteTicker({
      api_key: 'x',
      access_token: 'y',
      reconnect: false,
    }) as unknown as {
      parseBinary(data: ArrayBuffer): unknown[];
    };
    const expected = official.parseBinary(
      frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer,
    );
    expect(app.received[0]).toHaveLength(1);
    expect(app.received[0]![0]).toMatchObject(expected[0] as object);
    expect(t.parseBinary(frame)[0]).toMatchObject(expected[0] as object);
  });

  it('compat - after a drop it reconnects, emits close/disconnect/reconnect/connect, and resubscribes once', async () => {
    const t = make();
    const events: string[] = [];
    const reconnects: [number, number][] = [];
    t.on('close', (reason) => events.push(`close:${reason.split('_')[0]}`));
    t.on('disconnect', () => events.push('disconnect'));
    t.on('reconnect', (count, interval) => {
      events.push('reconnect');
      reconnects.push([count, interval]);
    });
    const app = officialStyleApp(t);
    await waitFor(() => server.last().commands.length === 2, 2000, 'first subscription');
    server.dropAll();
    await waitFor(() => app.connects() === 2, 3000, 'second connect');
    await sleep(50);
    // Replayed by the connection; the app's own re-subscribe in 'connect' adds nothing.
    expect(server.connections).toHaveLength(2);
    expect(server.last().commands).toEqual([
      '{"a":"subscribe","v":[738561]}',
      '{"a":"mode","v":["full",[738561]]}',
    ]);
    expect(events).toEqual(['close:closed', 'disconnect', 'reconnect']);
    expect(reconnects).toEqual([[1, 0.02]]);
  });

  it('compat - a refused token emits error and noreconnect, never retries it, never exits', async () => {
    server.validToken = 'good';
    const t = make({ access_token: 'bad' });
    const errors: Error[] = [];
    let noreconnect = 0;
    t.on('error', (e) => errors.push(e));
    t.on('noreconnect', () => noreconnect++);
    t.connect();
    await waitFor(() => noreconnect === 1, 2000, 'noreconnect');
    expect(errors.map((e) => (e as Error & { code?: string }).code)).toEqual(['ERR_AUTH_FAILED']);
    await sleep(100);
    expect(server.upgrades).toHaveLength(1);
    let connected = false;
    t.on('connect', () => {
      connected = true;
    });
    t.updateAccessToken('good');
    await waitFor(() => connected, 2000, 'connect with the new token');
    expect(t.access_token).toBe('good');
  });

  it('compat - two tickers in one process have their own sockets and handlers', async () => {
    const a = make({ api_key: 'A' });
    const b = make({ api_key: 'B' });
    const ticksA: number[] = [];
    const ticksB: number[] = [];
    a.on('ticks', (ticks) => ticksA.push(ticks.length));
    b.on('ticks', (ticks) => ticksB.push(ticks.length));
    a.connect();
    b.connect();
    await waitFor(() => a.connected() && b.connected(), 2000, 'both connected');
    expect(server.open()).toHaveLength(2);
    server.connections
      .find((c) => c.url.searchParams.get('api_key') === 'A')!
      .socket.send(encodeTicks([FULL]));
    await waitFor(() => ticksA.length === 1, 2000, 'ticks on A');
    await sleep(30);
    expect(ticksB).toEqual([]);
    a.disconnect();
    await waitFor(() => !a.connected(), 2000, 'A disconnected');
    expect(b.connected()).toBe(true);
  });

  it('compat - message gets every binary frame as an ArrayBuffer; order_update gets postbacks', async () => {
    const t = make();
    const sizes: number[] = [];
    const orders: unknown[] = [];
    t.on('message', (data) => {
      expect(data).toBeInstanceOf(ArrayBuffer);
      sizes.push(data.byteLength);
    });
    t.on('order_update', (order) => orders.push(order));
    t.connect();
    await waitFor(() => t.connected(), 2000, 'connected');
    server.broadcast(Uint8Array.of(0));
    server.broadcast(encodeTicks([FULL]));
    server.broadcast(JSON.stringify({ type: 'order', data: { order_id: '42', status: 'COMPLETE' } }));
    await waitFor(() => sizes.length === 2 && orders.length === 1, 2000, 'frames');
    expect(sizes).toEqual([1, 2 + 2 + 184]);
    expect(orders[0]).toMatchObject({ order_id: '42' });
  });

  it('compat - disconnect() stops without exiting; connect() again resumes the subscriptions', async () => {
    const t = make();
    let closes = 0;
    t.on('close', () => closes++);
    t.connect();
    await waitFor(() => t.connected(), 2000, 'connected');
    t.subscribe(['408065']); // a numeric string is sent as a number
    await waitFor(() => server.last().commands.length === 1, 2000, 'subscribe');
    expect(server.last().commands[0]).toBe('{"a":"subscribe","v":[408065]}');
    t.disconnect();
    await waitFor(() => !t.connected() && closes === 1, 2000, 'disconnected');
    t.connect();
    await waitFor(() => t.connected() && server.connections.length === 2, 2000, 'connected again');
    await waitFor(() => server.last().commands.length >= 1, 2000, 'replay');
    expect(server.last().commands[0]).toBe('{"a":"subscribe","v":[408065]}');
  });

  it('compat - max_retry exhausted emits noreconnect and leaves the process running', async () => {
    server.refuseWith = 503;
    const t = make({ max_retry: 2 }, { reconnect: { initialDelayMs: 5 } });
    const counts: number[] = [];
    let noreconnect = 0;
    t.on('reconnect', (n) => counts.push(n));
    t.on('noreconnect', () => noreconnect++);
    t.connect();
    await waitFor(() => noreconnect === 1, 3000, 'noreconnect');
    expect(counts).toEqual([1, 2]);
    expect(server.upgrades).toHaveLength(3);
    expect(t.connected()).toBe(false);
  });
});
