/**
 * Reconnect delays. Pure: the randomness is injected so tests can pin it.
 *
 *   base(n)  = min(maxDelayMs, initialDelayMs * multiplier^(n-1), 2^31-1)     n = 1, 2, 3...
 *   delay(n) = jitter 'none' ? base(n) : round(random() * base(n))     (full jitter, uniform in [0, base])
 *
 * Full jitter spreads reconnects of many sockets (3 per key, many keys) after a shared outage, so they
 * do not all hit the server in the same millisecond.
 */
import { timerMs } from '../config/validate.js';
import type { ReconnectPolicy } from './types.js';

export type RandomSource = () => number;

/** The delay before reconnect attempt `attempt` (1-based) without jitter. */
export function baseDelay(
  attempt: number,
  policy: Pick<ReconnectPolicy, 'initialDelayMs' | 'multiplier' | 'maxDelayMs'>,
): number {
  const n = Math.max(1, Math.floor(attempt));
  if (policy.initialDelayMs === 0) return 0;
  const raw = policy.initialDelayMs * policy.multiplier ** (n - 1);
  // A huge attempt count makes `raw` Infinity; the cap covers it. The policy is validated, but the
  // result goes straight to setTimeout, which fires anything above 2^31-1 ms after 1 ms: clamp anyway.
  const capped = Number.isFinite(raw) ? Math.min(policy.maxDelayMs, raw) : policy.maxDelayMs;
  return timerMs(capped);
}

/** The delay before reconnect attempt `attempt` (1-based), jitter applied, in whole milliseconds. */
export function backoffDelay(
  attempt: number,
  policy: Pick<ReconnectPolicy, 'initialDelayMs' | 'multiplier' | 'maxDelayMs' | 'jitter'>,
  random: RandomSource = Math.random,
): number {
  const base = baseDelay(attempt, policy);
  if (policy.jitter === 'none') return Math.round(base);
  const r = random();
  // Clamp a misbehaving source into [0, 1] rather than produce a negative or oversized delay.
  const unit = r >= 0 && r <= 1 ? r : r > 1 ? 1 : 0;
  return Math.round(unit * base);
}
