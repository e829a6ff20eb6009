/**
 * Per-key counters of a front end: open sockets (the limit is counted here, on completed upgrades
 * only), accepted and refused upgrades, the command log, refused commands and protocol-breaking frames.
 * Bounded in keys: refusals of keys the authoriser does not know are remembered only while fewer than
 * MAX_TRACKED_KEYS keys are, so a client inventing a new api_key per request cannot grow memory.
 */
import { CommandLog } from './command-log.js';

export const MAX_TRACKED_KEYS = 1000;

export interface KeyStats {
  open: number;
  maxConcurrent: number;
  accepted: number;
  rejected: Record<number, number>;
  commands: CommandLog;
  invalidCommands: number;
  badFrames: number;
}

export class KeyTable {
  readonly #keys = new Map<string, KeyStats>();
  readonly #commandLogLimit: number;
  readonly #commandLogBytes: number;

  constructor(commandLogLimit: number, commandLogBytes: number) {
    this.#commandLogLimit = commandLogLimit;
    this.#commandLogBytes = commandLogBytes;
  }

  /** The key's counters, if any were kept. */
  find(apiKey: string): KeyStats | undefined {
    return this.#keys.get(apiKey);
  }

  /** The key's counters, created on first use (for keys that connected: always bounded by the authoriser). */
  get(apiKey: string): KeyStats {
    let k = this.#keys.get(apiKey);
    if (!k) {
      k = {
        open: 0,
        maxConcurrent: 0,
        accepted: 0,
        rejected: {},
        commands: new CommandLog(this.#commandLogLimit, this.#commandLogBytes),
        invalidCommands: 0,
        badFrames: 0,
      };
      this.#keys.set(apiKey, k);
    }
    return k;
  }

  open(apiKey: string): number {
    return this.#keys.get(apiKey)?.open ?? 0;
  }

  /** Counts a refused upgrade; keys not `known` only while the table has room. */
  refused(apiKey: string | undefined, status: number, known: boolean): void {
    if (apiKey === undefined) return;
    if (!known && !this.#keys.has(apiKey) && this.#keys.size >= MAX_TRACKED_KEYS) return;
    const k = this.get(apiKey);
    k.rejected[status] = (k.rejected[status] ?? 0) + 1;
  }

  /** A completed upgrade. */
  opened(apiKey: string): void {
    const k = this.get(apiKey);
    k.open++;
    k.accepted++;
    if (k.open > k.maxConcurrent) k.maxConcurrent = k.open;
  }

  closed(apiKey: string): void {
    this.get(apiKey).open--;
  }
}
