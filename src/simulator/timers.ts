/**
 * The simulator's one-shot timers (fault endings, restart downtime), all cleared by `stop()`: a timer
 * never outlives the simulator, and a sleep is cut short rather than left pending.
 */
export class Timers {
  readonly #timeouts = new Set<NodeJS.Timeout>();
  readonly #sleepers = new Set<() => void>();

  /** Runs `fn` after `ms` unless cleared first. */
  later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timeouts.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timeouts.add(t);
  }

  /** A sleep that `clear()` cuts short. */
  sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleepers.delete(wake);
        resolve();
      };
      this.#sleepers.add(wake);
      this.later(ms, wake);
    });
  }

  /** Cancels every pending timer and wakes every sleeper. */
  clear(): void {
    for (const t of this.#timeouts) clearTimeout(t);
    this.#timeouts.clear();
    for (const wake of [...this.#sleepers]) wake();
    this.#sleepers.clear();
  }
}
