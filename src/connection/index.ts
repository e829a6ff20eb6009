/**
 * One ticker connection: `KiteTicker` and its contract. The pure pieces it is built from (backoff,
 * option resolution, subscription deltas) are internals: import them from their own files.
 */

export { type KeysFileTokenProvider, keysFileTokenProvider } from './keys-file-provider.js';
export { DEFAULT_RECONNECT_POLICY } from './options.js';
export { KiteTicker } from './ticker.js';
export type * from './types.js';
