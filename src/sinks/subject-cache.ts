/**
 * The sink's per-instrument state (subject string and sequence number), bounded in count. Legitimately
 * it holds one entry per subscribed instrument (27,000 for 3 keys at full use), but whatever reaches
 * `publishTicks` adds an entry, and a source fed by a hostile server could send every token there is.
 *
 * Two generations instead of a strict LRU, so a hit (every tick of an instrument seen recently) costs one
 * Map lookup and moves nothing: new entries go to the current generation; when it holds `max / 2`, it
 * becomes the previous one and the old previous is forgotten; a token found only in the previous
 * generation moves up with its state. An instrument is forgotten only after `max / 2` other instruments
 * arrived since it last ticked; it then starts again at sequence 1 (consumers read that as an old
 * sequence, not a gap, until it passes the number they last saw).
 */

export interface SubjectState {
  subject: string;
  sequence: number;
}

/** Default of `NatsTickSinkOptions.maxSubjects`: room for 50,000 active instruments without any eviction. */
export const DEFAULT_MAX_SUBJECTS = 100_000;

export class SubjectCache {
  readonly #generation: number;
  #current = new Map<number, SubjectState>();
  #previous = new Map<number, SubjectState>();
  #evicted = 0;

  /** @param max most entries kept (at least 2). */
  constructor(max: number) {
    this.#generation = Math.max(1, Math.floor(max / 2));
  }

  get(token: number): SubjectState | undefined {
    const hit = this.#current.get(token);
    if (hit !== undefined) return hit;
    const old = this.#previous.get(token);
    if (old !== undefined) {
      this.#previous.delete(token);
      this.set(token, old);
    }
    return old;
  }

  set(token: number, state: SubjectState): void {
    if (this.#current.size >= this.#generation) {
      this.#evicted += this.#previous.size;
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(token, state);
  }

  /** Entries held now. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  /** Entries forgotten so far. */
  get evicted(): number {
    return this.#evicted;
  }
}
