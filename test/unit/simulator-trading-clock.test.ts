import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { formatIst, parseIst, TradingClock } from '../../src/simulator/trading-clock.js';

/** Epoch ms of an IST wall-clock time. */
const ist = (text: string): number => parseIst(text);

describe('simulator trading clock', () => {
  it('simulator trading clock - the next expiry is the next 06:00 IST, fixed +05:30', () => {
    const clock = new TradingClock({ startAt: ist('2026-03-02 09:15:00') });
    expect(formatIst(clock.nextExpiry(ist('2026-03-02 09:15:00')))).toBe('2026-03-03 06:00:00');
    expect(formatIst(clock.nextExpiry(ist('2026-03-03 05:59:59')))).toBe('2026-03-03 06:00:00');
    // Exactly at the moment: the next one (a token set at 06:00 lives a day).
    expect(formatIst(clock.nextExpiry(ist('2026-03-03 06:00:00')))).toBe('2026-03-04 06:00:00');
    // Late evening IST is still the previous UTC day for a while: the offset is applied.
    expect(formatIst(clock.nextExpiry(ist('2026-03-03 23:50:00')))).toBe('2026-03-04 06:00:00');
    // No daylight saving: the same offset in any season.
    expect(new Date(clock.nextExpiry(ist('2026-07-01 12:00:00'))).toISOString()).toBe(
      '2026-07-02T00:30:00.000Z',
    );
  });

  it('simulator trading clock - a configured expiry time and an accelerated clock', () => {
    let real = 1_000_000;
    const clock = new TradingClock(
      { expiresAt: '15:30', speed: 3600, startAt: ist('2026-03-02 09:00:00') },
      () => real,
    );
    expect(formatIst(clock.now())).toBe('2026-03-02 09:00:00');
    real += 1000; // one real second = one simulated hour
    expect(formatIst(clock.now())).toBe('2026-03-02 10:00:00');
    const due = clock.nextExpiry(clock.now());
    expect(formatIst(due)).toBe('2026-03-02 15:30:00');
    expect(clock.realDelayUntil(due)).toBe(5500);
  });

  it('simulator trading clock - bad options are InvalidArgumentError with the option named', () => {
    expect(() => new TradingClock({ expiresAt: '6:00' })).toThrow(/tradingClock.expiresAt/);
    expect(() => new TradingClock({ expiresAt: '24:00' })).toThrow(InvalidArgumentError);
    expect(() => new TradingClock({ expiresAt: { toString: () => '06:00' } as never })).toThrow(
      /got an object/,
    );
    expect(() => new TradingClock({ speed: 0 })).toThrow(/tradingClock.speed/);
    expect(() => new TradingClock({ speed: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => new TradingClock({ speed: 1e9 })).toThrow(/tradingClock.speed/);
    expect(() => new TradingClock({ requestTokenTtlMs: 3e9 })).toThrow(/requestTokenTtlMs/);
    expect(() => new TradingClock({ startAt: -1 })).toThrow(/startAt/);
  });

  it('simulator trading clock - start() calls back at each expiry moment', async () => {
    // One simulated minute per real ms: a day is 1.44 s, and the first expiry (06:00) is 360 ms after
    // the start (midnight), so start() is called well before it. Each call names its expiry moment, so
    // a timer that fires late on a busy machine still reports the right day.
    const clock = new TradingClock({ speed: 60_000, startAt: ist('2026-03-02 00:00:00') });
    const at: string[] = [];
    clock.start((moment) => at.push(formatIst(moment).slice(0, 10)));
    const end = Date.now() + 6000;
    while (at.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    clock.stop();
    expect(at.length).toBeGreaterThanOrEqual(2);
    expect(at[0]).toBe('2026-03-02');
    expect(at[1]).toBe('2026-03-03');
  });
});
