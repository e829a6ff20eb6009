/**
 * Parsers for flag values. Each returns the parsed value or throws a `UsageError` naming the flag,
 * so `--duration abc` reads "--duration: expected a number of seconds from 0.001 to 2147483, got "abc"".
 * Numbers go through the library's one validation module (src/config/validate.ts): same ranges, same
 * message format as the options they feed.
 */
import { CLI_DURATION } from '../config/limits.js';
import { countFromText, describe, durationFromText, finiteNumberFromText } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { isMode, type Mode } from '../protocol/constants.js';
import { redact } from '../redact.js';
import { UsageError } from './exit-codes.js';

/** The module's InvalidArgumentError, as the CLI's usage error (exit code 2), same message. */
function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/**
 * A URL in an error message: whole (truncating could cut a token in two, and half a token escapes
 * redaction), with its password and secret parameters masked.
 */
function describeUrl(value: string): string {
  return JSON.stringify(redact(value));
}

/** A whole number within [min, max]. */
export function parseInteger(flag: string, value: string, min: number, max: number): number {
  return asUsage(() => countFromText(value, flag, { min, max }));
}

/** A finite number within [min, max] (decimals allowed). */
export function parseNumber(
  flag: string,
  value: string,
  min: number,
  max: number,
  what = 'a number',
): number {
  return asUsage(() => finiteNumberFromText(value, flag, { min, max, what }));
}

/**
 * A duration given in seconds (decimals allowed, 1 ms resolution), returned in milliseconds. At most
 * what a timer holds (about 24.8 days): Node would fire a longer timer at once.
 */
export function parseSeconds(flag: string, value: string): number {
  return Math.round(asUsage(() => durationFromText(value, flag, CLI_DURATION)) * 1000);
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
    throw new UsageError(`${flag}: not a valid URL: ${describeUrl(value)}`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new UsageError(`${flag}: expected a ws:// or wss:// URL, got ${describeUrl(value)}`);
  }
  // The library refuses it too, but only when the manager is built: said here, before a recording
  // file is created or anything starts.
  if (url.searchParams.has('access_token')) {
    throw new UsageError(
      `${flag}: the URL must not carry an access_token (${describeUrl(value)}); set KITE_ACCESS_TOKEN or use --keys-file`,
    );
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

/** A host name or IP address to listen on (no scheme, port, path or spaces). */
export function parseHost(flag: string, value: string): string {
  const v = value.trim();
  if (v === '' || v.length > 253 || !/^[A-Za-z0-9.:_%-]+$/.test(v) || /^\[|\]$/.test(v)) {
    throw new UsageError(
      `${flag}: expected a host name or IP address, got ${JSON.stringify(v.slice(0, 64))}`,
    );
  }
  return v;
}
