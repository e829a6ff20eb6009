/**
 * Parsers for flag values. Each returns the parsed value or throws a `UsageError` naming the flag,
 * so `--duration abc` reads "--duration: expected a number of seconds, got "abc"".
 */
import { isMode, type Mode } from '../protocol/constants.js';
import { UsageError } from './exit-codes.js';

function describe(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

/** A whole number within [min, max]. */
export function parseInteger(flag: string, value: string, min: number, max: number): number {
  const trimmed = value.trim();
  const n = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

/** A finite number within [min, max] (decimals allowed). */
export function parseNumber(
  flag: string,
  value: string,
  min: number,
  max: number,
  what = 'a number',
): number {
  const trimmed = value.trim();
  const n = trimmed === '' ? Number.NaN : Number(trimmed);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected ${what} from ${min} to ${max}, got ${describe(value)}`);
  }
  return n;
}

/** A TCP port; 0 means "any free port". */
export function parsePort(flag: string, value: string): number {
  return parseInteger(flag, value, 0, 65535);
}

export function parseMode(flag: string, value: string): Mode {
  const lower = value.trim().toLowerCase();
  if (!isMode(lower)) throw new UsageError(`${flag}: expected ltp, quote or full, got ${describe(value)}`);
  return lower;
}

/** One of a fixed set of words. */
export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  const lower = value.trim().toLowerCase();
  const found = choices.find((c) => c === lower);
  if (found === undefined) {
    throw new UsageError(`${flag}: expected one of ${choices.join(', ')}, got ${describe(value)}`);
  }
  return found;
}

/** A ws:// or wss:// URL. */
export function parseWsUrl(flag: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${flag}: not a valid URL: ${describe(value)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`${flag}: expected a ws:// or wss:// URL, got ${describe(value)}`);
  }
  return value;
}

/**
 * Splits a `--symbols` list on commas only: Kite's trading symbols may contain spaces
 * (`NSE:NIFTY 50`, `NSE:NIFTY BANK`), so spaces belong to the symbol; the ends are trimmed.
 */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
