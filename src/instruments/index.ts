export {
  type CacheLoadResult,
  type CacheMeta,
  defaultCacheDir,
  InstrumentCache,
  type InstrumentCacheOptions,
  type RefreshPolicy,
} from './cache.js';
export { parseCsv, scanCsv } from './csv.js';
export {
  type ChainStrike,
  type ExpirySpec,
  INDEX_SPOTS,
  type OptionChain,
  underlyingName,
} from './derivatives.js';
export {
  DEFAULT_KITE_API_URL,
  type DownloadOptions,
  type DownloadResult,
  downloadInstruments,
} from './download.js';
export { formatInstrumentsCsv } from './format.js';
export { istDate, lastPublication } from './ist.js';
export {
  type ChainManager,
  LiveChain,
  type LiveChainEvents,
  type LiveChainOptions,
  type RecenterEvent,
} from './live-chain.js';
export { InstrumentIndex, type InstrumentLike, parseSymbol } from './lookup.js';
export { loadInstrumentsCsv, parseInstrumentsCsv } from './parse.js';
export { InstrumentStore, type InstrumentStoreOptions, type SearchOptions } from './store.js';
export { INSTRUMENT_CSV_COLUMNS, type Instrument } from './types.js';
