/**
 * Pure parts of the protocol: how long an entry has stood still by THIS instance's monotonic clock,
 * and how many keys this instance should hold.
 *
 * Staleness is never judged from the timestamps inside an entry (other machines' wall clocks) nor
 * from watch events (nats-server 2.9 emits none when max age removes an entry): an instance notes
 * when it first saw each revision, and an entry whose revision has not moved for its TTL is lapsed.
 */

export class RevisionClock {
  readonly #seen = new Map<string, { revision: number; since: number }>();

  /** Records what `key` holds now (`undefined`: no live entry). */
  observe(key: string, revision: number | undefined, now: number): void {
    if (revision === undefined) {
      this.#seen.delete(key);
      return;
    }
    const before = this.#seen.get(key);
    if (before?.revision !== revision) this.#seen.set(key, { revision, since: now });
  }

  /** Milliseconds the current revision of `key` has stood still; 0 for one never seen. */
  stillFor(key: string, now: number): number {
    const seen = this.#seen.get(key);
    return seen === undefined ? 0 : Math.max(0, now - seen.since);
  }

  /** Forgets keys not in `live` (members that left): the map stays as small as the bucket. */
  retain(live: ReadonlySet<string>, prefix: string): void {
    for (const key of this.#seen.keys()) if (key.startsWith(prefix) && !live.has(key)) this.#seen.delete(key);
  }
}

/**
 * Keys per instance: ceil(keys / live members), at least 1 while there are keys (a lone instance
 * holds them all; 3 keys on 2 instances split 2/1).
 */
export function shareOf(keyCount: number, liveMembers: number): number {
  if (keyCount <= 0) return 0;
  return Math.ceil(keyCount / Math.max(1, liveMembers));
}
