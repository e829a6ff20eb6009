import { afterEach, describe, expect, it } from 'vitest';
import { KiteTickerManager, MultiApiKiteTickerManager } from '../../src/manager/index.js';
import { ConnectionPool } from '../../src/pool/pool.js';
import type { Tick } from '../../src/protocol/types.js';
import { fakeFactory } from './manager-fake-connection.js';

const ltp = (token: number, price: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: price,
});

const managers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

async function deliver(
  manager: KiteTickerManager | MultiApiKiteTickerManager,
  made: { fire: (e: 'ticks', t: Tick[]) => void }[],
) {
  await manager.start();
  await manager.subscribeSymbols([1]);
  const seen: number[] = [];
  manager.on('ticks', (ticks) => seen.push(ticks.length));
  made[0]!.fire('ticks', [ltp(1, 10)]);
  return seen;
}

describe('manager latestQuotes option', () => {
  it('manager - latestQuotes: false delivers ticks but keeps no quote', async () => {
    const factory = fakeFactory();
    const manager = new KiteTickerManager('k', 't', {
      createConnection: factory.create,
      latestQuotes: false,
    });
    managers.push(manager);
    expect(await deliver(manager, factory.made)).toEqual([1]);
    expect(manager.latestQuotes.has(1)).toBe(false);
  });

  it('manager - latestQuotes defaults to on and rejects a non-boolean', async () => {
    const factory = fakeFactory();
    const manager = new KiteTickerManager('k', 't', { createConnection: factory.create });
    managers.push(manager);
    await deliver(manager, factory.made);
    expect(manager.latestQuotes.get(1)?.last_price).toBe(10);
    expect(() => new KiteTickerManager('k', 't', { latestQuotes: 'yes' as never })).toThrow(/latestQuotes/);
  });

  it('manager - the multi-key manager keeps no quote table by default (nothing reads it)', async () => {
    const factory = fakeFactory();
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k', 't')
      .poolFactory(
        (apiKey, token, config, owner) => new ConnectionPool(apiKey, token, config, owner, factory.create),
      )
      .build();
    managers.push(manager);
    expect(await deliver(manager, factory.made)).toEqual([1]);
    expect(manager.latestQuotes.has(1)).toBe(false);
  });
});
