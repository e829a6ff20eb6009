/**
 * The stall watchdog: while a socket is open, checks every `livenessTimeoutMs / 4` that some frame
 * (heartbeats count) arrived within `livenessTimeoutMs`; a silent socket is marked stale and handed back
 * to the ticker, which cuts it (the close that follows schedules the reconnect).
 *
 * Separate from ticker.ts because it is a timer with one rule of its own. The per-frame side stays in the
 * ticker: it stamps the time of the last frame in its own field, which this reads only when it checks.
 */
import type { Attempt } from './socket.js';

/** What the watchdog needs from its ticker. */
export interface LivenessHost {
  /** The attempt in use, if any. */
  attempt(): Attempt | undefined;
  /** Epoch ms of the last frame of any kind; 0 before the first. */
  lastFrameAt(): number;
  /** `attempt` was silent `silentMs` and is now marked stale; the watchdog has stopped. */
  stale(attempt: Attempt, silentMs: number): void;
}

export class LivenessWatchdog {
  readonly #timeoutMs: number;
  readonly #host: LivenessHost;
  #timer: NodeJS.Timeout | undefined;
  // Bound once: the interval creates no closure per check.
  readonly #check = (): void => {
    const attempt = this.#host.attempt();
    if (attempt === undefined || !attempt.opened || attempt.endedBy !== undefined) return;
    const silentMs = Date.now() - Math.max(this.#host.lastFrameAt(), attempt.openedAt);
    if (silentMs < this.#timeoutMs) return;
    attempt.endedBy = 'stale';
    this.stop();
    this.#host.stale(attempt, silentMs);
  };

  constructor(timeoutMs: number, host: LivenessHost) {
    this.#timeoutMs = timeoutMs;
    this.#host = host;
  }

  /** Starts checking (a socket just opened). */
  start(): void {
    const period = Math.max(10, Math.floor(this.#timeoutMs / 4));
    this.#timer = setInterval(this.#check, period);
  }

  stop(): void {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
