/**
 * A fixed-bucket latency histogram: recording is one array increment (no allocation), which matters
 * because the load benchmarks record every tick inside the consumer's callback.
 */

/** Bucket width: 10 microseconds. */
const BUCKET_MS = 0.01;
/** Buckets up to 2 s; slower samples land in the last bucket (and still count for `max`). */
const BUCKETS = 200_000;

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #total = 0;
  #max = Number.NEGATIVE_INFINITY;
  #min = Number.POSITIVE_INFINITY;

  record(ms: number): void {
    let b = Math.floor(ms / BUCKET_MS);
    if (b < 0) b = 0;
    else if (b >= BUCKETS) b = BUCKETS - 1;
    this.#counts[b]!++;
    this.#total++;
    if (ms > this.#max) this.#max = ms;
    if (ms < this.#min) this.#min = ms;
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#total === 0 ? Number.NaN : this.#max;
  }

  get min(): number {
    return this.#total === 0 ? Number.NaN : this.#min;
  }

  /** The upper edge of the bucket holding the p-th percentile (p in 0..100); NaN when empty. */
  percentile(p: number): number {
    if (this.#total === 0) return Number.NaN;
    const rank = Math.ceil((p / 100) * this.#total);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.#counts[b]!;
      if (seen >= rank) return Math.min((b + 1) * BUCKET_MS, this.#max);
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#total = 0;
    this.#max = Number.NEGATIVE_INFINITY;
    this.#min = Number.POSITIVE_INFINITY;
  }
}
