/**
 * Listing bucket keys is a consumer, not a request: nothing times it out but the store. A listing
 * that never ends (writes keep arriving, no idle heartbeat) must fail the poll step in bounded time and
 * stop its consumer, or the poll waits on it and takes no lease.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { LeaseStore } from '../../src/ha/store.js';

/** An iterator like the KV's key listing: yields `keys`, then (with `end`) ends or waits until stopped. */
function listing(keys: string[], end: boolean) {
  let stopped = false;
  let wake: (() => void) | undefined;
  return {
    get stopped() {
      return stopped;
    },
    stop() {
      stopped = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      yield* keys;
      if (end) return;
      while (!stopped) await new Promise<void>((r) => (wake = r));
    },
  };
}

function storeOver(keys: ReturnType<typeof listing>, timeoutMs: number): LeaseStore {
  const kv = { keys: async () => keys };
  const make = LeaseStore as unknown as new (bucket: string, kv: unknown, timeoutMs: number) => LeaseStore;
  return new make('KITE_HA_t', kv, timeoutMs);
}

describe('ha store listing', () => {
  it('ha store - a key listing that never ends fails within its bound and stops its consumer', async () => {
    const keys = listing(['member.a', 'member.b'], false);
    const started = performance.now();
    await expect(storeOver(keys, 100).keysUnder('member')).rejects.toThrow(ConnectionError);
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(390);
    expect(took).toBeLessThan(2_000);
    expect(keys.stopped).toBe(true);
  });

  it('ha store - a listing that ends returns each key once', async () => {
    const keys = listing(['member.a', 'member.b', 'member.a'], true);
    await expect(storeOver(keys, 100).keysUnder('member')).resolves.toEqual(['member.a', 'member.b']);
    expect(keys.stopped).toBe(false);
  });
});
