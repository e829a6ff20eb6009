import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { KiteTickerManager, MultiApiKiteTickerManager } from '../../src/manager/index.js';
import { ConnectionPool } from '../../src/pool/pool.js';
import { encodeTicks } from '../../src/protocol/encode.js';
import { FrameView } from '../../src/protocol/frame-view.js';
import type { Tick } from '../../src/protocol/types.js';
import { fakeFactory } from './manager-fake-connection.js';

const ltp = (token: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: 1,
});

const managers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

/** A started manager on fake connections, subscribed to tokens 1 and 2. */
async function managerOn(decodeTicks: boolean) {
  const factory = fakeFactory();
  const manager = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'k', 't')
    .rawFrames(true)
    .decodeTicks(decodeTicks)
    .poolFactory(
      (apiKey, token, config, owner) => new ConnectionPool(apiKey, token, config, owner, factory.create),
    )
    .build();
  managers.push(manager);
  await manager.start();
  await manager.subscribeSymbols([1, 2]);
  const ticks: number[][] = [];
  manager.on('ticks', (batch) => ticks.push(batch.map((t) => t.instrument_token)));
  return { manager, conn: factory.made[0]!, ticks };
}

describe('manager decodeTicks', () => {
  it('manager decodeTicks - off: the pool asks its connections for no tick objects (so a KiteTicker decodes nothing)', async () => {
    // A KiteTicker decodes a frame only when a 'ticks' listener exists (connection/ticker.ts).
    const on = await managerOn(true);
    expect(on.conn.listenerCount('ticks')).toBe(1);
    const off = await managerOn(false);
    expect(off.conn.listenerCount('ticks')).toBe(0);
    expect(off.conn.listenerCount('frame')).toBe(1);
  });

  it('manager decodeTicks - off: messages and unknown-token drops are counted as when decoding', async () => {
    const batch = [ltp(1), ltp(99), ltp(2)];
    const on = await managerOn(true);
    on.conn.fire('ticks', batch);
    const off = await managerOn(false);
    off.conn.fire('frame', new FrameView().reset(encodeTicks(batch)));
    off.conn.fire('frame', new FrameView().reset(encodeTicks([ltp(98)]))); // nothing known: no message
    expect(on.ticks).toEqual([[1, 2]]);
    expect(off.ticks).toEqual([]);
    const [a, b] = [on.manager.getStats(), off.manager.getStats()];
    expect(a.perApiStats[0]!.totalMessagesReceived).toBe(1);
    expect(b.perApiStats[0]!.totalMessagesReceived).toBe(1);
    expect(a.unknownTokenDrops).toBe(1);
    expect(b.unknownTokenDrops).toBe(2);
  });

  it('manager decodeTicks - must be a boolean, and cannot be off with latestQuotes on', () => {
    const b = () => MultiApiKiteTickerManager.builder().addApiKey('a', 'k', 't');
    expect(() => b().decodeTicks(false).latestQuotes(true).build()).toThrow(InvalidArgumentError);
    expect(() => b().decodeTicks(false).latestQuotes(true).build()).toThrow(/latestQuotes/);
    expect(() =>
      b()
        .decodeTicks('no' as unknown as boolean)
        .build(),
    ).toThrow(/decodeTicks must be a boolean/);
    expect(b().decodeTicks(false).build().state).toBe('idle');
    // The one-key face keeps latestQuotes on by default, so it must be turned off with it.
    expect(() => new KiteTickerManager('k', 't', { decodeTicks: false })).toThrow(/set latestQuotes false/);
    expect(new KiteTickerManager('k', 't', { decodeTicks: false, latestQuotes: false }).state).toBe('idle');
  });
});
