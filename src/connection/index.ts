/**
 * One ticker connection: `KiteTicker` and the pure pieces it is built from.
 */
export { backoffDelay, baseDelay, type RandomSource } from './backoff.js';
export {
  DEFAULT_RECONNECT_POLICY,
  DEFAULT_TICKER_OPTIONS,
  type ResolvedTickerOptions,
  resolveReconnectPolicy,
  resolveTickerOptions,
} from './options.js';
export {
  deltaCommands,
  replayCommands,
  SERVER_DEFAULT_MODE,
  type SubscriptionDelta,
  SubscriptionState,
} from './subscriptions.js';
export { KiteTicker, type KiteTickerInternals } from './ticker.js';
export type * from './types.js';
export { USER_AGENT } from './version.js';
