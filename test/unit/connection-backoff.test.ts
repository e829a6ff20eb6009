import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, baseDelay } from '../../src/connection/backoff.js';

const policy = { initialDelayMs: 500, multiplier: 2, maxDelayMs: 30_000, jitter: 'none' as const };

describe('backoff', () => {
  it('backoff - grows geometrically from the initial delay and stops at the cap', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy));
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it('backoff - a huge attempt number stays at the cap instead of overflowing', () => {
    expect(baseDelay(10_000, policy)).toBe(30_000);
    expect(backoffDelay(Number.MAX_SAFE_INTEGER, policy)).toBe(30_000);
    expect(baseDelay(5000, { initialDelayMs: 0, multiplier: 10, maxDelayMs: 100 })).toBe(0);
  });

  it('backoff - full jitter scales the computed delay by the random draw', () => {
    const full = { ...policy, jitter: 'full' as const };
    expect(backoffDelay(3, full, () => 0)).toBe(0);
    expect(backoffDelay(3, full, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, full, () => 1)).toBe(2000);
    // A misbehaving random source is clamped into [0, base].
    expect(backoffDelay(3, full, () => 7)).toBe(2000);
    expect(backoffDelay(3, full, () => -1)).toBe(0);
    expect(backoffDelay(3, full, () => Number.NaN)).toBe(0);
  });

  it('backoff - jittered delay is always within [0, min(cap, initial * multiplier^(n-1))]', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 0, max: 5000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 0, max: 120_000 }),
        (attempt, r, initialDelayMs, multiplier, maxDelayMs) => {
          const p = { initialDelayMs, multiplier, maxDelayMs, jitter: 'full' as const };
          const d = backoffDelay(attempt, p, () => r);
          const bound = Math.min(maxDelayMs, initialDelayMs * multiplier ** (attempt - 1));
          return Number.isInteger(d) && d >= 0 && d <= Math.round(bound);
        },
      ),
    );
  });
});
