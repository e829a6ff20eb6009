/**
 * The desired-state table, the truth of the multi-key manager: for every wanted token, its mode and the
 * key that owns it (or none: unplaced, waiting for capacity). Key managers are made to converge to it;
 * the table changes only together with the commands that make them converge.
 */
import type { Mode } from '../protocol/constants.js';

export interface DesiredEntry {
  /** Owning key id; undefined while unplaced. */
  apiKeyId: string | undefined;
  mode: Mode;
}

export class DesiredState {
  readonly #entries = new Map<number, DesiredEntry>();
  /** key id -> its tokens (kept alongside so per-key questions are O(1) / O(own tokens)). */
  readonly #byKey = new Map<string, Map<number, Mode>>();
  /** Unplaced tokens in the order they became unplaced (placed first-come, first-served). */
  readonly #unplaced = new Map<number, Mode>();

  get size(): number {
    return this.#entries.size;
  }

  get unplacedCount(): number {
    return this.#unplaced.size;
  }

  get(token: number): DesiredEntry | undefined {
    return this.#entries.get(token);
  }

  has(token: number): boolean {
    return this.#entries.has(token);
  }

  /** Tokens owned by a key (token -> mode); empty for an unknown key. */
  ofKey(apiKeyId: string): ReadonlyMap<number, Mode> {
    return this.#byKey.get(apiKeyId) ?? EMPTY;
  }

  countOf(apiKeyId: string): number {
    return this.#byKey.get(apiKeyId)?.size ?? 0;
  }

  unplaced(): ReadonlyMap<number, Mode> {
    return this.#unplaced;
  }

  /** Records `token` as owned by `apiKeyId` (or unplaced when undefined) with `mode`, moving it if needed. */
  set(token: number, apiKeyId: string | undefined, mode: Mode): void {
    this.#detach(token);
    this.#entries.set(token, { apiKeyId, mode });
    if (apiKeyId === undefined) {
      this.#unplaced.set(token, mode);
    } else {
      let own = this.#byKey.get(apiKeyId);
      if (!own) this.#byKey.set(apiKeyId, (own = new Map()));
      own.set(token, mode);
    }
  }

  setMode(token: number, mode: Mode): void {
    const entry = this.#entries.get(token);
    if (!entry) return;
    this.set(token, entry.apiKeyId, mode);
  }

  delete(token: number): boolean {
    if (!this.#entries.has(token)) return false;
    this.#detach(token);
    this.#entries.delete(token);
    return true;
  }

  #detach(token: number): void {
    const entry = this.#entries.get(token);
    if (!entry) return;
    if (entry.apiKeyId === undefined) this.#unplaced.delete(token);
    else this.#byKey.get(entry.apiKeyId)?.delete(token);
  }
}

const EMPTY: ReadonlyMap<number, Mode> = new Map();
