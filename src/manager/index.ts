/**
 * The one manager and its one-key face: `MultiApiKiteTickerManager` (N API keys, built with
 * `MultiApiKiteTickerManager.builder()`) and `KiteTickerManager` (one key). The planners, the
 * desired-state table and the pool are internals: import them from their own files.
 */
export { ManagerOptionsBuilder } from './builder.js';
export { MANAGER_DEFAULTS } from './config.js';
export { type ManagerState, MultiApiKiteTickerManager, MultiApiKiteTickerManagerBuilder } from './manager.js';
export { KiteTickerManager } from './single.js';
export type * from './types.js';
export { ChannelId, DistributionStrategy } from './types.js';
