/**
 * The lease timings, validated together because their order is what makes fencing safe
 * (docs/high-availability.md, "Why fencing is safe"):
 *
 *   renewMs < fenceMs < ttlMs
 *
 * A holder renews every renewMs and closes its Kite sockets once fenceMs passed (by its own monotonic
 * clock) since the SEND time of its last successful renewal; a standby takes a lease only after its
 * revision stood still for ttlMs by the standby's own clock, which it can only start counting after
 * that renewal was written. ttlMs - fenceMs is the margin for a late timer and the sockets' close.
 */
import { duration, MAX_TIMER_MS } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';

export interface HaTimings {
  /** A lease lapses when it was not renewed for this long. Default 2000 ms. */
  ttlMs: number;
  /** The holder renews this often. Default ttlMs / 4. */
  renewMs: number;
  /** The holder closes the key's sockets this long after its last successful renewal was sent. Default 0.6 x ttlMs. */
  fenceMs: number;
  /** A standby reads the leases this often (and at once when a lease is released). Default ttlMs / 8. */
  pollMs: number;
  /**
   * The bucket's max age: entries nobody rewrote for this long are removed by the server (a departed
   * instance's member record, a lease of a key no instance has any more). Holders rewrite their want
   * records every cleanupMs / 4. Default 1 hour; at least 4 x ttlMs.
   */
  cleanupMs: number;
}

export type HaTimingOptions = Partial<HaTimings>;

export const DEFAULT_TTL_MS = 2_000;
/** Lease TTLs below this leave no room for a NATS round trip between renewals. */
export const MIN_TTL_MS = 400;
/**
 * Lease TTLs above this are refused, and a lease record claiming more is unreadable: a standby honours
 * the holder's TTL, so a record claiming days would otherwise block every takeover for days.
 */
export const MAX_TTL_MS = 600_000;
export const DEFAULT_CLEANUP_MS = 3_600_000;

export function resolveTimings(options: HaTimingOptions = {}): HaTimings {
  const ttlMs = duration(options.ttlMs, 'ha ttlMs', {
    min: MIN_TTL_MS,
    max: MAX_TTL_MS,
    default: DEFAULT_TTL_MS,
  });
  const renewMs = duration(options.renewMs, 'ha renewMs', {
    min: 50,
    default: Math.round(ttlMs / 4),
  });
  const fenceMs = duration(options.fenceMs, 'ha fenceMs', {
    min: 50,
    default: Math.round(ttlMs * 0.6),
  });
  const pollMs = duration(options.pollMs, 'ha pollMs', {
    min: 20,
    default: Math.max(20, Math.round(ttlMs / 8)),
  });
  const cleanupMs = duration(options.cleanupMs, 'ha cleanupMs', {
    min: 4 * ttlMs,
    max: MAX_TIMER_MS,
    default: Math.max(DEFAULT_CLEANUP_MS, 4 * ttlMs),
  });
  if (!(renewMs < fenceMs && fenceMs < ttlMs)) {
    throw new InvalidArgumentError(
      `ha timings: expected renewMs < fenceMs < ttlMs, got renewMs ${renewMs}, fenceMs ${fenceMs}, ttlMs ${ttlMs} (a holder must renew before it fences, and fence before a standby may take its lease)`,
    );
  }
  if (pollMs >= ttlMs) {
    throw new InvalidArgumentError(
      `ha timings: expected pollMs < ttlMs, got pollMs ${pollMs}, ttlMs ${ttlMs}`,
    );
  }
  return { ttlMs, renewMs, fenceMs, pollMs, cleanupMs };
}
