import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CapacityError } from '../../src/errors.js';
import {
  freeCapacity,
  planModeChange,
  planSubscribe,
  planUnsubscribe,
  type SlotState,
} from '../../src/pool/placement.js';
import type { Mode } from '../../src/protocol/constants.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const empty = (n: number): Map<number, Mode>[] => Array.from({ length: n }, () => new Map<number, Mode>());

function apply(slots: Map<number, Mode>[], plan: ReturnType<typeof planSubscribe>): void {
  for (const [index, entry] of plan.slots) {
    for (const t of [...entry.subscribe, ...entry.changeMode]) slots[index]!.set(t, plan.mode);
  }
}

describe('placement', () => {
  it('placement - 9000 tokens in one call fill 3 x 3000 in index order', () => {
    const plan = planSubscribe(empty(3), range(1, 9000), 'quote', 3000);
    expect(plan.added).toBe(9000);
    expect([...plan.slots.keys()]).toEqual([0, 1, 2]);
    expect(plan.slots.get(0)!.subscribe).toEqual(range(1, 3000));
    expect(plan.slots.get(1)!.subscribe).toEqual(range(3001, 3000));
    expect(plan.slots.get(2)!.subscribe).toEqual(range(6001, 3000));
  });

  it('placement - a call over capacity is a CapacityError saying how many would fit', () => {
    const slots = empty(3);
    apply(slots, planSubscribe(slots, range(1, 500), 'ltp', 3000));
    let caught: unknown;
    try {
      planSubscribe(slots, range(10_000, 10_000), 'quote', 3000);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CapacityError);
    expect((caught as CapacityError).requested).toBe(10_000);
    expect((caught as CapacityError).available).toBe(8500);
    expect((caught as CapacityError).code).toBe('ERR_CAPACITY');
  });

  it('placement - respects the cap within a single call (10000 is not 3334 per socket)', () => {
    expect(() => planSubscribe(empty(3), range(1, 10_000), 'quote', 3000)).toThrow(CapacityError);
    expect(() => planSubscribe(empty(3), range(1, 9001), 'quote', 3000)).toThrow(CapacityError);
  });

  it('placement - already subscribed tokens are not sent again; a differing mode is a mode change', () => {
    const slots = empty(3);
    apply(slots, planSubscribe(slots, [1, 2, 3], 'quote', 3000));
    const plan = planSubscribe(slots, [1, 2, 4], 'full', 3000);
    expect(plan.slots.get(0)).toEqual({ subscribe: [4], changeMode: [1, 2] });
    const same = planSubscribe(slots, [3], 'quote', 3000);
    expect(same.slots.size).toBe(0);
    expect(same.unchanged).toBe(1);
  });

  it('placement - duplicates within a call count once', () => {
    const slots = empty(1);
    const plan = planSubscribe(slots, [5, 5, 5, 6, 6], 'ltp', 2);
    expect(plan.added).toBe(2);
    expect(plan.slots.get(0)!.subscribe).toEqual([5, 6]);
  });

  it('placement - refills the lowest connection gaps first after unsubscribes', () => {
    const slots = empty(3);
    apply(slots, planSubscribe(slots, range(1, 25), 'quote', 10));
    for (const [index, list] of planUnsubscribe(slots, [2, 3, 15])) {
      for (const t of list) slots[index]!.delete(t);
    }
    const plan = planSubscribe(slots, [100, 101, 102, 103], 'quote', 10);
    expect(plan.slots.get(0)!.subscribe).toEqual([100, 101]);
    expect(plan.slots.get(1)!.subscribe).toEqual([102]);
    expect(plan.slots.get(2)!.subscribe).toEqual([103]);
  });

  it('placement - unsubscribe and mode change ignore unknown tokens', () => {
    const slots = empty(2);
    apply(slots, planSubscribe(slots, [1, 2, 3], 'quote', 2));
    expect(planUnsubscribe(slots, [3, 99, 3])).toEqual(new Map([[1, [3]]]));
    expect(planModeChange(slots, [1, 2, 3, 99], 'quote')).toEqual(new Map());
    expect(planModeChange(slots, [1, 3, 99], 'full')).toEqual(
      new Map([
        [0, [1]],
        [1, [3]],
      ]),
    );
  });

  it('placement - property: a token is never on two connections and no connection exceeds the cap', () => {
    const op = fc.record({
      kind: fc.constantFrom('sub', 'unsub', 'mode'),
      tokens: fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 30 }),
      mode: fc.constantFrom<Mode>('ltp', 'quote', 'full'),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 25 }), (ops) => {
        const slots = empty(3);
        const cap = 8;
        for (const o of ops) {
          const before = slots.map((s) => new Map(s));
          if (o.kind === 'sub') {
            try {
              apply(slots, planSubscribe(slots, o.tokens, o.mode, cap));
            } catch (error) {
              expect(error).toBeInstanceOf(CapacityError);
              expect(new Set(o.tokens.filter((t) => !before.some((s) => s.has(t)))).size).toBeGreaterThan(
                freeCapacity(before, cap),
              );
            }
          } else if (o.kind === 'unsub') {
            for (const [i, list] of planUnsubscribe(slots, o.tokens))
              for (const t of list) slots[i]!.delete(t);
          } else {
            for (const [i, list] of planModeChange(slots, o.tokens, o.mode)) {
              for (const t of list) slots[i]!.set(t, o.mode);
            }
          }
          const all = slots.flatMap((s) => [...s.keys()]);
          expect(new Set(all).size).toBe(all.length);
          for (const s of slots as SlotState[]) expect(s.size).toBeLessThanOrEqual(cap);
        }
      }),
      { numRuns: 200 },
    );
  });
});
