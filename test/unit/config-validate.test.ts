import { describe, expect, it } from 'vitest';
import { CLI_DURATION, TIMEOUT } from '../../src/config/limits.js';
import {
  count,
  countFromText,
  duration,
  durationFromText,
  finiteNumber,
  MAX_TIMER_MS,
  timerMs,
} from '../../src/config/validate.js';
import { InvalidArgumentError } from '../../src/errors.js';

/** The error `fn` throws (undefined when it does not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function messageOf(fn: () => unknown): string {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(InvalidArgumentError);
  expect((error as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
  return (error as Error).message;
}

/** Values no option accepts, including ones whose coercion would throw. */
function hostileValues(): unknown[] {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [
    Number.NaN,
    Number.NEGATIVE_INFINITY,
    '1000',
    '',
    null,
    true,
    10n,
    Symbol('s'),
    [1000],
    { toString: 1, valueOf: 1 },
    Object.create(null),
    () => 1000,
    revoked.proxy,
    new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
      },
    ),
  ];
}

describe('config validation', () => {
  it('config - a duration accepts 2^31-1 ms and refuses 2^31, naming the option, unit and range', () => {
    expect(duration(MAX_TIMER_MS, 'connectTimeoutMs', TIMEOUT)).toBe(2 ** 31 - 1);
    const message = messageOf(() => duration(2 ** 31, 'connectTimeoutMs', TIMEOUT));
    expect(message).toBe(
      'connectTimeoutMs: expected a number of milliseconds from 100 to 2147483647, got 2147483648 (a timer holds at most 2147483647 ms, about 24.8 days)',
    );
    expect(messageOf(() => duration(3e9, 'reconnect.maxDelayMs', { min: 0 }))).toMatch(
      /^reconnect\.maxDelayMs: .* from 0 to 2147483647, got 3000000000/,
    );
    // A rule cannot raise the cap past what a timer holds.
    expect(() => duration(2 ** 31, 'x', { min: 0, max: 2 ** 40 })).toThrow(InvalidArgumentError);
  });

  it('config - a duration below its minimum is refused with the unit and the likely meant value', () => {
    expect(duration(100, 'connectionTimeout', TIMEOUT)).toBe(100);
    expect(messageOf(() => duration(30, 'connectionTimeout', TIMEOUT))).toBe(
      'connectionTimeout: expected a number of milliseconds from 100 to 2147483647, got 30 (the unit is milliseconds: did you mean 30000?)',
    );
    expect(messageOf(() => duration(0, 'livenessTimeoutMs', TIMEOUT))).toMatch(/milliseconds from 100/);
    expect(messageOf(() => duration(-5, 'x', TIMEOUT))).not.toMatch(/did you mean/);
  });

  it('config - undefined takes the default; Infinity only where a rule allows it', () => {
    expect(duration(undefined, 'x', { min: 0, default: 42 })).toBe(42);
    expect(() => duration(undefined, 'x', { min: 0 })).toThrow(InvalidArgumentError);
    expect(() => duration(Number.POSITIVE_INFINITY, 'x', { min: 0 })).toThrow(InvalidArgumentError);
    expect(duration(Number.POSITIVE_INFINITY, 'x', { min: 0, infinite: true })).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(count(Number.POSITIVE_INFINITY, 'n', { min: 0, infinite: true })).toBe(Number.POSITIVE_INFINITY);
    expect(messageOf(() => count(-1, 'n', { min: 0, infinite: true }))).toBe(
      'n: expected a whole number >= 0, or Infinity, got -1',
    );
  });

  it('config - NaN, Infinity, strings and objects are refused with the typed error and nothing else', () => {
    for (const value of hostileValues()) {
      for (const check of [
        () => duration(value, 'd', TIMEOUT),
        () => count(value, 'c', { min: 0, max: 10 }),
        () => finiteNumber(value, 'f', { min: 0 }),
      ]) {
        const message = messageOf(check);
        expect(message).toMatch(/^[dcf]: expected .* got /);
      }
    }
    expect(messageOf(() => duration('1000', 'd', TIMEOUT))).toMatch(/got "1000"$/);
    expect(messageOf(() => duration({ toString: 1 }, 'd', TIMEOUT))).toMatch(/got an object$/);
  });

  it('config - counts are whole numbers within their range', () => {
    expect(count(1_000_000, 'capacity', { min: 1, max: 1_000_000 })).toBe(1_000_000);
    expect(messageOf(() => count(1e9, 'capacity', { min: 1, max: 1_000_000 }))).toBe(
      'capacity: expected a whole number from 1 to 1000000, got 1000000000',
    );
    expect(() => count(2.5, 'n', { min: 1 })).toThrow(InvalidArgumentError);
    expect(messageOf(() => count(0, 'n', { min: 1 }))).toBe('n: expected a whole number >= 1, got 0');
  });

  it('config - text forms parse strictly and keep the one message format', () => {
    expect(durationFromText(' 1.5 ', '--duration', CLI_DURATION)).toBe(1.5);
    expect(durationFromText('2147483', '--duration', CLI_DURATION)).toBe(2_147_483);
    expect(messageOf(() => durationFromText('2500000', '--duration', CLI_DURATION))).toBe(
      '--duration: expected a number of seconds from 0.001 to 2147483, got "2500000" (a timer holds at most 2147483 s, about 24.8 days)',
    );
    expect(messageOf(() => durationFromText('', '--duration', CLI_DURATION))).toMatch(/got ""$/);
    expect(messageOf(() => durationFromText('Infinity', '--duration', CLI_DURATION))).toMatch(
      /got "Infinity"/,
    );
    expect(countFromText('42', '--n', { min: 1, max: 100 })).toBe(42);
    expect(() => countFromText('1e2', '--n', { min: 1, max: 1000 })).toThrow(InvalidArgumentError);
  });

  it('config - durations and numbers from text are plain decimals (no hex, exponent or binary)', () => {
    for (const text of ['0x10', '1e3', '0b1', '1_000', '5s', '.']) {
      expect(() => durationFromText(text, '--duration', CLI_DURATION), text).toThrow(InvalidArgumentError);
    }
    expect(messageOf(() => durationFromText('0x10', '--duration', CLI_DURATION))).toMatch(/got "0x10"/);
    expect(durationFromText('.5', '--duration', CLI_DURATION)).toBe(0.5);
    expect(durationFromText('10.', '--duration', CLI_DURATION)).toBe(10);
  });

  it('config - timerMs clamps a computed delay into what a timer holds', () => {
    expect(timerMs(3e9)).toBe(MAX_TIMER_MS);
    expect(timerMs(Number.POSITIVE_INFINITY)).toBe(MAX_TIMER_MS);
    expect(timerMs(250)).toBe(250);
    expect(timerMs(Number.NaN)).toBe(0);
    expect(timerMs(-1)).toBe(0);
  });
});
