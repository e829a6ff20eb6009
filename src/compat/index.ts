/**
 * `kiteticker-manager/compat`: the official `kiteconnect` client's `KiteTicker` API on this library's
 * connection. Change `from 'kiteconnect'` to `from 'kiteticker-manager/compat'` and keep your handlers.
 */

export type { Tick } from '../protocol/types.js';
export {
  type CompatEventName,
  type CompatEvents,
  type CompatOptions,
  KiteTicker,
  type KiteTickerParams,
} from './ticker.js';
