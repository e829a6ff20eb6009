/**
 * Shared material of the bad-input tests (test/integration/bad-input-*.test.ts): the bad values every
 * public entry point must refuse, a helper that captures a thrown or rejected error's stable code, and a
 * fingerprint of the server's truth so a test can prove a refused call changed nothing there.
 */
import { KiteTickerError } from '../../src/errors.js';
import type { KiteSimulator } from '../../src/simulator/index.js';

/** Values that are not instrument tokens (whole numbers 0..2^32-1), each with a name for test titles. */
export const BAD_TOKENS: readonly [string, unknown][] = [
  ['a fraction', 1.5],
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['a negative number', -1],
  ['2^32', 2 ** 32],
  ['a numeric string', '408065'],
  ['null', null],
  ['undefined', undefined],
  ['a bigint', 408065n],
  ['an object', { token: 1 }],
  ['a boolean', true],
];

/** Mode spellings that do not exist. */
export const BAD_MODES: readonly unknown[] = ['LTP', 'Full', 'snapquote', '', 'depth', 1, null];

/** The stable code of what `fn` throws or rejects with; 'none' when it succeeds, 'untyped' for a non-library error. */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof KiteTickerError) return error.code;
    return `untyped: ${String(error)}`;
  }
  return 'none';
}

/** Synchronous variant, for calls that must throw at once (constructors, builders). */
export function codeOfSync(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof KiteTickerError) return error.code;
    return `untyped: ${String(error)}`;
  }
  return 'none';
}

/**
 * What the server holds and has heard: per socket its subscriptions (sorted), per key the number of
 * commands received. A refused call must leave both unchanged.
 */
export function serverTruth(sim: KiteSimulator, apiKeys: readonly string[]): string {
  const sockets = sim
    .connections()
    .map((c) => `${c.apiKey}#${c.id}:${[...c.subscriptions].sort((a, b) => a[0] - b[0]).join(';')}`)
    .sort();
  const commands = apiKeys.map((k) => `${k}:${sim.keyInfo(k).commands.length}`);
  return JSON.stringify({ sockets, commands });
}

/** Lets anything a refused call might still have sent reach the server before comparing. */
export const settle = (ms = 60): Promise<void> => new Promise((r) => setTimeout(r, ms));
