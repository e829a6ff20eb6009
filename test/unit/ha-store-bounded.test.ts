/**
 * Every lease operation is bounded by the store itself: a request sent while the bucket's stream
 * elects a new leader may get no answer, and a poll waiting on it would take no lease meanwhile.
 */
import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { LeaseStore } from '../../src/ha/store.js';

/** A KV whose every call never settles (no answer, and no timeout from the client either). */
function silentStore(timeoutMs: number): LeaseStore {
  const never = () => new Promise<never>(() => undefined);
  const kv = { get: never, create: never, update: never, delete: never, put: never };
  const make = LeaseStore as unknown as new (bucket: string, kv: unknown, timeoutMs: number) => LeaseStore;
  return new make('KITE_HA_t', kv, timeoutMs);
}

describe('ha store bounds', () => {
  const data = new Uint8Array([1]);
  const calls: [string, (s: LeaseStore) => Promise<unknown>][] = [
    ['get', (s) => s.get('lease.a')],
    ['create', (s) => s.create('lease.a', data)],
    ['update', (s) => s.update('lease.a', data, 3)],
    ['delete', (s) => s.delete('lease.a', 3)],
    ['put', (s) => s.put('member.a', data)],
    ['remove', (s) => s.remove('member.a')],
  ];
  for (const [name, call] of calls) {
    it(`ha store - ${name} with no answer fails with a ConnectionError within two request timeouts`, async () => {
      const started = performance.now();
      await expect(call(silentStore(50))).rejects.toThrow(ConnectionError);
      const took = performance.now() - started;
      expect(took).toBeGreaterThanOrEqual(90);
      expect(took).toBeLessThan(1_000);
    }, 5_000);
  }
});

describe('ha store reads', () => {
  it('ha store - lease reads go to the stream leader, not to any replica (a lagging one answers old revisions)', async () => {
    const asked: string[] = [];
    const kv = {
      direct: true,
      get(key: string) {
        asked.push(kv.direct ? 'replica' : 'leader');
        return Promise.resolve({ key, revision: 7, operation: 'PUT', value: new Uint8Array([1]) });
      },
    };
    const make = LeaseStore as unknown as new (bucket: string, kv: unknown, timeoutMs: number) => LeaseStore;
    const store = new make('KITE_HA_t', kv, 100);
    await expect(store.get('lease.a')).resolves.toMatchObject({ revision: 7 });
    expect(asked).toEqual(['leader']);
  });
});
