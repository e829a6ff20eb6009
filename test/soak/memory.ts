/**
 * Memory sampling for the soak: RSS and heap every second, plus the heap right after a full GC every few
 * seconds (the only heap figure with a meaningful trend: between collections the heap saw-tooths).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { slope } from './invariants.js';

const MB = 1024 * 1024;

/** `global.gc` without --expose-gc: enable the flag at run time and fetch gc from a fresh context. */
function obtainGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

export interface MemoryReport {
  rssStartMb: number;
  rssEndMb: number;
  rssMaxMb: number;
  /** Heap after GC: first sample after warm-up, last sample. */
  heapAfterWarmupMb: number;
  heapEndMb: number;
  /** Trend of the post-GC heap after warm-up, MB per minute. */
  heapSlopeMbPerMin: number;
  /** Heap samples taken after warm-up. */
  gcSamples: number;
  /** Whether each heap sample followed a full GC. */
  gcForced: boolean;
}

export class MemoryMonitor {
  readonly #gc = obtainGc();
  readonly #started = performance.now();
  readonly #warmupMs: number;
  readonly #gcEveryMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastGc = 0;
  #rssStart = process.memoryUsage.rss();
  #rssMax = this.#rssStart;
  readonly #heap: { x: number; y: number }[] = [];

  constructor(options: { warmupMs: number; gcEveryMs?: number }) {
    this.#warmupMs = options.warmupMs;
    this.#gcEveryMs = options.gcEveryMs ?? 5000;
  }

  start(): void {
    this.#rssStart = process.memoryUsage.rss();
    this.#timer = setInterval(() => this.sample(), 1000);
    this.#timer.unref();
  }

  /** The RSS at start is taken again here, once the fleet is up (connections and buffers are warm). */
  markWarm(): void {
    this.#rssStart = process.memoryUsage.rss();
  }

  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.#rssMax) this.#rssMax = rss;
    const t = performance.now() - this.#started;
    if (t - this.#lastGc >= this.#gcEveryMs) {
      this.#lastGc = t;
      // Without gc (it could not be enabled) the raw heap is sampled: noisier, still bounded by the limits.
      this.#gc?.();
      if (t >= this.#warmupMs) this.#heap.push({ x: t / 60_000, y: process.memoryUsage().heapUsed / MB });
    }
  }

  stop(): MemoryReport {
    if (this.#timer) clearInterval(this.#timer);
    this.sample();
    const heap = this.#heap;
    return {
      rssStartMb: this.#rssStart / MB,
      rssEndMb: process.memoryUsage.rss() / MB,
      rssMaxMb: this.#rssMax / MB,
      heapAfterWarmupMb: heap[0]?.y ?? 0,
      heapEndMb: heap[heap.length - 1]?.y ?? 0,
      heapSlopeMbPerMin: slope(heap),
      gcSamples: heap.length,
      gcForced: this.#gc !== undefined,
    };
  }
}

/**
 * A leak shows as a steady climb of the post-GC heap. Short runs are noisy, so both the slope and the
 * absolute growth must exceed their limits.
 */
export function memoryGrowthProblem(
  report: MemoryReport,
  limits: { slopeMbPerMin: number; growthMb: number },
): string | undefined {
  if (report.gcSamples < 4) return undefined;
  const growth = report.heapEndMb - report.heapAfterWarmupMb;
  if (report.heapSlopeMbPerMin > limits.slopeMbPerMin && growth > limits.growthMb) {
    return `post-GC heap grew ${growth.toFixed(1)} MB after warm-up (${report.heapSlopeMbPerMin.toFixed(1)} MB/min)`;
  }
  return undefined;
}
