import { describe, expect, it } from 'vitest';
import { OrderDeduplicator, orderUpdateKey } from '../../src/delivery/order-dedupe.js';
import { ErrorCode } from '../../src/errors.js';
import type { OrderUpdate } from '../../src/protocol/types.js';
import { order } from './multi-fake-pool.js';

const open = order('1', 'OPEN', { pending_quantity: 10, quantity: 10, price: 100 });

describe('order dedupe', () => {
  it('order dedupe - a copy from another socket or key is dropped, whatever its checksum', () => {
    const d = new OrderDeduplicator();
    expect(d.accept(open)).toBe(true);
    expect(d.accept({ ...open })).toBe(false);
    expect(d.accept({ ...open, checksum: 'other-app' })).toBe(false);
    expect(d.duplicates).toBe(2);
    expect(d.size).toBe(1);
  });

  it('order dedupe - every new state of the same order passes: fill, modify, timestamp, cancel', () => {
    const d = new OrderDeduplicator();
    expect(d.accept(open)).toBe(true);
    // A modification keeps status, fills and timestamp: only the price tells it apart.
    expect(d.accept({ ...open, price: 101 })).toBe(true);
    expect(d.accept({ ...open, price: 101, quantity: 5, pending_quantity: 5 })).toBe(true);
    expect(d.accept({ ...open, filled_quantity: 4, pending_quantity: 6 })).toBe(true);
    expect(d.accept({ ...open, exchange_update_timestamp: '2024-01-01 09:15:02' })).toBe(true);
    expect(d.accept({ ...open, status: 'CANCELLED', cancelled_quantity: 10 })).toBe(true);
    expect(d.accept({ ...open, status: 'REJECTED', status_message: 'margin' })).toBe(true);
    expect(d.duplicates).toBe(0);
  });

  it('order dedupe - an update seen again after the window is delivered again', () => {
    let now = 1_000;
    const d = new OrderDeduplicator({ windowMs: 1000, now: () => now });
    expect(d.accept(open)).toBe(true);
    now = 1_999;
    expect(d.accept(open)).toBe(false);
    now = 2_000; // the window counts from the first sighting, not the last copy
    expect(d.accept(open)).toBe(true);
    now = 5_000;
    d.accept(order('2', 'OPEN'));
    expect(d.size).toBe(1); // expired entries are forgotten, not kept until evicted
  });

  it('order dedupe - memory stays bounded, forgetting the oldest first', () => {
    const d = new OrderDeduplicator({ maxEntries: 3 });
    for (let i = 0; i < 5; i++) expect(d.accept(order(String(i), 'OPEN'))).toBe(true);
    expect(d.size).toBe(3);
    expect(d.accept(order('0', 'OPEN'))).toBe(true); // forgotten
    expect(d.accept(order('4', 'OPEN'))).toBe(false); // remembered
  });

  it('order dedupe - window 0 delivers every copy; bad options throw ERR_INVALID_ARGUMENT', () => {
    const off = new OrderDeduplicator({ windowMs: 0 });
    expect(off.accept(open)).toBe(true);
    expect(off.accept(open)).toBe(true);
    expect(off.size).toBe(0);
    for (const bad of [{ windowMs: -1 }, { windowMs: Number.NaN }, { maxEntries: 0 }, { maxEntries: 1.5 }]) {
      expect(() => new OrderDeduplicator(bad)).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
  });

  it('order dedupe - the key treats an absent field and null alike and ignores the checksum', () => {
    const bare = { order_id: '9', status: 'OPEN', filled_quantity: 0 } as OrderUpdate;
    expect(orderUpdateKey(bare)).toBe(
      orderUpdateKey({ ...bare, exchange_update_timestamp: null, checksum: 'x' }),
    );
    expect(orderUpdateKey(bare)).not.toBe(orderUpdateKey({ ...bare, filled_quantity: 1 }));
  });
});
