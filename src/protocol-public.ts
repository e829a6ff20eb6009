/**
 * `kiteticker-manager/protocol`: the complete wire codec, both sides (what a Kite-protocol server, a
 * relay or a test needs: encoders, client-command parsing, wire constants), and the delivery building
 * blocks the managers are made of (bounded channels, the broadcaster, the latest-quote table, order
 * de-duplication). The root entry keeps only the client's side; docs/api.md documents every name here.
 */

export { BoundedChannel, DEFAULT_CHANNEL_CAPACITY } from './delivery/bounded-channel.js';
export { Broadcaster } from './delivery/broadcaster.js';
export { LatestQuoteTable, type LatestQuoteTableOptions } from './delivery/latest-quotes.js';
export {
  DEFAULT_ORDER_DEDUPE_ENTRIES,
  DEFAULT_ORDER_DEDUPE_WINDOW_MS,
  MAX_ORDER_DEDUPE_ENTRIES,
  OrderDeduplicator,
  type OrderDeduplicatorOptions,
  orderUpdateKey,
} from './delivery/order-dedupe.js';
export type { Channel, ChannelOptions, OverflowPolicy } from './delivery/types.js';
export {
  type ClientCommand,
  DEFAULT_MAX_TOKENS_PER_MESSAGE,
  encodeMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type ParseClientCommandResult,
  parseClientCommand,
  validateTokens,
} from './protocol/commands.js';
export * from './protocol/constants.js';
export { decodeFrame, isHeartbeat } from './protocol/decode.js';
export {
  encodedLength,
  encodeFrame,
  encodeTick,
  encodeTicks,
  HEARTBEAT,
  writeTick,
} from './protocol/encode.js';
export { FrameView } from './protocol/frame-view.js';
export { parseTextMessage } from './protocol/text.js';
export { MAX_RENDERED_TEXT, MAX_TEXT_NESTING } from './protocol/text-guard.js';
export type * from './protocol/types.js';
