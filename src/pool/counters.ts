/**
 * Counter arithmetic shared by the pool (folding a retired socket's counters in, totalling its
 * sockets) and the manager (totalling its keys): one loop over named fields instead of a line each.
 */

/** The per-socket counters a pool carries over when it replaces a socket. */
export const SOCKET_COUNTERS = [
  'frames',
  'ticks',
  'bytes',
  'heartbeats',
  'textMessages',
  'protocolErrors',
  'reconnects',
] as const;

/** Adds `from[k]` to `into[k]` for every key of `keys`. */
export function addCounters<K extends string>(
  into: Record<K, number>,
  from: Readonly<Record<K, number>>,
  keys: readonly K[],
): void {
  for (const key of keys) into[key] += from[key];
}

/** Adds `from[source]` to `into[target]` for every pair of `pairs` (fields named differently). */
export function addRenamed<T extends string, S extends string>(
  into: Record<T, number>,
  from: Readonly<Record<S, number>>,
  pairs: readonly (readonly [T, S])[],
): void {
  for (const [target, source] of pairs) into[target] += from[source];
}
