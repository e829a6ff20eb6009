import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DesiredState } from '../../src/manager/desired-state.js';
import { assignBalanced, type KeyLoad, planFailover, planRoundRobin } from '../../src/manager/plan.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const sizes = (m: Map<string, number[]>): Record<string, number> =>
  Object.fromEntries([...m].map(([k, v]) => [k, v.length]));

describe('multi plan', () => {
  it('multi plan - round-robin interleaves equal keys in the order they were added', () => {
    const keys: KeyLoad[] = [
      { id: 'a', load: 0, free: 10 },
      { id: 'b', load: 0, free: 10 },
      { id: 'c', load: 0, free: 10 },
    ];
    const plan = planRoundRobin([1, 2, 3, 4, 5], keys);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.assignment.get('a')).toEqual([1, 4]);
    expect(plan.assignment.get('b')).toEqual([2, 5]);
    expect(plan.assignment.get('c')).toEqual([3]);
  });

  it('multi plan - round-robin fills the least-loaded key first and respects free capacity', () => {
    const keys: KeyLoad[] = [
      { id: 'a', load: 8, free: 2 },
      { id: 'b', load: 0, free: 3 },
      { id: 'c', load: 2, free: 100 },
    ];
    const plan = planRoundRobin(range(1, 10), keys);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    // b takes its 3 (it is lowest until full), c evens up with a, then a and c share.
    const got = sizes(plan.assignment);
    expect(got.b).toBe(3);
    expect((got.a ?? 0) + got.b! + got.c!).toBe(10);
    expect(got.a ?? 0).toBeLessThanOrEqual(2);
  });

  it('multi plan - round-robin is all-or-nothing when capacity is short', () => {
    const plan = planRoundRobin(range(1, 7), [
      { id: 'a', load: 0, free: 3 },
      { id: 'b', load: 0, free: 3 },
    ]);
    expect(plan).toEqual({ ok: false, requested: 7, available: 6 });
  });

  it('multi plan - property: every token placed exactly once, no key over capacity, loads balanced', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ load: fc.nat(50), free: fc.nat(50) }), { minLength: 1, maxLength: 5 }),
        fc.nat(120),
        (raw, count) => {
          const keys = raw.map((k, i) => ({ id: `k${i}`, ...k }));
          const tokens = range(1000, count);
          const { assignment, rest } = assignBalanced(tokens, keys);
          const placed = [...assignment.values()].flat();
          expect([...placed, ...rest].sort((x, y) => x - y)).toEqual(tokens);
          const total = keys.reduce((s, k) => s + k.free, 0);
          expect(rest.length).toBe(Math.max(0, count - total));
          for (const key of keys) {
            expect(assignment.get(key.id)?.length ?? 0).toBeLessThanOrEqual(key.free);
          }
          // Balance: a key left with room never ends more than one above another key that received tokens.
          const final = keys.map((k) => ({ ...k, end: k.load + (assignment.get(k.id)?.length ?? 0) }));
          for (const got of final) {
            if ((assignment.get(got.id)?.length ?? 0) === 0) continue;
            for (const other of final) {
              const otherFull = (assignment.get(other.id)?.length ?? 0) >= other.free;
              if (!otherFull) expect(got.end).toBeLessThanOrEqual(other.end + 1);
            }
          }
        },
      ),
    );
  });

  it('multi plan - failover moves what fits and returns the rest as unplaced', () => {
    const plan = planFailover(range(1, 10), [
      { id: 'b', load: 5, free: 3 },
      { id: 'c', load: 5, free: 4 },
    ]);
    expect(sizes(plan.moved)).toEqual({ b: 3, c: 4 });
    expect(plan.unplaced).toEqual([8, 9, 10]);
  });

  it('multi plan - failover with no survivors leaves everything unplaced', () => {
    expect(planFailover([7, 8], [])).toEqual({ moved: new Map(), unplaced: [7, 8] });
  });
});

describe('multi desired state', () => {
  it('multi desired state - tracks owner, mode, per-key counts and unplaced tokens', () => {
    const state = new DesiredState();
    state.set(1, 'a', 'quote');
    state.set(2, 'a', 'full');
    state.set(3, 'b', 'ltp');
    expect(state.countOf('a')).toBe(2);
    state.set(2, 'b', 'full'); // a move
    expect(state.countOf('a')).toBe(1);
    expect([...state.ofKey('b')]).toEqual([
      [3, 'ltp'],
      [2, 'full'],
    ]);
    state.set(1, undefined, 'quote');
    expect(state.unplacedCount).toBe(1);
    expect(state.countOf('a')).toBe(0);
    state.setMode(1, 'full');
    expect(state.unplaced().get(1)).toBe('full');
    expect(state.delete(1)).toBe(true);
    expect(state.unplacedCount).toBe(0);
    expect(state.size).toBe(2);
  });
});
