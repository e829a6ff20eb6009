/**
 * Placement: which connection of a key gets which token. Pure functions over the current
 * per-connection subscriptions; the manager applies the plan. Rules (docs/manager.md):
 *
 * - A call places all of its new tokens or none: if they do not all fit, `CapacityError` says how many
 *   would (`available`) and nothing of the call (new tokens or mode changes) is applied.
 * - Duplicates within a call count once; a token already subscribed anywhere is not sent again, but a
 *   mode change is planned when its mode differs.
 * - 'fill' (default): new tokens fill connections in index order (first fit): connection 0 up to the
 *   cap, then 1, then 2. This opens a socket only when the previous ones are full, and after unsubscribes
 *   it refills the gaps of the lowest connections first.
 * - 'spread': each new token goes to the connection holding the fewest (ties: lowest index), so a
 *   dropped socket takes as few instruments with it as the allowed sockets permit.
 * - Unsubscribe and mode change ignore tokens that are not subscribed.
 */
import { CapacityError } from '../errors.js';
import type { Mode } from '../protocol/constants.js';
import type { Placement } from './types.js';

/** One connection slot's current subscriptions (token -> mode). Index = connection index. */
export type SlotState = ReadonlyMap<number, Mode>;

export interface SlotSubscribePlan {
  /** New tokens to subscribe on this connection, with the call's mode. */
  subscribe: number[];
  /** Tokens already on this connection whose mode must change to the call's mode. */
  changeMode: number[];
}

export interface SubscribePlan {
  mode: Mode;
  /** Only connections with something to do; key = connection index. */
  slots: Map<number, SlotSubscribePlan>;
  /** Distinct new tokens placed by this plan. */
  added: number;
  /** Distinct tokens already subscribed with this mode (nothing sent). */
  unchanged: number;
}

/** Index of the slot holding `token`, or -1. At most 3 Map lookups. */
export function ownerOf(slots: readonly SlotState[], token: number): number {
  for (let i = 0; i < slots.length; i++) {
    if (slots[i]!.has(token)) return i;
  }
  return -1;
}

/** Free places left across every slot. */
export function freeCapacity(slots: readonly SlotState[], maxPerSlot: number): number {
  let free = 0;
  for (const slot of slots) free += Math.max(0, maxPerSlot - slot.size);
  return free;
}

function entryFor<K>(map: Map<K, SlotSubscribePlan>, key: K): SlotSubscribePlan {
  let entry = map.get(key);
  if (!entry) {
    entry = { subscribe: [], changeMode: [] };
    map.set(key, entry);
  }
  return entry;
}

/**
 * Plans a subscribe of `tokens` (already validated) in `mode`.
 * @param slots one entry per possible connection (length = maxConnections), empty for unopened ones.
 * @param scope names the key in a CapacityError message (never a credential).
 * @throws CapacityError when the new tokens do not all fit.
 */
export function planSubscribe(
  slots: readonly SlotState[],
  tokens: readonly number[],
  mode: Mode,
  maxPerSlot: number,
  scope = 'this API key',
  placement: Placement = 'fill',
): SubscribePlan {
  const plan: SubscribePlan = { mode, slots: new Map(), added: 0, unchanged: 0 };
  const seen = new Set<number>();
  const fresh: number[] = [];
  for (const token of tokens) {
    if (seen.has(token)) continue;
    seen.add(token);
    const owner = ownerOf(slots, token);
    if (owner < 0) {
      fresh.push(token);
    } else if (slots[owner]!.get(token) !== mode) {
      entryFor(plan.slots, owner).changeMode.push(token);
    } else {
      plan.unchanged++;
    }
  }
  const available = freeCapacity(slots, maxPerSlot);
  if (fresh.length > available) throw new CapacityError(fresh.length, available, scope);

  if (placement === 'spread') spread(slots, fresh, maxPerSlot, plan);
  else fill(slots, fresh, maxPerSlot, plan);
  plan.added = fresh.length;
  return plan;
}

/** First fit, in index order. */
function fill(
  slots: readonly SlotState[],
  fresh: readonly number[],
  maxPerSlot: number,
  plan: SubscribePlan,
): void {
  let next = 0;
  for (let i = 0; i < slots.length && next < fresh.length; i++) {
    const free = maxPerSlot - slots[i]!.size;
    if (free <= 0) continue;
    const take = Math.min(free, fresh.length - next);
    const entry = entryFor(plan.slots, i);
    for (let k = 0; k < take; k++) entry.subscribe.push(fresh[next + k]!);
    next += take;
  }
}

/** Each token to the least-loaded slot with room (ties: lowest index). O(tokens x slots); slots are <= 3. */
function spread(
  slots: readonly SlotState[],
  fresh: readonly number[],
  maxPerSlot: number,
  plan: SubscribePlan,
): void {
  const load = slots.map((slot) => slot.size);
  for (const token of fresh) {
    let best = -1;
    for (let i = 0; i < load.length; i++) {
      if (load[i]! >= maxPerSlot) continue;
      if (best === -1 || load[i]! < load[best]!) best = i;
    }
    // The capacity check above guarantees a slot with room.
    entryFor(plan.slots, best).subscribe.push(token);
    load[best]!++;
  }
}

/** Groups the subscribed tokens of `tokens` by connection; others are ignored. Duplicates count once. */
export function planByOwner(slots: readonly SlotState[], tokens: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const seen = new Set<number>();
  for (const token of tokens) {
    if (seen.has(token)) continue;
    seen.add(token);
    const owner = ownerOf(slots, token);
    if (owner < 0) continue;
    let list = out.get(owner);
    if (!list) out.set(owner, (list = []));
    list.push(token);
  }
  return out;
}

/** Plans an unsubscribe: connection -> its tokens to remove. Unknown tokens are ignored. */
export function planUnsubscribe(
  slots: readonly SlotState[],
  tokens: readonly number[],
): Map<number, number[]> {
  return planByOwner(slots, tokens);
}

/**
 * Plans a mode change: connection -> tokens whose mode differs from `mode`. Tokens not subscribed
 * are ignored (changeMode never subscribes).
 */
export function planModeChange(
  slots: readonly SlotState[],
  tokens: readonly number[],
  mode: Mode,
): Map<number, number[]> {
  const byOwner = planByOwner(slots, tokens);
  for (const [index, list] of byOwner) {
    const slot = slots[index]!;
    const changed = list.filter((token) => slot.get(token) !== mode);
    if (changed.length === 0) byOwner.delete(index);
    else byOwner.set(index, changed);
  }
  return byOwner;
}
