/**
 * The simulator's trading-day clock: simulated time (optionally running faster than real time) and the
 * daily moment access tokens die (Kite: about 06:00 IST). IST is a fixed +05:30 with no daylight saving,
 * so local times are plain arithmetic on epoch milliseconds. The clock only tells time and calls back
 * at each expiry moment; what expires is the login endpoint's business.
 */
import { FAULT } from '../config/limits.js';
import { describe, duration, finiteNumber, MAX_TIMER_MS, timerMs } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';

/** India Standard Time is UTC+05:30 all year. */
export const IST_OFFSET_MS = (5 * 60 + 30) * 60_000;
const DAY_MS = 86_400_000;
/** Faster than this, one real millisecond is over a simulated quarter hour: timers lose meaning. */
export const MAX_CLOCK_SPEED = 1_000_000;

export interface TradingClockOptions {
  /** Local (IST, +05:30) time of day at which every access token expires, 'HH:MM'. Default '06:00'. */
  expiresAt?: string;
  /** Simulated milliseconds per real millisecond, 1 to 1 000 000 (3600 = one hour a second). Default 1. */
  speed?: number;
  /** Simulated epoch ms when the simulator is built. Default now. */
  startAt?: number;
  /** How long a request token lives, in real ms (0 to 2^31-1). Default 300 000 (Kite: minutes). */
  requestTokenTtlMs?: number;
}

export class TradingClock {
  readonly speed: number;
  /** Milliseconds after local midnight at which tokens expire. */
  readonly expiryOfDayMs: number;
  readonly requestTokenTtlMs: number;
  readonly #simStart: number;
  readonly #realStart: number;
  readonly #realNow: () => number;
  #timer: NodeJS.Timeout | undefined;

  /** @throws InvalidArgumentError for a bad option. */
  constructor(options: TradingClockOptions = {}, realNow: () => number = Date.now) {
    this.speed = finiteNumber(options.speed, 'tradingClock.speed', {
      min: 1,
      max: MAX_CLOCK_SPEED,
      what: 'a speed factor',
      default: 1,
    });
    this.expiryOfDayMs = parseTimeOfDay(options.expiresAt ?? '06:00');
    this.requestTokenTtlMs = duration(options.requestTokenTtlMs, 'tradingClock.requestTokenTtlMs', {
      ...FAULT,
      default: 300_000,
    });
    this.#realNow = realNow;
    this.#realStart = realNow();
    this.#simStart = finiteNumber(options.startAt, 'tradingClock.startAt', {
      min: 0,
      max: 8.64e15,
      what: 'an epoch time in ms',
      default: this.#realStart,
    });
  }

  /** Simulated epoch ms. */
  now(): number {
    return this.#simStart + (this.#realNow() - this.#realStart) * this.speed;
  }

  /** The first expiry moment strictly after simulated time `t`. */
  nextExpiry(t: number): number {
    const local = t + IST_OFFSET_MS;
    const dayStart = Math.floor(local / DAY_MS) * DAY_MS;
    let at = dayStart + this.expiryOfDayMs;
    if (at <= local) at += DAY_MS;
    return at - IST_OFFSET_MS;
  }

  /** Real milliseconds until simulated time `t` (0 if past). */
  realDelayUntil(t: number): number {
    return Math.max(0, (t - this.now()) / this.speed);
  }

  /**
   * Calls `onExpiry` at every expiry moment from now on, until stop(), with that moment (simulated
   * epoch ms): a timer that fires late still says which expiry it was.
   */
  start(onExpiry: (at: number) => void): void {
    this.stop();
    const arm = (): void => {
      const due = this.nextExpiry(this.now());
      // A far moment (a slow clock) is reached in timer-sized hops; each hop re-checks the time.
      const delay = Math.min(MAX_TIMER_MS, Math.ceil(this.realDelayUntil(due)) + 1);
      this.#timer = setTimeout(() => {
        if (this.now() >= due) onExpiry(due);
        arm();
      }, timerMs(delay));
      this.#timer.unref();
    };
    arm();
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** 'YYYY-MM-DD HH:MM:SS' in IST, as Kite writes `login_time`. */
export function formatIst(t: number): string {
  return new Date(t + IST_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** Parses Kite's IST 'YYYY-MM-DD HH:MM:SS' into epoch ms; NaN when it is not one. */
export function parseIst(text: string): number {
  if (!/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)) return Number.NaN;
  return Date.parse(`${text.replace(' ', 'T')}Z`) - IST_OFFSET_MS;
}

function parseTimeOfDay(text: unknown): number {
  const m = typeof text === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(text) : null;
  if (!m) {
    throw new InvalidArgumentError(
      `tradingClock.expiresAt: expected a local time HH:MM (00:00 to 23:59), got ${describe(text)}`,
    );
  }
  return (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}
