/**
 * The one place a command's resources are released: each step pushes how to undo what it did, and
 * `dispose` undoes everything in reverse order (last opened, first closed), once, within a deadline.
 */

/** Undoes one step. `deadline` settles when waiting must end: pass it on to waits that can be cut short. */
export type Disposer = (deadline: Promise<void>) => unknown;

const NEVER = new Promise<void>(() => undefined);

export interface DisposerOptions {
  /**
   * Awaited even after the deadline, for what must not be cut short (a recording's tail: the docs
   * promise a complete file). The process's own backstop (main.ts) still bounds it.
   */
  finish?: boolean;
}

export class DisposerStack {
  private readonly entries: { name: string; dispose: Disposer; finish: boolean }[] = [];

  /** `name` says what failed, in the message of a disposer that throws. */
  push(name: string, dispose: Disposer, options: DisposerOptions = {}): void {
    this.entries.push({ name, dispose, finish: options.finish === true });
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * Runs every disposer, last pushed first, each awaited until it settles or `deadline` settles.
   * After the deadline the rest are still called (their synchronous part runs: timers cleared,
   * sockets told to close, signal handlers removed) but not waited for (unless pushed with `finish`),
   * so a stop by signal ends on time even when a reader never reads or a server never answers. A
   * disposer that throws or
   * rejects is reported to `onError` and the others still run; failures after `dispose` returned are
   * not reported (the command has moved on). Disposers pushed while disposing run in the same pass.
   */
  async dispose(
    deadline: Promise<unknown> = NEVER,
    onError: (name: string, error: unknown) => void = () => undefined,
  ): Promise<void> {
    let expired = false;
    let finished = false;
    const expiry = deadline.then(
      () => {
        expired = true;
      },
      () => {
        expired = true;
      },
    );
    const report = (name: string, error: unknown): void => {
      if (!finished) onError(name, error);
    };
    for (let entry = this.entries.pop(); entry !== undefined; entry = this.entries.pop()) {
      const { name, dispose, finish } = entry;
      let settled: Promise<void>;
      try {
        settled = Promise.resolve(dispose(expiry)).then(
          () => undefined,
          (error: unknown) => report(name, error),
        );
      } catch (error) {
        report(name, error);
        continue;
      }
      if (finish) await settled;
      else if (!expired) await Promise.race([settled, expiry]);
    }
    finished = true;
  }
}
