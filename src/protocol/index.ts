/**
 * The protocol codec: pure functions with no I/O. See docs/protocol.md.
 */
export {
  type ClientCommand,
  DEFAULT_MAX_TOKENS_PER_MESSAGE,
  encodeMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type ParseClientCommandResult,
  parseClientCommand,
  validateTokens,
} from './commands.js';
export * from './constants.js';
export { decodeFrame, isHeartbeat } from './decode.js';
export { encodedLength, encodeFrame, encodeTick, encodeTicks, HEARTBEAT, writeTick } from './encode.js';
export { FrameView } from './frame-view.js';
export { parseTextMessage } from './text.js';
export { MAX_RENDERED_TEXT, MAX_TEXT_NESTING } from './text-guard.js';
export type * from './types.js';
