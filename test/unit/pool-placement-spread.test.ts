/**
 * placement: 'spread' puts instruments evenly over the allowed sockets (a dropped socket takes about
 * 1/N with it); 'fill' (the default, first fit) uses as few sockets as it can.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CapacityError, InvalidArgumentError } from '../../src/errors.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import { planSubscribe } from '../../src/pool/placement.js';
import type { Mode } from '../../src/protocol/constants.js';
import { fakeFactory } from './manager-fake-connection.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const empty = (n: number): Map<number, Mode>[] => Array.from({ length: n }, () => new Map<number, Mode>());
const sizes = (plan: ReturnType<typeof planSubscribe>, n: number): number[] =>
  Array.from({ length: n }, (_, i) => plan.slots.get(i)?.subscribe.length ?? 0);

const managers: KiteTickerManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

describe('placement spread', () => {
  it('placement - spread gives each socket an even share; fill fills socket 0 first', () => {
    expect(sizes(planSubscribe(empty(3), range(1, 9), 'quote', 3000, 'k', 'spread'), 3)).toEqual([3, 3, 3]);
    expect(sizes(planSubscribe(empty(3), range(1, 9), 'quote', 3000, 'k', 'fill'), 3)).toEqual([9, 0, 0]);
    expect(sizes(planSubscribe(empty(3), range(1, 10), 'quote', 3000, 'k', 'spread'), 3)).toEqual([4, 3, 3]);
  });

  it('placement - spread evens out sockets that start unequal and never exceeds the cap', () => {
    const slots = empty(3);
    for (const t of range(100, 5)) slots[0]!.set(t, 'quote');
    const plan = planSubscribe(slots, range(1, 7), 'quote', 5, 'k', 'spread');
    expect(sizes(plan, 3)).toEqual([0, 4, 3]);
    expect(() => planSubscribe(slots, range(1, 11), 'quote', 5, 'k', 'spread')).toThrow(CapacityError);
  });

  it('placement - property: spread keeps socket loads within one of each other (when below the cap)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 300 }), (n, count) => {
        const plan = planSubscribe(empty(n), range(1, count), 'ltp', 3000, 'k', 'spread');
        const loads = sizes(plan, n);
        expect(loads.reduce((a, b) => a + b, 0)).toBe(count);
        expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('manager - placement spread: a dropped socket takes a third of the instruments, under fill all of them', async () => {
    const lost: Record<string, number> = {};
    for (const placement of ['fill', 'spread'] as const) {
      const factory = fakeFactory();
      const manager = new KiteTickerManager('k', 't', {
        createConnection: factory.create,
        maxSymbolsPerConnection: 100,
        placement,
      });
      managers.push(manager);
      await manager.start();
      await manager.subscribeSymbols(range(1, 90));
      const distribution = manager.getSymbolDistribution();
      // Socket 0 drops: what it carried is what a consumer stops receiving until it is back.
      lost[placement] = distribution.get(0)?.size ?? 0;
      expect([...distribution.values()].reduce((n, m) => n + m.size, 0)).toBe(90);
    }
    expect(lost).toEqual({ fill: 90, spread: 30 });
  });

  it('manager - placement must be fill or spread', () => {
    expect(() => new KiteTickerManager('k', 't', { placement: 'even' as never })).toThrow(
      InvalidArgumentError,
    );
    expect(() => new KiteTickerManager('k', 't', { placement: 'even' as never })).toThrow(/placement/);
  });
});

describe('placement spread through the builder', () => {
  it('multi builder - placement(spread) reaches every key pool; the default is fill', async () => {
    const { MultiApiKiteTickerManager } = await import('../../src/manager/index.js');
    const { fakeFactory: fakePools } = await import('./multi-fake-pool.js');
    const spread = fakePools();
    MultiApiKiteTickerManager.builder()
      .addApiKey('a', 'k1', 't')
      .placement('spread')
      .poolFactory(spread.factory)
      .build();
    expect(spread.pools.get('k1')!.config.placement).toBe('spread');
    const fill = fakePools();
    MultiApiKiteTickerManager.builder().addApiKey('a', 'k1', 't').poolFactory(fill.factory).build();
    expect(fill.pools.get('k1')!.config.placement).toBe('fill');
  });
});
