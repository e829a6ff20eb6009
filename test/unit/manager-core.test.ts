import { afterEach, describe, expect, it } from 'vitest';
import { AuthFailedError, CapacityError, InvalidArgumentError, InvalidTokenError } from '../../src/errors.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import type { KiteTickerManagerOptions, TickerMessage } from '../../src/manager/types.js';
import type { OrderUpdate, Tick } from '../../src/protocol/types.js';
import { type FakeConnection, fakeFactory } from './manager-fake-connection.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const ltp = (token: number, price = 1): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: price,
});

const managers: KiteTickerManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

function make(options: KiteTickerManagerOptions = {}) {
  const factory = fakeFactory();
  const manager = new KiteTickerManager('key1', 'secret-token-123', {
    createConnection: factory.create,
    ...options,
  });
  managers.push(manager);
  return { manager, factory, made: factory.made };
}

function order(partial: Partial<OrderUpdate>): OrderUpdate {
  return {
    order_id: '1',
    status: 'OPEN',
    filled_quantity: 0,
    exchange_update_timestamp: '2024-01-01 09:15:00',
    ...partial,
  } as OrderUpdate;
}

describe('manager config', () => {
  it('manager - validates options and names the bad one', () => {
    const f = fakeFactory().create;
    expect(() => new KiteTickerManager('k', 't', { maxConnections: 4, createConnection: f })).toThrow(
      /maxConnections/,
    );
    expect(() => new KiteTickerManager('k', 't', { maxSymbolsPerConnection: 3001 })).toThrow(
      /maxSymbolsPerConnection/,
    );
    expect(() => new KiteTickerManager('k', 't', { defaultMode: 'deep' as never })).toThrow(/defaultMode/);
    expect(() => new KiteTickerManager('k', 't', { url: 'http://x' })).toThrow(/url/);
    expect(() => new KiteTickerManager('k', 't', { channelCapacity: 0 })).toThrow(/channelCapacity/);
    expect(() => new KiteTickerManager('k', 't', { overflow: 'x' as never })).toThrow(/overflow/);
    expect(() => new KiteTickerManager('k', 't', { healthCheckIntervalMs: -1 })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new KiteTickerManager('', 't')).toThrow(/apiKey/);
    expect(() => new KiteTickerManager('k', '')).toThrow(/accessToken/);
  });

  it('manager - defaults are 3 x 3000 in quote mode', () => {
    const { manager } = make();
    expect(manager.config.maxConnections).toBe(3);
    expect(manager.config.maxSymbolsPerConnection).toBe(3000);
    expect(manager.config.defaultMode).toBe('quote');
    expect(manager.availableCapacity()).toBe(9000);
  });
});

