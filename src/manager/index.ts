/**
 * One API key, up to 3 connections: `KiteTickerManager` and its contract. The placement planner and
 * config resolution are internals: import them from their own files.
 */
export { MANAGER_DEFAULTS } from './config.js';
export { KiteTickerManager, type ManagerState } from './manager.js';
export type * from './types.js';
