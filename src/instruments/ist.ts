/**
 * Dates in Asia/Kolkata, where Kite lives. India has had no daylight saving time since 1945, so a fixed
 * +05:30 offset is exact and needs no time-zone database (Intl may be built without one).
 */
import { InvalidArgumentError } from '../errors.js';

const IST_OFFSET_MS = (5 * 60 + 30) * 60_000;
const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the instant `ms` in Asia/Kolkata. */
export function istDate(ms: number): string {
  return new Date(ms + IST_OFFSET_MS).toISOString().slice(0, 10);
}

/** Parses `HH:MM` (24-hour) into minutes after midnight. @throws InvalidArgumentError */
export function parseClock(hhmm: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(hhmm.trim());
  const h = m ? Number(m[1]) : Number.NaN;
  const min = m ? Number(m[2]) : Number.NaN;
  if (!(h >= 0 && h <= 23 && min >= 0 && min <= 59)) {
    throw new InvalidArgumentError(`invalid time of day ${JSON.stringify(hhmm)}: expected HH:MM, e.g. 08:30`);
  }
  return h * 60 + min;
}

/**
 * The latest daily publication at or before `now`: today's `publishAt` (IST) if it has passed, else
 * yesterday's. A cached list fetched before this instant is stale.
 */
export function lastPublication(now: number, publishAt = '08:30'): number {
  const minutes = parseClock(publishAt);
  const istNow = now + IST_OFFSET_MS;
  const istMidnight = istNow - (((istNow % DAY_MS) + DAY_MS) % DAY_MS);
  let publication = istMidnight + minutes * 60_000 - IST_OFFSET_MS;
  if (publication > now) publication -= DAY_MS;
  return publication;
}

/** Whether `s` is a real calendar date written `YYYY-MM-DD`. */
export function isIsoDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
