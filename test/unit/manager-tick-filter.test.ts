import { afterEach, describe, expect, it, vi } from 'vitest';
import { DesiredState } from '../../src/manager/desired-state.js';
import { MultiApiKiteTickerManager } from '../../src/manager/index.js';
import { ConnectionPool } from '../../src/pool/pool.js';
import type { PoolFactory } from '../../src/pool/types.js';
import type { Tick } from '../../src/protocol/types.js';
import { fakeFactory } from './manager-fake-connection.js';

const ltp = (token: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: 1,
});

/** A pool of the user's that happens to extend the library's (it could subscribe what it likes). */
class OwnPool extends ConnectionPool {}

const managers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

/** Delivers one batch (one known, one unknown token) and counts the manager's table look-ups meanwhile. */
async function lookUps(pool: (create: ReturnType<typeof fakeFactory>['create']) => PoolFactory) {
  const factory = fakeFactory();
  const manager = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'k', 't')
    .poolFactory(pool(factory.create))
    .build();
  managers.push(manager);
  await manager.start();
  await manager.subscribeSymbols([1, 2]);
  const seen: number[][] = [];
  manager.on('ticks', (ticks) => seen.push(ticks.map((t) => t.instrument_token)));
  const has = vi.spyOn(DesiredState.prototype, 'has');
  factory.made[0]!.fire('ticks', [ltp(1), ltp(99), ltp(2)]);
  const calls = has.mock.calls.length;
  has.mockRestore();
  return { calls, seen, drops: manager.getStats().unknownTokenDrops };
}

describe('manager tick filter', () => {
  it("manager - ticks from the library's own pool are filtered once (per socket), not again per tick against the table", async () => {
    const result = await lookUps(
      (create) => (apiKey, token, config, owner) => new ConnectionPool(apiKey, token, config, owner, create),
    );
    expect(result.seen).toEqual([[1, 2]]);
    expect(result.drops).toBe(1);
    expect(result.calls).toBe(0);
  });

  it('manager - ticks from any other pool (even a ConnectionPool subclass) are checked against the table', async () => {
    const result = await lookUps(
      (create) => (apiKey, token, config, owner) => new OwnPool(apiKey, token, config, owner, create),
    );
    expect(result.seen).toEqual([[1, 2]]);
    expect(result.drops).toBe(1);
    expect(result.calls).toBeGreaterThanOrEqual(2);
  });
});