describe('manager', () => {
  it('manager - start opens one connection; 9000 tokens open exactly 3', async () => {
    const { manager, made } = make();
    await manager.start();
    expect(made).toHaveLength(1);
    await manager.subscribeSymbols(range(1, 9000));
    expect(made).toHaveLength(3);
    expect(made.map((c) => c.subs.size)).toEqual([3000, 3000, 3000]);
    expect(manager.availableCapacity()).toBe(0);
    const dist = manager.getSymbolDistribution();
    expect([...dist.values()].map((m) => m.size)).toEqual([3000, 3000, 3000]);
    expect(made[0]!.options.accessToken).toBe('secret-token-123');
  });

  it('manager - a call over capacity subscribes nothing, and the state is unchanged', async () => {
    const { manager, made } = make();
    await manager.start();
    await manager.subscribeSymbols([1, 2, 3], 'ltp');
    const error = await manager.subscribeSymbols(range(100, 9000), 'full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).available).toBe(8997);
    expect(made).toHaveLength(1);
    expect(made[0]!.commands).toHaveLength(1);
    expect(manager.availableCapacity()).toBe(8997);
  });

  it('manager - invalid tokens are rejected with the state unchanged', async () => {
    const { manager, made } = make();
    await manager.start();
    await expect(manager.subscribeSymbols([1, -5 as number])).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(manager.subscribeSymbols([1, '2' as never])).rejects.toBeInstanceOf(InvalidTokenError);
    expect(made[0]!.commands).toHaveLength(0);
    expect(manager.getStats().totalSymbols).toBe(0);
  });

  it('manager - duplicates are not resent; a different mode sends only a mode change', async () => {
    const { manager, made } = make();
    await manager.start();
    await manager.subscribeSymbols([1, 2, 2, 3]);
    await manager.subscribeSymbols([1, 2, 3]);
    await manager.subscribeSymbols([2, 4], 'full');
    expect(made[0]!.commands).toEqual([
      { op: 'subscribe', tokens: [1, 2, 3], mode: 'quote' },
      { op: 'subscribe', tokens: [4], mode: 'full' },
      { op: 'mode', tokens: [2], mode: 'full' },
    ]);
    expect(manager.getSymbolDistribution().get(0)).toEqual(
      new Map([
        [1, 'quote'],
        [2, 'full'],
        [3, 'quote'],
        [4, 'full'],
      ]),
    );
  });

  it('manager - unsubscribe ignores unknown tokens and changeMode never subscribes', async () => {
    const { manager, made } = make();
    await manager.start();
    await manager.subscribeSymbols([1, 2]);
    await manager.unsubscribeSymbols([2, 77]);
    await manager.changeMode([1, 88], 'ltp');
    expect(made[0]!.commands.slice(1)).toEqual([
      { op: 'unsubscribe', tokens: [2] },
      { op: 'mode', tokens: [1], mode: 'ltp' },
    ]);
    expect(manager.getSymbolDistribution().get(0)).toEqual(new Map([[1, 'ltp']]));
  });

  it('manager - a failed unsubscribe keeps the symbols in the bookkeeping', async () => {
    const { manager, made } = make();
    await manager.start();
    await manager.subscribeSymbols([1, 2]);
    made[0]!.setStatus('closed');
    await expect(manager.unsubscribeSymbols([1])).rejects.toThrow();
    expect(manager.getSymbolDistribution().get(0)?.has(1)).toBe(true);
  });

  it('manager - subscriptions before start are applied on start across the needed connections', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 10 });
    await manager.subscribeSymbols(range(1, 15), 'full');
    await manager.changeMode([1], 'ltp');
    expect(made).toHaveLength(0);
    await manager.start();
    expect(made).toHaveLength(2);
    expect(made[0]!.subs.size).toBe(10);
    expect(made[0]!.subs.get(1)).toBe('ltp');
    expect(made[1]!.subs.size).toBe(5);
    expect(made.every((c) => c.status === 'connected')).toBe(true);
  });

  it('manager - a new connection that fails to connect rolls the whole call back', async () => {
    const { manager, made, factory } = make({ maxSymbolsPerConnection: 10 });
    await manager.start();
    await manager.subscribeSymbols(range(1, 8));
    factory.prepare = (conn) => {
      conn.failWith = new AuthFailedError(403);
    };
    await expect(manager.subscribeSymbols(range(100, 5))).rejects.toBeInstanceOf(AuthFailedError);
    expect(made).toHaveLength(2);
    expect(made[1]!.closeCalls).toBe(1);
    expect(made[0]!.commands).toHaveLength(1);
    expect(manager.getStats().totalSymbols).toBe(8);
    expect(manager.getSymbolDistribution().has(1)).toBe(false);
  });

  it('manager - start failure closes what it opened and leaves the manager idle', async () => {
    const factory = fakeFactory();
    factory.prepare = (conn) => {
      conn.failWith = new AuthFailedError(403);
    };
    const manager = new KiteTickerManager('k', 'bad-token', { createConnection: factory.create });
    managers.push(manager);
    const error = await manager.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthFailedError);
    expect(String((error as Error).message)).not.toContain('bad-token');
    expect(manager.state).toBe('idle');
    expect(factory.made[0]!.closeCalls).toBe(1);
    factory.prepare = undefined;
    manager.updateAccessToken('good-token');
    await manager.start();
    expect(factory.made[1]!.options.accessToken).toBe('good-token');
  });

  it('manager - start times out after connectionTimeoutMs', async () => {
    const { manager, factory } = make({ connectionTimeoutMs: 100 });
    factory.prepare = (conn) => {
      conn.hold = true;
    };
    await expect(manager.start()).rejects.toMatchObject({ code: 'ERR_CONNECT_TIMEOUT' });
    expect(manager.state).toBe('idle');
  });

  it('manager - ticks reach the event, every channel and the quote table from one listener', async () => {
    const { manager, made } = make();
    await manager.start();
    await manager.subscribeSymbols([1, 2]);
    const seen: [number, number][] = [];
    manager.on('ticks', (ticks, _apiKeyId, index) => seen.push([ticks.length, index]));
    const ch0 = manager.getChannel(0)!;
    const ch1 = manager.getChannel(1)!;
    const merged = manager.getMergedChannel();
    expect(() => manager.getChannel(3)).toThrow(InvalidArgumentError);
    const batch = [ltp(1, 10), ltp(2, 20)];
    made[0]!.fire('ticks', batch);
    expect(made[0]!.listenerCount('ticks')).toBe(1);
    expect(seen).toEqual([[2, 0]]);
    expect(ch0.tryReceive()).toEqual({ type: 'ticks', connectionIndex: 0, ticks: batch });
    expect(ch1.size).toBe(0);
    // A batch of subscribed instruments is passed on as it came (no copy).
    expect((merged.tryReceive() as TickerMessage & { type: 'ticks' }).ticks).toBe(batch);
    expect(manager.latestQuotes.get(1)?.last_price).toBe(10);
    await manager.unsubscribeSymbols([2]);
    expect(manager.latestQuotes.has(2)).toBe(false);
  });

  it('manager - ticks of instruments not subscribed on that connection are dropped and counted', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 2 });
    await manager.start();
    await manager.subscribeSymbols([1, 2, 3]); // 1, 2 on connection 0; 3 on connection 1
    const seen: number[][] = [];
    manager.on('ticks', (ticks) => seen.push(ticks.map((t) => t.instrument_token)));
    const merged = manager.getMergedChannel();
    made[0]!.fire('ticks', [ltp(1), ltp(99), ltp(2), ltp(3)]); // 3 belongs to the other connection
    made[0]!.fire('ticks', [ltp(4_000_000), ltp(5_000_000)]); // nothing known: no batch at all
    made[1]!.fire('ticks', [ltp(3)]);
    await manager.unsubscribeSymbols([1]);
    made[0]!.fire('ticks', [ltp(1), ltp(2)]); // 1 still in flight after the unsubscribe
    expect(seen).toEqual([[1, 2], [3], [2]]);
    expect(merged.size).toBe(3);
    expect(manager.latestQuotes.has(99)).toBe(false);
    const stats = manager.getStats();
    expect(stats.unknownTokenDrops).toBe(5);
    expect(stats.totalMessagesReceived).toBe(3);
    expect(stats.totalDrops).toBe(0); // not a consumer's loss
  });

  it('manager - a slow channel drops its own messages and the drops show in stats', async () => {
    const { manager, made } = make({ channelCapacity: 2 });
    await manager.start();
    await manager.subscribeSymbols([1]);
    const slow = manager.getChannel(0)!;
    const fast = manager.getMergedChannel({ capacity: 100 });
    for (let i = 0; i < 10; i++) made[0]!.fire('ticks', [ltp(1, i)]);
    expect(slow.dropped).toBe(8);
    expect(fast.dropped).toBe(0);
    expect(fast.size).toBe(10);
    const stats = manager.getStats();
    expect(stats.connections[0]!.drops).toBe(8);
    expect(stats.totalDrops).toBe(8);
    expect(stats.totalMessagesReceived).toBe(10);
    expect(stats.totalFrames).toBe(10);
  });

  it('manager - an order delivered on every socket reaches consumers once', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 1 });
    await manager.start();
    await manager.subscribeSymbols([1, 2, 3]);
    const orders: string[] = [];
    manager.on('order', (o) => orders.push(`${o.order_id}:${o.status}`));
    const merged = manager.getMergedChannel();
    for (const conn of made) conn.fire('order', order({}));
    for (const conn of made) conn.fire('order', order({ status: 'COMPLETE', filled_quantity: 1 }));
    made[1]!.fire('order', order({ order_id: '2' }));
    expect(orders).toEqual(['1:OPEN', '1:COMPLETE', '2:OPEN']);
    expect(merged.size).toBe(3);
    expect(manager.getStats().duplicateOrders).toBe(4);
  });

  it('manager - orderDedupeWindowMs 0 delivers every copy; bad dedupe options are refused', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 1, orderDedupeWindowMs: 0 });
    await manager.start();
    await manager.subscribeSymbols([1, 2]);
    const orders: string[] = [];
    manager.on('order', (o) => orders.push(o.order_id));
    for (const conn of made) conn.fire('order', order({}));
    expect(orders).toEqual(['1', '1']);
    expect(manager.getStats().duplicateOrders).toBe(0);
    expect(() => new KiteTickerManager('k', 't', { orderDedupeWindowMs: -1 })).toThrow(/orderDedupeWindowMs/);
    expect(() => new KiteTickerManager('k', 't', { orderDedupeSize: 0 })).toThrow(/orderDedupeSize/);
    expect(() => new KiteTickerManager('k', 't', { orderDedupeSize: 1_000_001 })).toThrow(/orderDedupeSize/);
  });

  it('manager - health follows the connection and recovers', async () => {
    const { manager, made } = make();
    expect(manager.getHealth()).toEqual({ healthy: false, connections: [] });
    await manager.start();
    expect(manager.getHealth().healthy).toBe(true);
    made[0]!.setStatus('reconnecting');
    expect(manager.getHealth().connections[0]!.state).toBe('reconnecting');
    expect(manager.getHealth().healthy).toBe(false);
    made[0]!.setStatus('connected');
    expect(manager.getHealth()).toEqual({
      healthy: true,
      connections: [{ index: 0, state: 'healthy', lastFrameAgeMs: null }],
    });
  });

  it('manager - the health check emits changes', async () => {
    const { manager, made } = make({ healthCheckIntervalMs: 100 });
    await manager.start();
    const states: string[] = [];
    manager.on('health', (h) => states.push(h.connections[0]!.state));
    await new Promise((r) => setTimeout(r, 250));
    made[0]!.setStatus('auth_failed');
    await new Promise((r) => setTimeout(r, 250));
    expect(states).toEqual(['healthy', 'auth_failed']);
  });

  it('manager - updateAccessToken reaches every connection and reopens a dead one with its state', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 2 });
    await manager.start();
    await manager.subscribeSymbols([1, 2, 3], 'full');
    made[1]!.die();
    expect(manager.getHealth().connections[1]!.state).toBe('closed');
    manager.updateAccessToken('fresh');
    expect(made[0]!.accessToken).toBe('fresh');
    await manager.subscribeSymbols([]); // waits for the queued reopen
    expect(made).toHaveLength(3);
    expect(made[2]!.index).toBe(1);
    expect(made[2]!.options.accessToken).toBe('fresh');
    expect(made[2]!.subs).toEqual(new Map([[3, 'full']]));
    expect(made[1]!.listenerCount('ticks')).toBe(0);
    expect(manager.getHealth().healthy).toBe(true);
  });

  it('manager - stop closes every connection, ends channels and later calls throw ERR_CLOSED', async () => {
    const { manager, made } = make({ maxSymbolsPerConnection: 1 });
    await manager.start();
    await manager.subscribeSymbols([1, 2]);
    const channel = manager.getMergedChannel();
    const loop = (async () => {
      let n = 0;
      for await (const _ of channel) n++;
      return n;
    })();
    made[0]!.fire('ticks', [ltp(1)]);
    await manager.stop();
    await manager.stop();
    expect(await loop).toBeGreaterThanOrEqual(1);
    expect(made.every((c) => c.status === 'closed' && c.listenerCount('ticks') === 0)).toBe(true);
    await expect(manager.subscribeSymbols([3])).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(manager.start()).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(() => manager.getChannel(0)).toThrow(/closed/);
    expect(() => manager.updateAccessToken('x')).toThrow(/closed/);
    // Uptime freezes at stop (one behaviour on both managers; it used to drop to 0 here).
    const uptime = manager.getStats().uptimeMs;
    await new Promise((r) => setTimeout(r, 15));
    expect(manager.getStats().uptimeMs).toBe(uptime);
    expect(manager.getStats().totalFrames).toBe(1);
  });

  it('manager - stop during a pending connect aborts it', async () => {
    const { manager, factory, made } = make();
    factory.prepare = (conn: FakeConnection) => {
      conn.hold = true;
    };
    const starting = manager.start();
    await new Promise((r) => setTimeout(r, 5));
    await manager.stop();
    await expect(starting).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(made[0]!.status).toBe('closed');
  });

  it('manager - never leaks the access token into errors or logs', async () => {
    const lines: string[] = [];
    const log = (o: object | string, m?: string) => lines.push(JSON.stringify(o) + (m ?? ''));
    const factory = fakeFactory();
    const manager = new KiteTickerManager('k', 'tok-SECRET', {
      createConnection: factory.create,
      logger: { debug: log, info: log, warn: log, error: log },
      maxSymbolsPerConnection: 1,
      maxConnections: 1,
    });
    managers.push(manager);
    await manager.start();
    const error = await manager.subscribeSymbols([1, 2]).catch((e: unknown) => e);
    expect(String((error as Error).message)).not.toContain('tok-SECRET');
    factory.made[0]!.die();
    await manager.stop();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain('tok-SECRET');
    expect(JSON.stringify(manager.getStats())).not.toContain('tok-SECRET');
  });
});
