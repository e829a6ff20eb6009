/**
 * The per-key log of client commands (the simulator's `keyInfo(apiKey).commands`), bounded twice: by entry count
 * (`commandLogLimit`) and by bytes (`commandLogBytes`). A hostile client may send 1 MB frames as fast as
 * it likes; without a byte bound 1000 entries of 1 MB each were kept per key (313 MB seen).
 */
import type { CommandLogEntry } from './types.js';

/**
 * Most bytes of one command kept in the log. A 3000-token subscribe (the most a Kite socket holds, as
 * the official client sends it in one message) is ~33 KB, so every legitimate command is kept whole;
 * anything longer keeps this prefix and says how long it was.
 */
export const COMMAND_LOG_ENTRY_BYTES = 64 * 1024;
/** Default of `SimulatorOptions.commandLogBytes`: per key, the stored text of every entry together. */
export const DEFAULT_COMMAND_LOG_BYTES = 4 * 1024 * 1024;
/** Bookkeeping charged per entry besides its text, so a flood of empty frames is bounded too. */
const ENTRY_OVERHEAD_BYTES = 64;

export class CommandLog {
  readonly #entries: CommandLogEntry[] = [];
  readonly #costs: number[] = [];
  #bytes = 0;
  readonly #maxEntries: number;
  readonly #maxBytes: number;

  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** Logs one frame as received; the oldest entries go first when a bound is passed. */
  add(at: number, connectionId: number, data: Buffer, isBinary: boolean): void {
    const bytes = data.byteLength;
    const truncated = !isBinary && bytes > COMMAND_LOG_ENTRY_BYTES;
    // Decoding only the kept bytes makes a fresh string: a slice of the whole text would pin all of it.
    const text = isBinary
      ? `<binary ${bytes} bytes>`
      : data.toString('utf8', 0, truncated ? COMMAND_LOG_ENTRY_BYTES : bytes);
    const cost = (isBinary ? text.length : Math.min(bytes, COMMAND_LOG_ENTRY_BYTES)) + ENTRY_OVERHEAD_BYTES;
    this.#entries.push({ at, connectionId, text, bytes, truncated });
    this.#costs.push(cost);
    this.#bytes += cost;
    let drop = 0;
    let bytesLeft = this.#bytes;
    const count = this.#entries.length;
    // Always keep the newest entry: one entry never exceeds COMMAND_LOG_ENTRY_BYTES + overhead.
    while (drop < count - 1 && (count - drop > this.#maxEntries || bytesLeft > this.#maxBytes)) {
      bytesLeft -= this.#costs[drop]!;
      drop++;
    }
    if (drop > 0) {
      this.#entries.splice(0, drop);
      this.#costs.splice(0, drop);
      this.#bytes = bytesLeft;
    }
  }

  /** Bytes charged for the entries kept now (stored text plus a fixed overhead each). */
  get bytes(): number {
    return this.#bytes;
  }

  /** A copy of the entries, oldest first. */
  entries(): CommandLogEntry[] {
    return [...this.#entries];
  }
}
