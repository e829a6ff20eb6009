/**
 * The one manager seen through both faces: `KiteTickerManager` (one key) and
 * `MultiApiKiteTickerManager` give the same event shape, the same channel-id rules, the same uptime
 * after stop, and the same raw-frame tap. Both run over real pools with socket-free connections.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyNotFoundError, ErrorCode, InvalidArgumentError } from '../../src/errors.js';
import {
  ChannelId,
  DistributionStrategy,
  KiteTickerManager,
  type ManagerEvents,
  MultiApiKiteTickerManager,
} from '../../src/manager/index.js';
import { ConnectionPool } from '../../src/pool/pool.js';
import type { OrderUpdate, Tick } from '../../src/protocol/types.js';
import { fakeFactory } from './manager-fake-connection.js';

const ltp = (token: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: 1,
});
const order = { order_id: '1', status: 'OPEN', exchange_update_timestamp: 't' } as OrderUpdate;

type Face = KiteTickerManager | MultiApiKiteTickerManager;
const running: Face[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((m) => m.stop()));
});

/** Both faces over one key 'k' (the multi manager names it 'k' too), 2 sockets of 2 instruments. */
function faces(extra: { rawFrames?: boolean } = {}) {
  const single = fakeFactory();
  const face = new KiteTickerManager('k', 't', {
    createConnection: single.create,
    maxConnections: 2,
    maxSymbolsPerConnection: 2,
    ...extra,
  });
  const multiConns = fakeFactory();
  const builder = MultiApiKiteTickerManager.builder()
    .addApiKey('k', 'k', 't')
    .maxConnectionsPerApi(2)
    .maxSymbolsPerConnection(2)
    .rawFrames(extra.rawFrames ?? false)
    .poolFactory(
      (apiKey, token, config, owner) => new ConnectionPool(apiKey, token, config, owner, multiConns.create),
    );
  const multi = builder.build();
  running.push(face, multi);
  return [
    { name: 'KiteTickerManager', manager: face as Face, made: single.made },
    { name: 'MultiApiKiteTickerManager', manager: multi as Face, made: multiConns.made },
  ];
}

/** Records every listed event's arguments, as a listener written against `ManagerEvents` sees them. */
function record(manager: Face, names: (keyof ManagerEvents)[]): unknown[][] {
  const seen: unknown[][] = [];
  for (const name of names) {
    (manager as MultiApiKiteTickerManager).on(name, (...args: unknown[]) => seen.push([name, ...args]));
  }
  return seen;
}

