export { BoundedChannel, DEFAULT_CHANNEL_CAPACITY, resolveChannelOptions } from './bounded-channel.js';
export { Broadcaster } from './broadcaster.js';
export type { LatestQuoteTableOptions } from './latest-quotes.js';
export { LatestQuoteTable } from './latest-quotes.js';
export type { Channel, ChannelOptions, OverflowPolicy } from './types.js';
