/**
 * Who wants which token: token -> (session -> mode rank), with a count of sessions per rank so the
 * highest rank wanted (`max`) is O(1) however many sessions share a token. The upstream holds the union
 * of these tokens, each at `max`. The dispatcher reads `subscribers(token)` per packet, so a frame costs
 * one Map look-up per packet plus one step per interested session: never clients x tokens.
 */
interface Entry<S> {
  subs: Map<S, number>;
  /** Sessions wanting the token at rank 0, 1, 2. */
  counts: [number, number, number];
}

export class Interest<S> {
  readonly #entries = new Map<number, Entry<S>>();

  /** Sets `session`'s rank for `token` (adds it if new). */
  set(token: number, session: S, rank: number): void {
    let e = this.#entries.get(token);
    if (!e) {
      e = { subs: new Map(), counts: [0, 0, 0] };
      this.#entries.set(token, e);
    }
    const old = e.subs.get(session);
    if (old !== undefined) e.counts[old as 0 | 1 | 2]--;
    e.subs.set(session, rank);
    e.counts[rank as 0 | 1 | 2]++;
  }

  /** Forgets `session`'s interest in `token`. */
  delete(token: number, session: S): void {
    const e = this.#entries.get(token);
    if (!e) return;
    const old = e.subs.get(session);
    if (old === undefined) return;
    e.subs.delete(session);
    e.counts[old as 0 | 1 | 2]--;
    if (e.subs.size === 0) this.#entries.delete(token);
  }

  subscribers(token: number): ReadonlyMap<S, number> | undefined {
    return this.#entries.get(token)?.subs;
  }

  /** The highest rank wanted for `token`, or -1 when no session wants it. */
  max(token: number): number {
    const e = this.#entries.get(token);
    if (!e) return -1;
    return e.counts[2] > 0 ? 2 : e.counts[1] > 0 ? 1 : e.counts[0] > 0 ? 0 : -1;
  }

  /** Tokens at least one session wants. */
  get size(): number {
    return this.#entries.size;
  }
}
