import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyNotFoundError, ErrorCode, InvalidArgumentError, KiteTickerError } from '../../src/errors.js';
import type { Logger } from '../../src/logger.js';
import {
  DistributionStrategy,
  type FailoverEvent,
  MultiApiKiteTickerManager,
  type MultiApiKiteTickerManagerBuilder,
  type UnplacedEvent,
} from '../../src/multi/index.js';
import { Mode } from '../../src/protocol/constants.js';
import { type FakePool, fakeFactory, ltpTick, order } from './multi-fake-pool.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const flush = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

let managers: MultiApiKiteTickerManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  managers = [];
});

/** Three keys (k1..k3) on fake pools; `small` makes each key 1 connection x 5 tokens. */
function setup(
  configure?: (b: MultiApiKiteTickerManagerBuilder) => void,
  small = false,
): { manager: MultiApiKiteTickerManager; pools: Map<string, FakePool>; pool: (key: string) => FakePool } {
  const { factory, pools } = fakeFactory();
  const builder = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'k1', 'secret-token-1')
    .addApiKey('b', 'k2', 'secret-token-2')
    .addApiKey('c', 'k3', 'secret-token-3')
    .managerFactory(factory);
  if (small) builder.maxConnectionsPerApi(1).maxSymbolsPerConnection(5);
  configure?.(builder);
  const manager = builder.build();
  managers.push(manager);
  return { manager, pools, pool: (key) => pools.get(key)! };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as KiteTickerError).code;
  }
  return undefined;
}

describe('multi builder', () => {
  it('multi builder - rejects no keys, duplicate ids and bad numbers with typed errors', () => {
    const b = () => MultiApiKiteTickerManager.builder().managerFactory(fakeFactory().factory);
    expect(() => b().build()).toThrow(/addApiKey/);
    expect(codeOf(() => b().build())).toBe(ErrorCode.InvalidArgument);
    expect(codeOf(() => b().addApiKey('x', 'k', 't').addApiKey('x', 'k2', 't2').build())).toBe(
      ErrorCode.DuplicateApiKey,
    );
    expect(codeOf(() => b().addApiKey('x', 'k', 't').maxConnectionsPerApi(4).build())).toBe(
      ErrorCode.InvalidArgument,
    );
    expect(codeOf(() => b().addApiKey('x', 'k', 't').maxSymbolsPerConnection(0).build())).toBe(
      ErrorCode.InvalidArgument,
    );
    expect(codeOf(() => b().addApiKey('x', 'k', 't').connectionTimeout(-5).build())).toBe(
      ErrorCode.InvalidArgument,
    );
    expect(codeOf(() => b().addApiKey('x', 'k', '').build())).toBe(ErrorCode.InvalidArgument);
    expect(
      codeOf(() =>
        b()
          .addApiKey('x', 'k', 't')
          .defaultMode('nope' as Mode)
          .build(),
      ),
    ).toBe(ErrorCode.InvalidArgument);
  });

  it('multi builder - keeps key order and passes the resolved config to every pool', async () => {
    const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
    const { manager, pool } = setup((b) =>
      b
        .maxConnectionsPerApi(2)
        .maxSymbolsPerConnection(100)
        .connectionTimeout(1234)
        .defaultMode(Mode.Full)
        .baseConfig({ livenessTimeoutMs: 7000, maxConnections: 3 })
        .url('ws://127.0.0.1:9')
        .logger(logger),
    );
    expect(manager.getApiKeys()).toEqual(['a', 'b', 'c']);
    const config = pool('k2').config;
    expect(config).toMatchObject({
      maxConnections: 2,
      maxSymbolsPerConnection: 100,
      connectionTimeoutMs: 1234,
      livenessTimeoutMs: 7000,
      url: 'ws://127.0.0.1:9',
    });
    expect(config.logger).toBe(logger);
    expect(pool('k1').accessToken).toBe('secret-token-1');
    // The default mode is the manager's (pools are always told the mode): a call without one uses it.
    await manager.start();
    await manager.subscribeSymbolsToApi('b', [1]);
    expect(pool('k2').calls.at(-1)).toEqual({ op: 'subscribe', tokens: [1], mode: 'full' });
  });

  it('multi builder - unified channels take their default capacity and overflow from baseConfig', async () => {
    const { manager, pool } = setup((b) => b.baseConfig({ channelCapacity: 2, overflow: 'drop-newest' }));
    await manager.start();
    await manager.subscribeSymbols([0, 1, 2]);
    const channel = manager.getUnifiedChannel();
    for (let i = 0; i < 3; i++) pool('k1').emitTicks(0, [ltpTick(i)]);
    expect(channel.size).toBe(2);
    expect(channel.dropped).toBe(1);
    const first = channel.tryReceive();
    expect(first?.message.type === 'ticks' && first.message.ticks[0]?.instrument_token).toBe(0);
  });
});

