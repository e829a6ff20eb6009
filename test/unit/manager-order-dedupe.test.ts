import { describe, expect, it } from 'vitest';
import { OrderDeduplicator } from '../../src/manager/order-dedupe.js';
import type { OrderUpdate } from '../../src/protocol/types.js';

const order = (
  id: string,
  status = 'OPEN',
  filled = 0,
  ts: string | null = '2024-01-01 09:15:00',
): OrderUpdate =>
  ({ order_id: id, status, filled_quantity: filled, exchange_update_timestamp: ts }) as OrderUpdate;

describe('order dedupe', () => {
  it('order dedupe - drops repeats and passes new states of the same order', () => {
    const d = new OrderDeduplicator();
    expect(d.accept(order('a'))).toBe(true);
    expect(d.accept(order('a'))).toBe(false);
    expect(d.accept(order('a', 'OPEN', 5))).toBe(true);
    expect(d.accept(order('a', 'COMPLETE', 5))).toBe(true);
    expect(d.accept(order('a', 'COMPLETE', 5, '2024-01-01 09:15:01'))).toBe(true);
    expect(d.accept(order('a', 'COMPLETE', 5, null))).toBe(true);
    expect(d.accept(order('a', 'COMPLETE', 5, null))).toBe(false);
  });

  it('order dedupe - stays bounded, forgetting the least recently seen', () => {
    const d = new OrderDeduplicator(3);
    for (const id of ['1', '2', '3']) d.accept(order(id));
    expect(d.accept(order('1'))).toBe(false); // refreshes 1
    d.accept(order('4')); // evicts 2
    expect(d.size).toBe(3);
    expect(d.accept(order('1'))).toBe(false);
    expect(d.accept(order('2'))).toBe(true);
  });
});
