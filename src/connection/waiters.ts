/**
 * The callers of `connect()` waiting for the socket to open: each one resolves when it opens, rejects when
 * the ticker gives up (auth refused, attempts exhausted, closed), or rejects alone when its own
 * AbortSignal fires.
 *
 * Separate from ticker.ts because it is promise and signal bookkeeping, not the socket's life; the ticker
 * learns only that the last waiter left, and decides itself whether to stop trying.
 */
import { abortedError, type KiteTickerError } from '../errors.js';

interface Waiter {
  resolve: () => void;
  reject: (error: KiteTickerError) => void;
  cleanup: () => void;
}

export class ConnectWaiters {
  readonly #waiters = new Set<Waiter>();
  readonly #onLastAborted: () => void;

  /** `onLastAborted` runs when an abort leaves nobody waiting. */
  constructor(onLastAborted: () => void) {
    this.#onLastAborted = onLastAborted;
  }

  /** A promise for one more caller; `signal`, when it aborts, rejects it with ERR_ABORTED. */
  add(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cleanup: noop };
      if (signal) {
        const onAbort = (): void => this.#abort(waiter, signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.add(waiter);
    });
  }

  resolveAll(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.resolve();
    }
  }

  rejectAll(error: KiteTickerError): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) {
      waiter.cleanup();
      waiter.reject(error);
    }
  }

  #abort(waiter: Waiter, reason: unknown): void {
    if (!this.#waiters.delete(waiter)) return;
    waiter.reject(abortedError(reason));
    if (this.#waiters.size === 0) this.#onLastAborted();
  }
}

function noop(): void {}