describe('multi manager', () => {
  it('multi manager - calls before start fail with ERR_NOT_STARTED', async () => {
    const { manager } = setup();
    await expect(manager.subscribeSymbols([1])).rejects.toMatchObject({ code: ErrorCode.NotStarted });
  });

  it('multi manager - round-robin spreads tokens evenly across keys in the given mode', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols(range(1, 9), Mode.Full);
    for (const k of ['k1', 'k2', 'k3']) {
      expect(pool(k).size()).toBe(3);
      expect([...pool(k).conns[0]!.values()].every((m) => m === 'full')).toBe(true);
    }
    expect(pool('k1').tokens()).toEqual([1, 4, 7]);
    const dist = manager.getSymbolDistribution();
    expect([...dist.keys()]).toEqual(['a', 'b', 'c']);
    expect(dist.get('b')?.get(0)?.get(2)).toBe('full');
    const stats = manager.getStats();
    expect(stats).toMatchObject({ totalApiKeys: 3, totalSymbols: 9, unplacedSymbols: 0 });
    expect(stats.perApiStats.map((s) => s.totalSymbols)).toEqual([3, 3, 3]);
  });

  it('multi manager - a capacity shortfall throws "capacity" and subscribes nothing', async () => {
    const { manager, pool } = setup(undefined, true);
    await manager.start();
    await manager.subscribeSymbols(range(1, 12));
    const before = ['k1', 'k2', 'k3'].map((k) => pool(k).calls.length);
    const error = await manager.subscribeSymbols(range(100, 4)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KiteTickerError);
    expect((error as KiteTickerError).code).toBe(ErrorCode.Capacity);
    expect((error as Error).message).toContain('capacity');
    expect(['k1', 'k2', 'k3'].map((k) => pool(k).calls.length)).toEqual(before);
    expect(manager.getStats().totalSymbols).toBe(12);
    // Exactly the remaining room still fits.
    await manager.subscribeSymbols(range(100, 3));
    expect(manager.availableCapacity()).toBe(0);
  });

  it('multi manager - Manual distribution refuses subscribeSymbols and routes by key', async () => {
    const { manager, pool } = setup((b) => b.distributionStrategy(DistributionStrategy.Manual));
    await manager.start();
    await expect(manager.subscribeSymbols([1])).rejects.toMatchObject({
      code: ErrorCode.ManualDistribution,
      message: expect.stringContaining('subscribeSymbolsToApi'),
    });
    await manager.subscribeSymbolsToApi('a', [1, 2], Mode.Full);
    await manager.subscribeSymbolsToApi('c', [3], Mode.LTP);
    expect(pool('k1').tokens()).toEqual([1, 2]);
    expect(pool('k2').tokens()).toEqual([]);
    expect(pool('k3').conns[0]!.get(3)).toBe('ltp');
    await expect(manager.subscribeSymbolsToApi('zz', [4])).rejects.toThrow('API key not found');
    expect(() => manager.getApiStats('zz')).toThrow('API key not found');
  });

  it('multi manager - assigning a token owned by another key moves it (keeps its mode)', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [10, 11], Mode.Full);
    await manager.subscribeSymbolsToApi('b', [10, 12]);
    expect(pool('k1').tokens()).toEqual([11]);
    expect(pool('k1').calls).toContainEqual({ op: 'unsubscribe', tokens: [10] });
    expect(pool('k2').tokens()).toEqual([10, 12]);
    expect(pool('k2').conns[0]!.get(10)).toBe('full');
    expect(pool('k2').conns[0]!.get(12)).toBe('quote');
    expect(manager.getDesiredState().get(10)).toEqual({ apiKeyId: 'b', mode: 'full' });
    expect(manager.getStats().totalSymbols).toBe(3);
  });

  it('multi manager - a move is refused when the target key lacks room, leaving the owner intact', async () => {
    const { manager, pool } = setup(undefined, true);
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [1]);
    await manager.subscribeSymbolsToApi('b', range(10, 5));
    await expect(manager.subscribeSymbolsToApi('b', [1])).rejects.toMatchObject({ code: ErrorCode.Capacity });
    expect(pool('k1').tokens()).toEqual([1]);
  });

  it('multi manager - unsubscribe and mode changes reach whichever key owns each token', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols(range(1, 6));
    await manager.changeMode([1, 2, 3, 999], Mode.LTP);
    expect(pool('k1').conns[0]!.get(1)).toBe('ltp');
    expect(pool('k2').conns[0]!.get(2)).toBe('ltp');
    expect(pool('k3').conns[0]!.get(3)).toBe('ltp');
    expect(pool('k1').conns[0]!.get(4)).toBe('quote');
    await manager.unsubscribeSymbols([1, 2, 5, 999]);
    expect(pool('k1').tokens()).toEqual([4]);
    expect(pool('k2').tokens()).toEqual([]);
    expect(pool('k3').tokens()).toEqual([3, 6]);
    expect(manager.getStats().totalSymbols).toBe(3);
  });

  it('multi manager - re-subscribing a known token changes its mode only when one is given', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols([1], Mode.Full);
    await manager.subscribeSymbols([1]);
    expect(pool('k1').conns[0]!.get(1)).toBe('full');
    await manager.subscribeSymbols([1], Mode.LTP);
    expect(pool('k1').conns[0]!.get(1)).toBe('ltp');
    expect(pool('k1').calls.filter((c) => c.op === 'subscribe')).toHaveLength(1);
  });

  it('multi manager - invalid tokens and modes are typed errors with nothing changed', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await expect(manager.subscribeSymbols([1, -2])).rejects.toMatchObject({ code: ErrorCode.InvalidToken });
    await expect(manager.subscribeSymbols([1], 'x' as Mode)).rejects.toMatchObject({
      code: ErrorCode.InvalidArgument,
    });
    expect(pool('k1').tokens()).toEqual([]);
  });

  it('multi manager - a pool failure mid-call rolls back what the call placed', async () => {
    const { manager, pool } = setup();
    await manager.start();
    pool('k3').failSubscribe = true;
    await expect(manager.subscribeSymbols(range(1, 6))).rejects.toThrow('fake subscribe failure');
    expect(pool('k1').tokens()).toEqual([]);
    expect(pool('k2').tokens()).toEqual([]);
    expect(manager.getStats().totalSymbols).toBe(0);
  });

  it('multi manager - ticks of instruments nobody subscribed are dropped and counted, even from a custom pool', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols([5, 6]);
    const channel = manager.getUnifiedChannel({ capacity: 100 });
    const seen: number[][] = [];
    manager.on('ticks', (ticks) => seen.push(ticks.map((t) => t.instrument_token)));
    pool('k1').emitTicks(0, [ltpTick(5), ltpTick(77), ltpTick(6)]);
    pool('k2').emitTicks(1, [ltpTick(88), ltpTick(99)]);
    await manager.unsubscribeSymbols([5]);
    pool('k3').emitTicks(0, [ltpTick(5)]);
    expect(seen).toEqual([[5, 6]]);
    expect(channel.size).toBe(1);
    expect(manager.getStats().unknownTokenDrops).toBe(4);
  });

  it('multi manager - ticks a pool delivers while its subscribe call is still running are kept', async () => {
    const { manager, pool } = setup((b) => b.distributionStrategy(DistributionStrategy.Manual));
    await manager.start();
    const seen: number[][] = [];
    manager.on('ticks', (ticks) => seen.push(ticks.map((t) => t.instrument_token)));
    // The socket opens and ticks before subscribeSymbols returns (as a real pool opening a connection).
    pool('k2').beforeSubscribeReturns = (tokens) => pool('k2').emitTicks(0, tokens.map(ltpTick));
    await manager.subscribeSymbolsToApi('b', [41, 42], 'ltp');
    expect(seen).toEqual([[41, 42]]);
    expect(manager.getStats().unknownTokenDrops).toBe(0);
  });

  it('multi manager - ticks, statuses and orders reach events and the tagged unified channel; orders once', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols([5, 6]);
    const channel = manager.getUnifiedChannel({ capacity: 100 });
    const seen: [number, string, number][] = [];
    manager.on('ticks', (ticks, apiKeyId, connectionIndex) =>
      seen.push([ticks.length, apiKeyId, connectionIndex]),
    );
    const orders: string[] = [];
    manager.on('order', (o, apiKeyId) => orders.push(`${o.order_id}/${o.status}@${apiKeyId}`));
    pool('k2').emitTicks(1, [ltpTick(5), ltpTick(6)]);
    pool('k1').emitOrder(0, order('9', 'OPEN'));
    pool('k3').emitOrder(2, order('9', 'OPEN', { checksum: 'another-app' }));
    pool('k3').emitOrder(0, order('9', 'COMPLETE', { filled_quantity: 1, pending_quantity: 0 }));
    expect(seen).toEqual([[2, 'b', 1]]);
    expect(orders).toEqual(['9/OPEN@a', '9/COMPLETE@c']);
    expect(manager.getStats().duplicateOrders).toBe(1);
    const first = channel.tryReceive();
    expect(first).toMatchObject({ apiKeyId: 'b', message: { type: 'ticks', connectionIndex: 1 } });
    expect(channel.tryReceive()).toMatchObject({ apiKeyId: 'a', message: { type: 'order' } });
    expect(channel.tryReceive()).toMatchObject({
      apiKeyId: 'c',
      message: { type: 'order', connectionIndex: 0 },
    });
    expect(channel.tryReceive()).toBeUndefined();
    // getChannel gives that key's stream of that connection: only key a's connection 0 arrives.
    await manager.subscribeSymbols([7, 8, 9]);
    const own = manager.getChannel('a', 0);
    pool('k1').emitTicks(0, [ltpTick(7)]);
    pool('k1').emitTicks(1, [ltpTick(9)]);
    pool('k2').emitTicks(0, [ltpTick(8)]);
    expect(own?.tryReceive()).toMatchObject({
      type: 'ticks',
      connectionIndex: 0,
      ticks: [{ instrument_token: 7 }],
    });
    expect(own?.tryReceive()).toBeUndefined();
    // Unknown channel ids are typed errors (the guide's Option becomes a throw, never a silent undefined).
    expect(() => manager.getChannel('a', 7)).toThrow(InvalidArgumentError);
    expect(() => manager.getChannel('nope', 0)).toThrow(ApiKeyNotFoundError);
  });

  it('multi manager - server messages and protocol errors of every key reach events, tagged with the key', async () => {
    const { manager, pool } = setup();
    await manager.start();
    const seen: string[] = [];
    manager.on('serverMessage', (data, apiKeyId, i) => seen.push(`message ${String(data)} ${apiKeyId}/${i}`));
    manager.on('protocolError', (info, apiKeyId, i) => seen.push(`${info.kind} ${apiKeyId}/${i}`));
    pool('k2').emit('serverMessage', 'hello', 1);
    pool('k3').emit('protocolError', { kind: 'truncated_packet', detail: 'short', offset: 4 }, 0);
    expect(seen).toEqual(['message hello b/1', 'truncated_packet c/0']);
  });

  it('multi manager - auth failure moves the key tokens elsewhere with their modes', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [1, 2], Mode.Full);
    await manager.subscribeSymbolsToApi('a', [3, 4], Mode.LTP);
    await manager.subscribeSymbolsToApi('b', [5]);
    const failovers: FailoverEvent[] = [];
    manager.on('failover', (e) => failovers.push(e));
    pool('k1').emitStatus(0, { status: 'auth_failed', httpStatus: 403 });
    await until(() => failovers.length === 1);
    expect(failovers[0]!.apiKeyId).toBe('a');
    expect(failovers[0]!.reason).toBe('auth_failed');
    expect(failovers[0]!.unplaced).toEqual([]);
    expect(pool('k1').tokens()).toEqual([]);
    const moved = [...pool('k2').tokens(), ...pool('k3').tokens()].sort((x, y) => x - y);
    expect(moved).toEqual([1, 2, 3, 4, 5]);
    const desired = manager.getDesiredState();
    expect(desired.get(1)?.mode).toBe('full');
    expect(desired.get(4)?.mode).toBe('ltp');
    expect(desired.get(1)?.apiKeyId).not.toBe('a');
    const stats = manager.getApiStats('a');
    expect(stats).toMatchObject({
      state: 'failed',
      failureReason: 'auth_failed',
      availableCapacity: 0,
      failovers: 1,
    });
    // A failed key takes no new tokens.
    await manager.subscribeSymbols(range(100, 6));
    expect(pool('k1').tokens()).toEqual([]);
  });

  it('multi manager - tokens with nowhere to go are reported unplaced, then placed when capacity appears', async () => {
    const { manager, pool } = setup(undefined, true);
    await manager.start();
    await manager.subscribeSymbols(range(1, 12)); // 4 per key, 1 free each
    const unplacedEvents: UnplacedEvent[] = [];
    manager.on('unplaced', (e) => unplacedEvents.push(e));
    const placed: Map<string, number[]>[] = [];
    manager.on('placed', (p) => placed.push(p));
    pool('k3').emitStatus(0, { status: 'closed', reason: 'auth_failed' });
    await until(() => unplacedEvents.length === 1);
    expect(unplacedEvents[0]!.tokens).toHaveLength(2);
    expect(unplacedEvents[0]!.totalUnplaced).toBe(2);
    expect(manager.getStats()).toMatchObject({ totalSymbols: 10, unplacedSymbols: 2 });
    expect(manager.getUnplacedSymbols().size).toBe(2);
    // New subscriptions cannot jump the queue.
    await expect(manager.subscribeSymbols([500])).rejects.toMatchObject({ code: ErrorCode.Capacity });
    // Freeing room places the waiting tokens.
    await manager.unsubscribeSymbols([1]);
    await until(() => placed.length === 1);
    expect(manager.getStats()).toMatchObject({ totalSymbols: 10, unplacedSymbols: 1 });
    // The key comes back with a new token: the rest is placed there.
    await manager.updateAccessToken('c', 'fresh-token');
    expect(pool('k3').accessToken).toBe('fresh-token');
    pool('k3').emitStatus(0, { status: 'connected', attempt: 1 });
    await until(() => manager.getStats().unplacedSymbols === 0);
    expect(pool('k3').size()).toBe(1);
    expect(manager.getApiStats('c').state).toBe('active');
  });

  it('multi manager - a key unreachable past failoverAfter fails over; reconnecting restores it', async () => {
    const { manager, pool } = setup((b) => b.failoverAfter(100));
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [1, 2, 3]);
    const reasons: string[] = [];
    manager.on('failover', (e) => reasons.push(e.reason));
    pool('k1').emitStatus(0, { status: 'reconnecting', attempt: 1, delayMs: 10, reason: 'drop' });
    await flush();
    expect(reasons).toEqual([]); // not before the threshold
    await until(() => reasons.length === 1);
    expect(reasons).toEqual(['unreachable']);
    expect(pool('k1').tokens()).toEqual([]);
    const recovered: string[] = [];
    manager.on('recovered', (id) => recovered.push(id));
    pool('k1').emitStatus(0, { status: 'connected', attempt: 2 });
    expect(recovered).toEqual(['a']);
    expect(manager.getApiStats('a').state).toBe('active');
  });

  it('multi manager - a brief drop shorter than failoverAfter moves nothing', async () => {
    const { manager, pool } = setup((b) => b.failoverAfter(100));
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [1]);
    const reasons: string[] = [];
    manager.on('failover', (e) => reasons.push(e.reason));
    pool('k1').emitStatus(0, { status: 'reconnecting', attempt: 1, delayMs: 10, reason: 'drop' });
    pool('k1').emitStatus(0, { status: 'connected', attempt: 1 });
    await new Promise((r) => setTimeout(r, 160));
    expect(reasons).toEqual([]);
    expect(pool('k1').tokens()).toEqual([1]);
  });

  it('multi manager - a key refused at start is failed, the others run; a new token restarts it', async () => {
    const { factory, pools } = fakeFactory();
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k1', 't1')
      .addApiKey('b', 'k2', 't2')
      .managerFactory((apiKey, token, config, owner) => {
        const pool = factory(apiKey, token, config, owner) as FakePool;
        if (apiKey === 'k1') pool.failStart = true;
        return pool;
      })
      .build();
    managers.push(manager);
    await manager.start();
    expect(manager.getApiStats('a')).toMatchObject({
      state: 'failed',
      failureReason: 'auth_failed',
      failovers: 1,
    });
    await manager.subscribeSymbols([1, 2]);
    expect(pools.get('k2')!.tokens()).toEqual([1, 2]);
    pools.get('k1')!.failStart = false;
    await manager.updateAccessToken('a', 'good');
    expect(manager.getApiStats('a').state).toBe('active');
    await manager.subscribeSymbols([3]);
    expect(pools.get('k1')!.tokens()).toEqual([3]);
  });

  it('multi manager - start rejects when every key fails', async () => {
    const { factory } = fakeFactory();
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k1', 't1')
      .managerFactory((apiKey, token, config, owner) => {
        const pool = factory(apiKey, token, config, owner) as FakePool;
        pool.failStart = true;
        return pool;
      })
      .build();
    managers.push(manager);
    await expect(manager.start()).rejects.toMatchObject({ code: ErrorCode.AuthFailed });
    await expect(manager.subscribeSymbols([1])).rejects.toMatchObject({ code: ErrorCode.Closed });
  });

  it('multi manager - stop is idempotent, stops every pool and ends the unified channel; await using works', async () => {
    const { factory, pools } = fakeFactory();
    let channelEnded = false;
    {
      await using manager = MultiApiKiteTickerManager.builder()
        .addApiKey('a', 'k1', 't1')
        .addApiKey('b', 'k2', 't2')
        .managerFactory(factory)
        .build();
      await manager.start();
      const channel = manager.getUnifiedChannel();
      void (async () => {
        for await (const _ of channel);
        channelEnded = true;
      })();
    }
    await flush();
    expect(channelEnded).toBe(true);
    expect(pools.get('k1')!.stopped && pools.get('k2')!.stopped).toBe(true);
    const { manager } = setup();
    const before = Date.now();
    await manager.start();
    await new Promise((r) => setTimeout(r, 30));
    await Promise.all([manager.stop(), manager.stop()]);
    await manager.stop();
    // Uptime counts from start to stop, then stays put.
    const uptime = manager.getStats().uptimeMs;
    expect(uptime).toBeGreaterThanOrEqual(25);
    expect(uptime).toBeLessThanOrEqual(Date.now() - before);
    await new Promise((r) => setTimeout(r, 30));
    expect(manager.getStats().uptimeMs).toBe(uptime);
    await expect(manager.start()).rejects.toMatchObject({ code: ErrorCode.Closed });
  });

  it('multi manager - access tokens never appear in stats or errors', async () => {
    const { manager, pool } = setup();
    await manager.start();
    await manager.subscribeSymbols([1, 2, 3]);
    pool('k1').emitStatus(0, { status: 'auth_failed', httpStatus: 403 });
    await until(() => manager.getApiStats('a').state === 'failed');
    const text = JSON.stringify(manager.getStats());
    expect(text).not.toContain('secret-token');
    const err = await manager.subscribeSymbolsToApi('a', [77]).catch((e: Error) => e);
    expect((err as Error).message).not.toContain('secret-token');
  });
});
