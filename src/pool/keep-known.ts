/**
 * The one tick filter of the library: a pool keeps only the instruments subscribed on the socket that
 * brought them, the manager only those it wants (for pools it did not make). Both count what they drop.
 */
import type { FrameView } from '../protocol/frame-view.js';
import type { Tick } from '../protocol/types.js';

/**
 * The ticks of `batch` whose token `wanted` holds; counts the others on `counter`. One lookup per
 * tick; the same array (no copy) when nothing is dropped. Shared by the pool (per socket) and the
 * manager (per key, for pools it did not make).
 */
export function keepKnown(
  batch: Tick[],
  wanted: { has(token: number): boolean },
  counter: { countUnknown(n: number): void },
): Tick[] {
  for (let i = 0; i < batch.length; i++) {
    if (!wanted.has(batch[i]!.instrument_token)) {
      const kept = batch.filter((tick) => wanted.has(tick.instrument_token));
      counter.countUnknown(batch.length - kept.length);
      return kept;
    }
  }
  return batch;
}

/**
 * `keepKnown` for a frame that is not decoded: how many of its packets `wanted` holds (reading only
 * each packet's token); counts the others on `counter`.
 */
export function countKnown(
  view: FrameView,
  wanted: { has(token: number): boolean },
  counter: { countUnknown(n: number): void },
): number {
  const n = view.count;
  let known = 0;
  for (let i = 0; i < n; i++) if (wanted.has(view.token(i))) known++;
  if (known < n) counter.countUnknown(n - known);
  return known;
}
