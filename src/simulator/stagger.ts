/**
 * When in each batch interval a connection's frame goes out. Real Kite sockets are independent: each was
 * opened at its own moment and is fed by its own server, so their frames arrive spread over the second,
 * not all in the same instant. Sending every connection's frame at once (`'none'`) makes the client
 * decode nine frames back to back, which inflates every latency percentile a benchmark reports.
 *
 * `'spread'` gives connection `id` the fixed offset `floor(frac(base + id * (golden ratio - 1)) * intervalMs)`,
 * where `base` comes from the seed. The golden-ratio sequence keeps any number of consecutive ids close
 * to evenly spaced (no two land together the way independent random draws can), and the offset depends
 * only on (seed, connection id), so the same seed and the same connection order give the same schedule.
 */
import { InvalidArgumentError } from '../errors.js';
import { unit4 } from './random.js';

export type Stagger = 'spread' | 'none';

const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

/** Offset in whole ms in [0, intervalMs) of connection `connectionId`'s frames in each batch interval. */
export function staggerOffsetMs(
  stagger: Stagger,
  seed: number,
  connectionId: number,
  intervalMs: number,
): number {
  if (stagger === 'none') return 0;
  const base = unit4(seed >>> 0, 0x5ca9, 0, 0);
  const x = base + connectionId * GOLDEN_FRACTION;
  // Whole milliseconds: what a timer can honour anyway, and easy to check exactly.
  const offset = Math.floor((x - Math.floor(x)) * intervalMs);
  return offset < intervalMs ? offset : 0;
}

/** Validates the `stagger` option (default `'spread'`). */
export function parseStagger(value: unknown): Stagger {
  if (value === undefined) return 'spread';
  if (value === 'spread' || value === 'none') return value;
  throw new InvalidArgumentError(`stagger must be 'spread' or 'none', got ${String(value)}`);
}
