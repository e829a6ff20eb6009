/**
 * The production pool of one key: the single-key `KiteTickerManager`. Kept in its own file so the
 * builder's default is the only place the multi-manager depends on the implementation, not the contract.
 */
import { KiteTickerManager } from '../manager/index.js';
import type { TickerManagerFactory } from './types.js';

// The multi-manager exposes no pool's latestQuotes, so keeping them would only cost CPU and memory
// (every tick object kept alive until its instrument's next tick; see BENCHMARKS.md).
export const defaultManagerFactory: TickerManagerFactory = (apiKey, accessToken, config) =>
  new KiteTickerManager(apiKey, accessToken, { ...config, latestQuotes: false });
