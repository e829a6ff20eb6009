/**
 * The production pool of one key: the single-key `KiteTickerManager`. Kept in its own file so the
 * builder's default is the only place the multi-manager depends on the implementation, not the contract.
 */
import { KiteTickerManager } from '../manager/index.js';
import type { TickerManagerFactory } from './types.js';

export const defaultManagerFactory: TickerManagerFactory = (apiKey, accessToken, config) =>
  new KiteTickerManager(apiKey, accessToken, config);
