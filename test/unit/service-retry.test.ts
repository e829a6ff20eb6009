/** --service's retry of keys that could not connect: backoff, and no retry of a refused token. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryFailedKeys } from '../../src/cli/stream/service-retry.js';
import type { MultiApiKiteTickerManager } from '../../src/manager/manager.js';

afterEach(() => vi.useRealTimers());

function fake(keys: Array<{ apiKeyId: string; state: string; failureReason?: string }>) {
  const calls: Array<{ id: string; at: number }> = [];
  const manager = {
    state: 'running',
    getStats: () => ({ perApiStats: keys }),
    updateAccessToken: async (id: string) => {
      calls.push({ id, at: Date.now() });
    },
  } as unknown as MultiApiKiteTickerManager;
  return { manager, calls };
}

describe('service retry', () => {
  it('service retry - a key that failed to start is retried at 1, 2, 4 s...; a refused one is not', async () => {
    vi.useFakeTimers({ now: 0 });
    const keys = [
      { apiKeyId: 'down', state: 'failed', failureReason: 'start_failed' },
      { apiKeyId: 'refused', state: 'failed', failureReason: 'auth_failed' },
      { apiKeyId: 'ok', state: 'active' },
    ];
    const { manager, calls } = fake(keys);
    const stop = retryFailedKeys(
      manager,
      (id) => `token-of-${id}`,
      () => undefined,
    );
    await vi.advanceTimersByTimeAsync(7000);
    expect(calls.map((c) => c.id)).toEqual(['down', 'down', 'down']);
    expect(calls.map((c) => c.at)).toEqual([1000, 3000, 7000]);
    // Back up: the delay starts again from 1 s for the next failure.
    keys[0]!.state = 'active';
    await vi.advanceTimersByTimeAsync(8000);
    keys[0]!.state = 'failed';
    const before = calls.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls.length).toBe(before + 1);
    stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(calls.length).toBe(before + 1);
  });

  it("service retry - an HA instance: the held keys' managers are read each round, and the failed key is retried on its own manager", async () => {
    vi.useFakeTimers({ now: 0 });
    const held = fake([{ apiKeyId: 'held', state: 'failed', failureReason: 'start_failed' }]);
    const other = fake([{ apiKeyId: 'other', state: 'active' }]);
    let managers: MultiApiKiteTickerManager[] = [other.manager];
    const stop = retryFailedKeys(
      () => managers,
      (id) => `token-of-${id}`,
      () => undefined,
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(held.calls).toEqual([]);
    // The instance takes the key: from the next round its manager is walked too.
    managers = [other.manager, held.manager];
    await vi.advanceTimersByTimeAsync(1000);
    expect(held.calls.map((c) => c.id)).toEqual(['held']);
    expect(other.calls).toEqual([]);
    stop();
  });
});
