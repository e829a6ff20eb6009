/**
 * The allowed range of every duration and size option, in one table, so the connection, the
 * managers, the builder, the simulator, the channels and the CLI agree (docs list the same numbers).
 *
 * Minimums: every option is in milliseconds, and the Rust guide's `Duration::from_secs(30)` copied as
 * `connectionTimeout(30)` would silently mean 30 ms. A timeout or an interval below 100 ms is never
 * useful against Kite (heartbeats come about every second), so it is refused with a hint about the
 * unit. Delays whose 0 means "at once" (reconnect delays, a fault's length) keep 0 as their minimum.
 * Maximums: what a Node timer holds (`MAX_TIMER_MS`), applied by `duration()` itself.
 */
import type { CountRule, DurationRule } from './validate.js';

/** Smallest timeout or interval of the library (connect, liveness, health check, failover). */
export const MIN_TIMEOUT_MS = 100;

/** Library timeouts and intervals (ticker, manager, builder, NATS sink connect). */
export const TIMEOUT: DurationRule = { min: MIN_TIMEOUT_MS };
/** Delays where 0 means "at once": reconnect delays, the stable time that resets the backoff. */
export const DELAY: DurationRule = { min: 0 };
/** Windows where 0 switches the feature off and Infinity means "forever" (order de-duplication). */
export const WINDOW: DurationRule = { min: 0, infinite: true };
/**
 * Simulator timer periods (heartbeats, frame batches): tests drive it fast on purpose, so the floor is
 * the timer granularity worth having rather than a unit guard.
 */
export const SIM_PERIOD: DurationRule = { min: 10 };
/** Simulator fault lengths (stall, refusal window, restart downtime). */
export const FAULT: DurationRule = { min: 0 };
/** CLI `--duration`, in seconds (1 ms resolution). */
export const CLI_DURATION: DurationRule = { min: 0.001, unit: 'seconds' };

/**
 * Most messages a channel may buffer. A channel grows its ring as messages arrive, but a capacity far
 * beyond this is a typo or a leak: 1e9 would take tens of GB before any consumer noticed.
 */
export const MAX_CHANNEL_CAPACITY = 1_000_000;
export const CHANNEL_CAPACITY: CountRule = { min: 1, max: MAX_CHANNEL_CAPACITY };

/** Largest synthetic simulator universe (built eagerly, ~500 bytes an instrument); Kite lists ~100 000. */
export const MAX_UNIVERSE_SIZE = 1_000_000;
