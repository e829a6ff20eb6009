/**
 * Pure placement planning: which key takes which token. No sockets, no timers, no manager state; the
 * manager feeds in each key's load and free capacity and applies the plan it gets back.
 */

/** A key as the planner sees it. */
export interface KeyLoad {
  id: string;
  /** Tokens the key holds now. */
  load: number;
  /** Tokens it can still take. */
  free: number;
}

export interface BalancedAssignment {
  /** Key id -> tokens for it, in input order; only keys that receive something appear. */
  assignment: Map<string, number[]>;
  /** Tokens that found no room, in input order. */
  rest: number[];
}

/**
 * Gives each token, in order, to the key with the lowest load that still has room; ties go round the
 * keys in turn starting after the last one used (so equal keys interleave, A B C A B C...). This is
 * round-robin that also evens out keys that start unequal, and it never exceeds a key's free capacity.
 * O(tokens x keys); keys are few.
 */
export function assignBalanced(tokens: readonly number[], keys: readonly KeyLoad[]): BalancedAssignment {
  const n = keys.length;
  const load = keys.map((k) => k.load);
  const free = keys.map((k) => Math.max(0, k.free));
  const buckets: number[][] = keys.map(() => []);
  const rest: number[] = [];
  let last = n - 1;
  for (const token of tokens) {
    let best = -1;
    for (let step = 1; step <= n; step++) {
      const i = (last + step) % n;
      if (free[i]! <= 0) continue;
      if (best === -1 || load[i]! < load[best]!) best = i;
    }
    if (best === -1) {
      rest.push(token);
      continue;
    }
    buckets[best]!.push(token);
    load[best]!++;
    free[best]!--;
    last = best;
  }
  const assignment = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const bucket = buckets[i]!;
    if (bucket.length > 0) assignment.set(key.id, bucket);
  });
  return { assignment, rest };
}

export type RoundRobinPlan =
  | { ok: true; assignment: Map<string, number[]> }
  | { ok: false; requested: number; available: number };

/**
 * The plan for `subscribeSymbols` under round-robin: all of `tokens` placed, or nothing (the caller turns
 * `ok: false` into a CapacityError). `tokens` must already be the new, distinct tokens of the call.
 */
export function planRoundRobin(tokens: readonly number[], keys: readonly KeyLoad[]): RoundRobinPlan {
  const available = keys.reduce((sum, k) => sum + Math.max(0, k.free), 0);
  if (tokens.length > available) return { ok: false, requested: tokens.length, available };
  const { assignment } = assignBalanced(tokens, keys);
  return { ok: true, assignment };
}

export interface FailoverPlan {
  /** Target key id -> tokens moved there. */
  moved: Map<string, number[]>;
  /** Tokens no key can take now. */
  unplaced: number[];
}

/**
 * Where a failed key's tokens go: as many as fit, balanced over the surviving keys (the failed key must
 * not be in `survivors`); the rest are returned as unplaced, never dropped.
 */
export function planFailover(tokens: readonly number[], survivors: readonly KeyLoad[]): FailoverPlan {
  const { assignment, rest } = assignBalanced(tokens, survivors);
  return { moved: assignment, unplaced: rest };
}
