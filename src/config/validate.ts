/**
 * The one place where option values are checked: durations, counts and plain numbers, for the
 * library's options, the simulator's and the CLI's flags alike. Pure. Every failure is an
 * `InvalidArgumentError` with one message format,
 *
 *   <name>: expected <what> <range>, got <value>[ (<hint>)]
 *
 * e.g. `connectionTimeout: expected a number of milliseconds from 100 to 2147483647, got 30 (the unit
 * is milliseconds: did you mean 30000?)`. Durations are capped at what a Node timer holds: Node fires a
 * longer timer after 1 ms, so an accepted 3e9 would silently mean "now".
 * Nothing here coerces its input (no `valueOf`/`toString` calls), so no value can throw anything but
 * the typed error.
 */
import { InvalidArgumentError } from '../errors.js';

/** The longest delay a Node timer holds (2^31-1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2_147_483_647;
/** The same, in whole seconds (for flags given in seconds). */
export const MAX_TIMER_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

export type DurationUnit = 'milliseconds' | 'seconds';

export interface DurationRule {
  /** Smallest accepted value, in `unit`. Below it a value is most likely in the wrong unit. */
  min: number;
  /** Largest accepted value, in `unit`. Default (and at most) what a timer holds. */
  max?: number;
  /** Default 'milliseconds'. */
  unit?: DurationUnit;
  /** Also accept Infinity (meaning "never"); only for values that never reach a timer. */
  infinite?: boolean;
  /** Returned for `undefined`. Without it, `undefined` is refused. */
  default?: number;
}

export interface CountRule {
  min: number;
  /** Default Number.MAX_SAFE_INTEGER. */
  max?: number;
  /** Also accept Infinity ("no limit"). */
  infinite?: boolean;
  default?: number;
}

export interface NumberRule {
  /** Inclusive lower bound. */
  min?: number;
  /** Exclusive lower bound ("greater than"). */
  above?: number;
  /** Inclusive upper bound. */
  max?: number;
  /** What the number is, for the message: 'ticks per second'. Default 'a number'. */
  what?: string;
  default?: number;
}

/**
 * A duration in `rule.unit` (milliseconds unless told), decimals allowed, within
 * [rule.min, min(rule.max, what a timer holds)]. Returns it unchanged, in the same unit.
 */
export function duration(value: unknown, name: string, rule: DurationRule): number {
  if (value === undefined && rule.default !== undefined) return rule.default;
  return checkDuration(value, name, rule, describe(value));
}

/** A whole number within [rule.min, rule.max] (or Infinity when `rule.infinite`). */
export function count(value: unknown, name: string, rule: CountRule): number {
  if (value === undefined && rule.default !== undefined) return rule.default;
  return checkCount(value, name, rule, describe(value));
}

/** A finite number within the rule's bounds (rates, factors). */
export function finiteNumber(value: unknown, name: string, rule: NumberRule): number {
  if (value === undefined && rule.default !== undefined) return rule.default;
  return checkNumber(value, name, rule, describe(value));
}

/** `duration` for text (a CLI flag, an environment variable): plain decimal syntax, same rule. */
export function durationFromText(text: string, name: string, rule: DurationRule): number {
  return checkDuration(numberFromText(text), name, rule, describeText(text));
}

/** `count` for text: digits only (no "1e3", no "4.5"). */
export function countFromText(text: string, name: string, rule: CountRule): number {
  const trimmed = text.trim();
  const n = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  return checkCount(n, name, rule, describeText(text));
}

/** `finiteNumber` for text. */
export function finiteNumberFromText(text: string, name: string, rule: NumberRule): number {
  return checkNumber(numberFromText(text), name, rule, describeText(text));
}

/** Clamps a computed delay (backoff, a random gap, a replay pause) into what a timer holds. */
export function timerMs(ms: number): number {
  if (!(ms > 0)) return 0; // NaN and negatives: fire at once rather than never.
  return Math.min(ms, MAX_TIMER_MS);
}

// ---------------------------------------------------------------- internals

function checkDuration(value: unknown, name: string, rule: DurationRule, got: string): number {
  const unit = rule.unit ?? 'milliseconds';
  const cap = unit === 'seconds' ? MAX_TIMER_SECONDS : MAX_TIMER_MS;
  const max = Math.min(rule.max ?? cap, cap);
  const ok =
    typeof value === 'number' &&
    ((Number.isFinite(value) && value >= rule.min && value <= max) ||
      (rule.infinite === true && value === Number.POSITIVE_INFINITY));
  if (ok) return value;
  let hint: string | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) {
    if (value > cap) {
      hint = `a timer holds at most ${cap} ${unit === 'seconds' ? 's' : 'ms'}, about 24.8 days`;
    } else if (unit === 'milliseconds' && value > 0 && value < rule.min && value * 1000 <= max) {
      hint = `the unit is milliseconds: did you mean ${value * 1000}?`;
    }
  }
  const range = `${fromTo(rule.min, max)}${rule.infinite ? ', or Infinity' : ''}`;
  throw fail(name, `a number of ${unit}`, range, got, hint);
}

function checkCount(value: unknown, name: string, rule: CountRule, got: string): number {
  const max = rule.max ?? Number.MAX_SAFE_INTEGER;
  const ok =
    typeof value === 'number' &&
    ((Number.isSafeInteger(value) && value >= rule.min && value <= max) ||
      (rule.infinite === true && value === Number.POSITIVE_INFINITY));
  if (ok) return value;
  const range = max >= Number.MAX_SAFE_INTEGER ? `>= ${rule.min}` : `from ${rule.min} to ${max}`;
  throw fail(name, 'a whole number', `${range}${rule.infinite ? ', or Infinity' : ''}`, got);
}

function checkNumber(value: unknown, name: string, rule: NumberRule, got: string): number {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (rule.min === undefined || value >= rule.min) &&
    (rule.above === undefined || value > rule.above) &&
    (rule.max === undefined || value <= rule.max);
  if (ok) return value;
  const parts: string[] = [];
  if (rule.above !== undefined) parts.push(`greater than ${rule.above}`);
  if (rule.min !== undefined && rule.max !== undefined) parts.push(fromTo(rule.min, rule.max));
  else if (rule.min !== undefined) parts.push(`>= ${rule.min}`);
  else if (rule.max !== undefined) parts.push(`at most ${rule.max}`);
  throw fail(name, rule.what ?? 'a number', parts.join(' and '), got);
}

function fromTo(min: number, max: number): string {
  return `from ${min} to ${max}`;
}

function fail(name: string, what: string, range: string, got: string, hint?: string): InvalidArgumentError {
  const tail = hint === undefined ? '' : ` (${hint})`;
  return new InvalidArgumentError(`${name}: expected ${what} ${range}, got ${got}${tail}`);
}

/** Number() of trimmed text; empty text is NaN (Number('') would be 0). */
/**
 * Plain decimals only ("5", "0.5", ".5", "-1.25"): Number() would also take "0x10", "1e3", "0b1" and
 * "Infinity", which a flag taking whole numbers rejects; one syntax for every numeric flag.
 */
function numberFromText(text: string): number {
  const trimmed = typeof text === 'string' ? text.trim() : '';
  return /^[+-]?(?:\d+\.?\d*|\.\d+)$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

function describeText(text: unknown): string {
  if (typeof text !== 'string') return describe(text);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/** Names a value without calling anything on it: no toString/valueOf, no proxy traps that can throw. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return describeText(value);
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return String(value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      if (value === null) return 'null';
      try {
        return Array.isArray(value) ? 'an array' : 'an object';
      } catch {
        return 'an object'; // a revoked Proxy
      }
  }
}
