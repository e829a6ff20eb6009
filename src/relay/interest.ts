/**
 * Who wants which token: token -> (session -> mode rank). The upstream holds the union of these tokens,
 * each at the highest rank any session wants (`max`). The dispatcher reads `subscribers(token)` per
 * packet, so a frame costs one Map look-up per packet plus one step per interested session: never
 * clients x tokens.
 */
export class Interest<S> {
  readonly #subs = new Map<number, Map<S, number>>();

  /** Sets `session`'s rank for `token` (adds it if new). */
  set(token: number, session: S, rank: number): void {
    let m = this.#subs.get(token);
    if (!m) {
      m = new Map();
      this.#subs.set(token, m);
    }
    m.set(session, rank);
  }

  /** Forgets `session`'s interest in `token`. */
  delete(token: number, session: S): void {
    const m = this.#subs.get(token);
    if (!m) return;
    m.delete(session);
    if (m.size === 0) this.#subs.delete(token);
  }

  subscribers(token: number): ReadonlyMap<S, number> | undefined {
    return this.#subs.get(token);
  }

  /** The highest rank wanted for `token`, or -1 when no session wants it. */
  max(token: number): number {
    const m = this.#subs.get(token);
    if (!m) return -1;
    let max = -1;
    for (const r of m.values()) {
      if (r > max) max = r;
      if (max === 2) break;
    }
    return max;
  }

  /** Tokens at least one session wants. */
  get size(): number {
    return this.#subs.size;
  }
}
