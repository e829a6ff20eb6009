/**
 * Chaos mode: injects a seeded mix of faults at random times (exponential gaps, mean rate
 * `faultsPerSecond`). Every fault it draws is bounded in time (stalls, refusal windows, revocations and
 * restarts all end by themselves), so the server is never left refusing for good.
 */
import { timerMs } from '../config/validate.js';
import { CORRUPTION_KINDS } from './corrupt.js';
import { Rng } from './random.js';
import type { ChaosOptions, CorruptionKind, FaultKind } from './types.js';

export const FAULT_KINDS: readonly FaultKind[] = [
  'drop',
  'close',
  'stall',
  'corrupt',
  'refuse',
  'revoke',
  'restart',
];

/** What chaos may do to the server; implemented by FaultInjector (faults.ts). Each returns false if it did nothing. */
export interface ChaosTarget {
  /** Ids of the currently open connections, in a stable order. */
  connectionIds(): number[];
  /** API keys that have a credential. */
  apiKeys(): string[];
  drop(id: number): boolean;
  close(id: number, code: number, reason: string): boolean;
  stall(id: number, durationMs: number): boolean;
  corrupt(id: number, kind: CorruptionKind): boolean;
  refuse(status: number, durationMs: number, apiKey: string | undefined): boolean;
  /** Revoke, then restore the same token after `durationMs`. */
  revokeFor(apiKey: string, durationMs: number): boolean;
  restart(downtimeMs: number): boolean;
}

/** Close codes a server may send (1005/1006/1015 are reserved for local use). */
const CLOSE_CODES = [1000, 1001, 1011, 1012, 1013];

export class Chaos {
  readonly #rng: Rng;
  readonly #rate: number;
  readonly #kinds: readonly FaultKind[];
  readonly #target: ChaosTarget;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ChaosOptions, seed: number, target: ChaosTarget) {
    this.#rng = new Rng((options.seed ?? seed) ^ 0xc4a05);
    this.#rate = options.faultsPerSecond;
    this.#kinds = options.faults && options.faults.length > 0 ? options.faults : FAULT_KINDS;
    this.#target = target;
  }

  start(): void {
    if (this.#timer || this.#rate <= 0) return;
    this.#schedule();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    // Exponential inter-arrival time: a Poisson process of the given rate.
    const gapMs = (-Math.log(1 - this.#rng.next()) / this.#rate) * 1000;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        this.injectOne();
        this.#schedule();
      },
      // A very low rate draws gaps past what a timer holds (Node would fire them after 1 ms).
      Math.max(1, timerMs(gapMs)),
    );
    this.#timer.unref();
  }

  /** Draws and injects one fault; tries other kinds when the drawn one has no target. */
  injectOne(): boolean {
    const rng = this.#rng;
    const first = rng.int(0, this.#kinds.length - 1);
    for (let k = 0; k < this.#kinds.length; k++) {
      const kind = this.#kinds[(first + k) % this.#kinds.length]!;
      if (this.#inject(kind)) return true;
    }
    return false;
  }

  #inject(kind: FaultKind): boolean {
    const rng = this.#rng;
    const t = this.#target;
    const ids = t.connectionIds();
    const someId = (): number | undefined => (ids.length > 0 ? rng.pick(ids) : undefined);
    switch (kind) {
      case 'drop': {
        const id = someId();
        return id !== undefined && t.drop(id);
      }
      case 'close': {
        const id = someId();
        return id !== undefined && t.close(id, rng.pick(CLOSE_CODES), 'chaos');
      }
      case 'stall': {
        const id = someId();
        // Up to 7 s: long enough, sometimes, to trip a client's 5 s liveness check.
        return id !== undefined && t.stall(id, rng.int(300, 7000));
      }
      case 'corrupt': {
        const id = someId();
        return id !== undefined && t.corrupt(id, rng.pick(CORRUPTION_KINDS));
      }
      case 'refuse': {
        const keys = t.apiKeys();
        const apiKey = keys.length > 0 && rng.next() < 0.5 ? rng.pick(keys) : undefined;
        return t.refuse(rng.next() < 0.5 ? 429 : 503, rng.int(200, 2000), apiKey);
      }
      case 'revoke': {
        const keys = t.apiKeys();
        return keys.length > 0 && t.revokeFor(rng.pick(keys), rng.int(200, 2000));
      }
      case 'restart':
        return t.restart(rng.int(100, 1000));
    }
  }
}
