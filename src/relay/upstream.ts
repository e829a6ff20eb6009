/**
 * Keeps the upstream manager's subscriptions equal to what the relay's clients want: every wanted
 * token once, at the highest mode wanted. Rises (a new token, a higher mode) go upstream at once;
 * drops (the last client gone, the highest mode lower) wait `lingerMs` first, so a client that
 * reconnects or toggles a mode does not churn the upstream. Manager calls run one at a time, in
 * order; a subscribe the manager refuses (CapacityError: all-or-nothing) is handed back to `refused`
 * so the relay can tell the clients that asked, and nobody else.
 */
import { CapacityError, KiteTickerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import { modeOf } from './modes.js';

/** The manager calls the relay makes (MultiApiKiteTickerManager has them). */
export interface UpstreamManager {
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void>;
  unsubscribeSymbols(tokens: readonly number[]): Promise<void>;
  changeMode(tokens: readonly number[], mode: Mode): Promise<void>;
}

export interface UpstreamHooks {
  /** The highest rank clients want for `token` now (-1: none). */
  wanted(token: number): number;
  /** A subscribe of `tokens` failed upstream (nothing of it was placed). */
  refused(tokens: readonly number[], error: Error): void;
}

export class Upstream {
  readonly #manager: UpstreamManager;
  readonly #hooks: UpstreamHooks;
  readonly #lingerMs: number;
  readonly #log: Logger;
  /** token -> rank asked of the manager (set when the call is queued). */
  readonly #held = new Map<number, number>();
  /** token -> epoch ms at which a drop is due. Insertion order is deadline order (one linger for all). */
  readonly #linger = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #queue: Promise<void> = Promise.resolve();
  #closed = false;
  /** Manager calls that failed for another reason than capacity (logged). */
  failures = 0;

  constructor(manager: UpstreamManager, hooks: UpstreamHooks, lingerMs: number, log: Logger) {
    this.#manager = manager;
    this.#hooks = hooks;
    this.#lingerMs = lingerMs;
    this.#log = log;
  }

  /** Tokens held upstream (or queued to be), each once. */
  get size(): number {
    return this.#held.size;
  }

  /** Tokens whose drop waits for the linger. */
  get lingering(): number {
    return this.#linger.size;
  }

  /** The rank held upstream for `token`, or -1. */
  rank(token: number): number {
    return this.#held.get(token) ?? -1;
  }

  /**
   * Brings `tokens` in line with what clients want (`hooks.wanted`): subscribes or raises now, drops
   * after the linger. Returns a promise of the queued calls (tests await it; callers need not).
   */
  sync(tokens: Iterable<number>): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const fresh: number[][] = [[], [], []];
    const raise: number[][] = [[], [], []];
    let lingerAdded = false;
    for (const token of tokens) {
      const want = this.#hooks.wanted(token);
      const held = this.#held.get(token);
      if (held === undefined) {
        if (want >= 0) {
          this.#held.set(token, want);
          fresh[want]!.push(token);
        }
      } else if (want > held) {
        this.#linger.delete(token);
        this.#held.set(token, want);
        raise[want]!.push(token);
      } else if (want === held) {
        this.#linger.delete(token);
      } else if (!this.#linger.has(token)) {
        this.#linger.set(token, Date.now() + this.#lingerMs);
        lingerAdded = true;
      }
    }
    let last = this.#queue;
    for (let r = 0; r < 3; r++) {
      if (fresh[r]!.length > 0) last = this.#subscribe(fresh[r]!, r);
      if (raise[r]!.length > 0) last = this.#call(() => this.#manager.changeMode(raise[r]!, modeOf(r)));
    }
    if (lingerAdded) {
      if (this.#lingerMs === 0) last = this.#sweep();
      else this.#arm();
    }
    return last;
  }

  /** token -> mode held (a copy). */
  held(): Map<number, Mode> {
    const out = new Map<number, Mode>();
    for (const [t, r] of this.#held) out.set(t, modeOf(r));
    return out;
  }

  /** Stops the linger timer; queued calls still run. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Waits for every queued manager call. */
  idle(): Promise<void> {
    return this.#queue;
  }

  #subscribe(tokens: number[], rank: number): Promise<void> {
    return this.#enqueue(async () => {
      try {
        await this.#manager.subscribeSymbols(tokens, modeOf(rank));
      } catch (error) {
        // Nothing of the call was placed: forget it (the clients that want it are told and dropped).
        for (const t of tokens) {
          this.#held.delete(t);
          this.#linger.delete(t);
        }
        if (!(error instanceof CapacityError)) this.#failed(error, 'subscribe');
        this.#hooks.refused(tokens, error as Error);
      }
    });
  }

  #call(task: () => Promise<void>): Promise<void> {
    return this.#enqueue(async () => {
      try {
        await task();
      } catch (error) {
        this.#failed(error, 'update');
      }
    });
  }

  #failed(error: unknown, what: string): void {
    this.failures++;
    const message = error instanceof KiteTickerError ? error.message : String((error as Error)?.message);
    this.#log.warn({ err: message }, `relay: upstream ${what} failed`);
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(task);
    this.#queue = next;
    return next;
  }

  #arm(): void {
    if (this.#timer || this.#closed) return;
    const first = this.#linger.values().next();
    if (first.done) return;
    const ms = Math.max(0, first.value - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#sweep();
      this.#arm();
    }, ms);
    this.#timer.unref?.();
  }

  /** Applies every drop that is due. */
  #sweep(): Promise<void> {
    const now = Date.now();
    const gone: number[] = [];
    const lower: number[][] = [[], [], []];
    for (const [token, due] of this.#linger) {
      if (due > now) break;
      this.#linger.delete(token);
      const want = this.#hooks.wanted(token);
      const held = this.#held.get(token);
      if (held === undefined || want >= held) continue;
      if (want < 0) {
        this.#held.delete(token);
        gone.push(token);
      } else {
        this.#held.set(token, want);
        lower[want]!.push(token);
      }
    }
    let last = this.#queue;
    if (gone.length > 0) last = this.#call(() => this.#manager.unsubscribeSymbols(gone));
    for (let r = 0; r < 3; r++) {
      if (lower[r]!.length > 0) last = this.#call(() => this.#manager.changeMode(lower[r]!, modeOf(r)));
    }
    return last;
  }
}
