/**
 * kiteticker-manager: the curated public surface. Each area's own index.ts chooses what it exports;
 * internals (planners, option resolvers, test seams) stay reachable only by their own file paths.
 * Subpaths: `kiteticker-manager/compat`, `/simulator`, `/nats`.
 */

export * from './connection/index.js';
export * from './delivery/index.js';
export {
  ApiKeyNotFoundError,
  AuthFailedError,
  CapacityError,
  ConnectionError,
  ErrorCode,
  ExpiredInstrumentError,
  InstrumentsDownloadError,
  InvalidArgumentError,
  InvalidTokenError,
  KiteTickerError,
  redact,
  UnknownInstrumentError,
} from './errors.js';
export {
  type CacheLoadResult,
  type ChainStrike,
  DEFAULT_KITE_API_URL,
  defaultCacheDir,
  downloadInstruments,
  type ExpirySpec,
  formatInstrumentsCsv,
  type Instrument,
  InstrumentCache,
  type InstrumentCacheOptions,
  InstrumentIndex,
  type InstrumentLike,
  InstrumentStore,
  type InstrumentStoreOptions,
  LiveChain,
  type LiveChainOptions,
  loadInstrumentsCsv,
  type OptionChain,
  parseInstrumentsCsv,
  parseSymbol,
  type RecenterEvent,
  type RefreshPolicy,
  type SearchOptions,
} from './instruments/index.js';
export type { Logger } from './logger.js';
export { silentLogger } from './logger.js';
export * from './manager/index.js';
export * from './multi/index.js';
export * from './protocol/index.js';
