/**
 * Seeded randomness. Two tools: a sequential generator (universe building, chaos draws) and a stateless
 * hash of integers, so each instrument's random walk depends only on (seed, instrument, step) and never
 * on the order in which instruments happen to be advanced or subscribed. That is what makes "same seed,
 * same ticks" hold no matter how many connections subscribe, or when.
 */

/** mulberry32: tiny, fast, good enough for simulation (not for cryptography). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next uint32. */
  nextU32(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Whole number in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Avalanche mix of a uint32 (murmur3 finaliser). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uint32 determined by four integers; no state, no allocation. */
export function hash4(a: number, b: number, c: number, d: number): number {
  let h = fmix(a ^ 0x9e3779b9);
  h = fmix(h ^ Math.imul(b, 0x27d4eb2d));
  h = fmix(h ^ Math.imul(c, 0x165667b1));
  return fmix(h ^ Math.imul(d, 0x2545f491));
}

/** hash4 mapped to [0, 1). */
export function unit4(a: number, b: number, c: number, d: number): number {
  return hash4(a, b, c, d) / 4294967296;
}
