/**
 * The order de-duplicator against what a hostile server can put in an order: any JSON value in any
 * field, nesting, megabyte strings. It must never throw, must keep telling different updates apart, and
 * must hold a bounded number of bytes however large the updates are, forgetting them on time even when
 * no further order arrives.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MAX_ORDER_DEDUPE_ENTRIES,
  OrderDeduplicator,
  orderUpdateKey,
} from '../../src/delivery/order-dedupe.js';
import { ErrorCode } from '../../src/errors.js';
import type { OrderUpdate } from '../../src/protocol/types.js';

const KEY_FIELDS = [
  'order_id',
  'status',
  'filled_quantity',
  'pending_quantity',
  'cancelled_quantity',
  'quantity',
  'price',
  'trigger_price',
  'average_price',
  'exchange_update_timestamp',
  'status_message',
];

const asOrder = (fields: Record<string, unknown>): OrderUpdate =>
  ({ order_id: '1', ...fields }) as OrderUpdate;

function nested(depth: number): unknown {
  let value: unknown = 'core';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { a: value };
  return value;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('order dedupe (hostile input)', () => {
  it('order dedupe - {"toString":1} as a status (the 64-byte killer) neither throws nor merges updates', () => {
    const d = new OrderDeduplicator();
    const killer = JSON.parse('{"order_id":"1","status":{"toString":1}}') as OrderUpdate;
    expect(d.accept(killer)).toBe(true);
    expect(d.accept(JSON.parse('{"order_id":"1","status":{"toString":1}}') as OrderUpdate)).toBe(false);
    expect(d.accept(asOrder({ status: { toString: 2 } }))).toBe(true);
    expect(d.duplicates).toBe(1);
  });

  it('order dedupe - any JSON value in any key field never throws, and copies are still recognised', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KEY_FIELDS),
        fc.jsonValue({ maxDepth: 6 }),
        fc.jsonValue({ maxDepth: 6 }),
        (field, a, b) => {
          const d = new OrderDeduplicator();
          // Through JSON, as from the wire (so -0 and undefined become what a server can send).
          const first = JSON.parse(JSON.stringify({ order_id: 'x', [field]: a })) as OrderUpdate;
          const copy = JSON.parse(JSON.stringify(first)) as OrderUpdate;
          const other = JSON.parse(JSON.stringify({ order_id: 'x', [field]: b })) as OrderUpdate;
          expect(d.accept(first)).toBe(true);
          expect(d.accept(copy)).toBe(false);
          // A different value is a different update (equal JSON text: the same one).
          expect(d.accept(other)).toBe(JSON.stringify(first) !== JSON.stringify(other));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('order dedupe - values that differ only by type or by a separator stay distinct', () => {
    const keys = [
      asOrder({ price: 100 }),
      asOrder({ price: '100' }),
      asOrder({ price: [100] }),
      asOrder({ price: { 0: 100 } }),
      asOrder({ price: true }),
      asOrder({ price: 'true' }),
      asOrder({ status: 'a|b', status_message: 'c' }),
      asOrder({ status: 'a', status_message: 'b|c' }),
      asOrder({ status: 's1:a', status_message: '' }),
      asOrder({ status: '', status_message: 's1:a' }),
    ].map(orderUpdateKey);
    expect(new Set(keys).size).toBe(keys.length);
    // Absent and null stay equal, as documented.
    expect(orderUpdateKey(asOrder({}))).toBe(orderUpdateKey(asOrder({ price: null })));
  });

  it('order dedupe - 10,000-level nesting in a field neither throws nor overflows the stack', () => {
    const d = new OrderDeduplicator();
    const deep = JSON.parse(`{"order_id":"1","status":${'['.repeat(10_000)}${']'.repeat(10_000)}}`);
    expect(() => orderUpdateKey(deep as OrderUpdate)).not.toThrow();
    expect(d.accept(deep as OrderUpdate)).toBe(true);
    expect(d.accept(asOrder({ meta: nested(10_000), status_message: nested(20_000) }))).toBe(true);
  });

  it('order dedupe - an update that cannot even be read is delivered and counted, never thrown', () => {
    const d = new OrderDeduplicator();
    const hostile = asOrder({});
    Object.defineProperty(hostile, 'status', {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    expect(d.accept(hostile)).toBe(true);
    expect(d.accept(hostile)).toBe(true);
    expect(d.unkeyable).toBe(2);
    expect(d.size).toBe(0);
  });

  it('order dedupe - keys are fixed-size digests, whatever the size of the fields', () => {
    const mb = 'm'.repeat(1 << 20);
    const lengths = new Set<number>();
    for (const fields of [{}, { status_message: mb }, { order_id: mb, status: mb, price: [mb, mb] }]) {
      lengths.add(orderUpdateKey(asOrder(fields)).length);
    }
    expect([...lengths]).toEqual([43]);
  });

  it('order dedupe - 300 updates with a unique 1 MB status_message retain a few kilobytes, not 300 MB', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const d = new OrderDeduplicator();
    const bytes = Buffer.alloc(1 << 20, 'x');
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 300; i++) {
      // A flat string of its own, as JSON.parse would hand it over: one private megabyte per update.
      bytes.write(`${i}:`);
      const message = bytes.toString('latin1');
      expect(d.accept(asOrder({ order_id: String(i), status_message: message }))).toBe(true);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    expect(d.size).toBe(300);
    expect(grown).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);

  it('order dedupe - entries expire on a timer, without another order arriving', () => {
    vi.useFakeTimers();
    const d = new OrderDeduplicator({ windowMs: 1000 });
    for (let i = 0; i < 5; i++) d.accept(asOrder({ order_id: String(i) }));
    vi.advanceTimersByTime(500);
    d.accept(asOrder({ order_id: 'late' }));
    expect(d.size).toBe(6);
    vi.advanceTimersByTime(500);
    expect(d.size).toBe(1); // the first five, not the late one
    vi.advanceTimersByTime(500);
    expect(d.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // an empty table holds no timer
  });

  it('order dedupe - the expiry timer never keeps the process alive, and clear() stops it', () => {
    vi.useFakeTimers();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const d = new OrderDeduplicator({ windowMs: 10_000 });
    d.accept(asOrder({}));
    const timer = spy.mock.results.at(-1)?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    d.clear();
    expect(vi.getTimerCount()).toBe(0);
    spy.mockRestore();
  });

  it('order dedupe - a window beyond what a timer holds is re-armed, not fired at once; Infinity arms nothing', () => {
    vi.useFakeTimers();
    const d = new OrderDeduplicator({ windowMs: 3e9 });
    d.accept(asOrder({}));
    vi.advanceTimersByTime(2_147_483_647);
    expect(d.size).toBe(1);
    vi.advanceTimersByTime(3e9 - 2_147_483_647);
    expect(d.size).toBe(0);
    const forever = new OrderDeduplicator({ windowMs: Number.POSITIVE_INFINITY });
    forever.accept(asOrder({}));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('order dedupe - maxEntries is capped so the table stays bounded in bytes', () => {
    expect(() => new OrderDeduplicator({ maxEntries: MAX_ORDER_DEDUPE_ENTRIES + 1 })).toThrow(
      expect.objectContaining({ code: ErrorCode.InvalidArgument }),
    );
    expect(new OrderDeduplicator({ maxEntries: MAX_ORDER_DEDUPE_ENTRIES }).maxEntries).toBe(
      MAX_ORDER_DEDUPE_ENTRIES,
    );
  });
});