describe('one manager, two faces', () => {
  it('manager - both faces emit ticks, orders and statuses as (payload, apiKeyId, connectionIndex)', async () => {
    const outcomes: unknown[][][] = [];
    for (const { manager, made } of faces()) {
      await manager.start();
      await manager.subscribeSymbols([1, 2, 3]); // 1, 2 on socket 0; 3 on socket 1
      const seen = record(manager, ['ticks', 'order', 'status']);
      made[1]!.fire('ticks', [ltp(3)]);
      made[0]!.fire('order', order);
      made[1]!.fire('order', order); // the copy on the other socket: dropped
      made[0]!.fire('status', { status: 'reconnecting', attempt: 1, delayMs: 10, reason: 'drop' });
      outcomes.push(seen);
    }
    const expected = [
      ['ticks', [ltp(3)], 'k', 1],
      ['order', order, 'k', 0],
      ['status', { status: 'reconnecting', attempt: 1, delayMs: 10, reason: 'drop' }, 'k', 0],
    ];
    expect(outcomes[0]).toEqual(expected);
    expect(outcomes[1]).toEqual(expected);
  });

  it('manager - ChannelId names the sockets; unknown channel ids are typed errors on both faces', async () => {
    expect(ChannelId).toEqual({ Connection1: 0, Connection2: 1, Connection3: 2 });
    const [single, multi] = faces();
    const face = single!.manager as KiteTickerManager;
    const many = multi!.manager as MultiApiKiteTickerManager;
    for (const { manager } of [single!, multi!]) {
      await manager.start();
      await manager.subscribeSymbols([1, 2, 3]);
    }
    const ch = face.getChannel(ChannelId.Connection2);
    const mch = many.getChannel('k', ChannelId.Connection2);
    single!.made[1]!.fire('ticks', [ltp(3)]);
    multi!.made[1]!.fire('ticks', [ltp(3)]);
    expect(ch.tryReceive()).toEqual({ type: 'ticks', connectionIndex: 1, ticks: [ltp(3)] });
    expect(mch.tryReceive()).toEqual({ type: 'ticks', connectionIndex: 1, ticks: [ltp(3)] });
    // Two sockets allowed: Connection3 does not exist here; a guide-style string is no index either.
    for (const bad of [ChannelId.Connection3, -1, 1.5, 'Connection1' as unknown as number]) {
      expect(() => face.getChannel(bad)).toThrow(InvalidArgumentError);
      expect(() => many.getChannel('k', bad)).toThrow(InvalidArgumentError);
    }
    expect(() => face.getChannel(ChannelId.Connection3)).toThrow(/unknown channel 2/);
    expect(() => many.getChannel('nope', ChannelId.Connection1)).toThrow(ApiKeyNotFoundError);
  });

  it('manager - DistributionStrategy.LeastLoaded is RoundRobin under its accurate name', async () => {
    expect(DistributionStrategy.LeastLoaded).toBe(DistributionStrategy.RoundRobin);
    const { fakeFactory: fakePools } = await import('./multi-fake-pool.js');
    const { factory, pools } = fakePools();
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k1', 't')
      .addApiKey('b', 'k2', 't')
      .distributionStrategy(DistributionStrategy.LeastLoaded)
      .poolFactory(factory)
      .build();
    running.push(manager);
    await manager.start();
    await manager.subscribeSymbolsToApi('a', [1, 2, 3]);
    // Least-loaded: the next three go to b until the keys are even, then ties go round (a, then b).
    await manager.subscribeSymbols([4, 5, 6, 7, 8]);
    expect(pools.get('k1')!.tokens()).toEqual([1, 2, 3, 7]);
    expect(pools.get('k2')!.tokens()).toEqual([4, 5, 6, 8]);
  });

  it('manager - uptimeMs counts from start and freezes at stop on both faces', async () => {
    for (const { manager } of faces()) {
      expect(manager.getStats().uptimeMs).toBe(0);
      await manager.start();
      await new Promise((r) => setTimeout(r, 20));
      await manager.stop();
      const frozen = manager.getStats().uptimeMs;
      expect(frozen).toBeGreaterThanOrEqual(15);
      await new Promise((r) => setTimeout(r, 25));
      expect(manager.getStats().uptimeMs).toBe(frozen);
    }
  });

  it('manager - rawFrames taps every binary frame as (frame, apiKeyId, connectionIndex) on both faces', async () => {
    for (const { manager, made } of faces({ rawFrames: true })) {
      await manager.start();
      await manager.subscribeSymbols([1, 2, 3]);
      const frames = record(manager, ['frame']);
      const bytes = new Uint8Array([0, 1, 0, 8]);
      made[1]!.fire('rawFrame', bytes);
      expect(frames).toEqual([['frame', bytes, 'k', 1]]);
    }
  });

  it('manager - without rawFrames no connection is tapped (the tap costs nothing)', async () => {
    for (const { manager, made } of faces()) {
      await manager.start();
      const frames = record(manager, ['frame']);
      expect(made[0]!.listenerCount('rawFrame')).toBe(0);
      made[0]!.fire('rawFrame', new Uint8Array([0, 0]));
      expect(frames).toEqual([]);
    }
  });

  it('manager - the per-key face names its key by its apiKey in stats and unified messages', async () => {
    const [single] = faces();
    const face = single!.manager as KiteTickerManager;
    await face.start();
    await face.subscribeSymbols([1]);
    const unified = face.getUnifiedChannel();
    single!.made[0]!.fire('ticks', [ltp(1)]);
    expect(unified.tryReceive()).toEqual({
      apiKeyId: 'k',
      message: { type: 'ticks', connectionIndex: 0, ticks: [ltp(1)] },
    });
    expect(face.getStats()).toMatchObject({ totalApiKeys: 1, perApiStats: [{ apiKeyId: 'k' }] });
    expect(face.getStats().connections[0]).toMatchObject({ apiKeyId: 'k', index: 0 });
  });

  it('manager - a closed face refuses channels with ERR_CLOSED (both faces alike)', async () => {
    for (const { manager } of faces()) {
      await manager.stop();
      const channel = () =>
        manager instanceof KiteTickerManager ? manager.getChannel(0) : manager.getChannel('k', 0);
      expect(channel).toThrow(expect.objectContaining({ code: ErrorCode.Closed }));
    }
  });
});
