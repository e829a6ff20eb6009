import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CapacityError } from '../../src/errors.js';
import { silentLogger } from '../../src/logger.js';
import type { Mode } from '../../src/protocol/constants.js';
import { Interest } from '../../src/relay/interest.js';
import { Upstream, type UpstreamManager } from '../../src/relay/upstream.js';

/** A manager that records calls and holds token -> mode like the real one (all-or-nothing capacity). */
function fakeManager(capacity = Number.POSITIVE_INFINITY) {
  const held = new Map<number, Mode>();
  const calls: string[] = [];
  const m: UpstreamManager = {
    async subscribeSymbols(tokens, mode) {
      const fresh = tokens.filter((t) => !held.has(t));
      if (held.size + fresh.length > capacity)
        throw new CapacityError(fresh.length, capacity - held.size, 'test');
      calls.push(`sub ${mode} ${tokens.join(',')}`);
      for (const t of tokens) held.set(t, mode!);
    },
    async unsubscribeSymbols(tokens) {
      calls.push(`unsub ${tokens.join(',')}`);
      for (const t of tokens) held.delete(t);
    },
    async changeMode(tokens, mode) {
      calls.push(`mode ${mode} ${tokens.join(',')}`);
      for (const t of tokens) if (held.has(t)) held.set(t, mode);
    },
  };
  return { m, held, calls };
}

function setup(lingerMs = 5000, capacity?: number) {
  const f = fakeManager(capacity);
  const interest = new Interest<string>();
  const refused: Array<[readonly number[], Error]> = [];
  const up = new Upstream(
    f.m,
    { wanted: (t) => interest.max(t), refused: (t, e) => refused.push([t, e]) },
    lingerMs,
    silentLogger,
  );
  return { ...f, interest, up, refused };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('relay upstream reference counting', () => {
  it('relay upstream - holds the union once, at the highest mode any client wants', async () => {
    const { interest, up, held, calls } = setup();
    interest.set(1, 'a', 0);
    interest.set(2, 'a', 0);
    await up.sync([1, 2]);
    interest.set(2, 'b', 2);
    interest.set(3, 'b', 1);
    await up.sync([2, 3]);
    expect(held).toEqual(
      new Map<number, Mode>([
        [1, 'ltp'],
        [2, 'full'],
        [3, 'quote'],
      ]),
    );
    expect(calls).toEqual(['sub ltp 1,2', 'sub quote 3', 'mode full 2']);
  });

  it('relay upstream - the last client leaving unsubscribes only after the linger', async () => {
    const { interest, up, held, calls } = setup(5000);
    interest.set(1, 'a', 1);
    interest.set(1, 'b', 1);
    await up.sync([1]);
    interest.delete(1, 'a');
    await up.sync([1]);
    interest.delete(1, 'b');
    await up.sync([1]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(held.has(1)).toBe(true);
    expect(up.lingering).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await up.idle();
    expect(held.has(1)).toBe(false);
    expect(calls).toEqual(['sub quote 1', 'unsub 1']);
  });

  it('relay upstream - a client coming back within the linger costs the upstream nothing', async () => {
    const { interest, up, calls } = setup(5000);
    interest.set(1, 'a', 1);
    await up.sync([1]);
    interest.delete(1, 'a');
    await up.sync([1]);
    await vi.advanceTimersByTimeAsync(3000);
    interest.set(1, 'a2', 1);
    await up.sync([1]);
    await vi.advanceTimersByTimeAsync(10_000);
    await up.idle();
    expect(calls).toEqual(['sub quote 1']);
    expect(up.lingering).toBe(0);
  });

  it('relay upstream - when the highest mode wanted drops, the upstream mode drops after the linger', async () => {
    const { interest, up, held } = setup(1000);
    interest.set(1, 'a', 0);
    interest.set(1, 'b', 2);
    await up.sync([1]);
    expect(held.get(1)).toBe('full');
    interest.delete(1, 'b');
    await up.sync([1]);
    expect(held.get(1)).toBe('full');
    await vi.advanceTimersByTimeAsync(1000);
    await up.idle();
    expect(held.get(1)).toBe('ltp');
  });

  it('relay upstream - linger 0 drops at once', async () => {
    const { interest, up, held } = setup(0);
    interest.set(1, 'a', 1);
    await up.sync([1]);
    interest.delete(1, 'a');
    await up.sync([1]);
    expect(held.size).toBe(0);
  });

  it('relay upstream - a refused subscribe is handed back and nothing of it is held', async () => {
    const { interest, up, held, refused } = setup(5000, 2);
    interest.set(1, 'a', 1);
    await up.sync([1]);
    interest.set(2, 'b', 1);
    interest.set(3, 'b', 1);
    await up.sync([2, 3]);
    expect(refused).toHaveLength(1);
    expect(refused[0]![0]).toEqual([2, 3]);
    expect(refused[0]![1]).toBeInstanceOf(CapacityError);
    expect([...held.keys()]).toEqual([1]);
    expect(up.size).toBe(1);
  });
});
