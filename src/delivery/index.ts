/**
 * Delivery building blocks shared by the managers: bounded channels and their fan-out, the latest-quote
 * table, and order-update de-duplication.
 */
export { BoundedChannel, DEFAULT_CHANNEL_CAPACITY } from './bounded-channel.js';
export { Broadcaster } from './broadcaster.js';
export { LatestQuoteTable, type LatestQuoteTableOptions } from './latest-quotes.js';
export {
  DEFAULT_ORDER_DEDUPE_ENTRIES,
  DEFAULT_ORDER_DEDUPE_WINDOW_MS,
  MAX_ORDER_DEDUPE_ENTRIES,
  OrderDeduplicator,
  type OrderDeduplicatorOptions,
  orderUpdateKey,
} from './order-dedupe.js';
export type { Channel, ChannelOptions, OverflowPolicy } from './types.js';
