/**
 * kiteticker-manager: the curated public surface, listed name by name so that it cannot grow by
 * accident (test/unit/public-surface.test.ts pins it; docs/api.md documents every name). It holds
 * what a user of the README and docs/multi-api-guide.md needs: the managers and their builder, one
 * connection, ticks and their types, the fast decode path, the errors, the instruments list.
 * The codec's server side (encoders, command parsing, wire constants) and the delivery building blocks
 * (channels, broadcaster, de-duplicator) live at `kiteticker-manager/protocol`; test seams stay
 * internal. Other subpaths: `/compat`, `/simulator`, `/nats`.
 */

// One connection.
export { KiteTicker } from './connection/ticker.js';
export type {
  ConnectionStatus,
  KiteTickerEvents,
  KiteTickerOptions,
  ReconnectPolicy,
  StatusEvent,
  TickerStats,
} from './connection/types.js';
// What the managers hand out: channels and the latest-quote table (made by the managers, not by you).
export type { LatestQuoteTable } from './delivery/latest-quotes.js';
export type { Channel, ChannelOptions, OverflowPolicy } from './delivery/types.js';
// Errors: one class per code (docs/errors.md).
export {
  AbortedError,
  ApiKeyNotFoundError,
  AuthFailedError,
  CapacityError,
  ClosedError,
  ConnectionError,
  ConnectTimeoutError,
  DuplicateApiKeyError,
  ErrorCode,
  ExpiredInstrumentError,
  InstrumentsDownloadError,
  InvalidArgumentError,
  InvalidTokenError,
  KiteTickerError,
  LoginError,
  MalformedEnvelopeError,
  ManualDistributionError,
  NotStartedError,
  ReconnectExhaustedError,
  redact,
  TokenProviderError,
  UnexpectedError,
  UnknownInstrumentError,
} from './errors.js';
// The instruments list.
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
export { type Logger, silentLogger } from './logger.js';
export {
  type ManagerState,
  MultiApiKiteTickerManager,
  MultiApiKiteTickerManagerBuilder,
} from './manager/manager.js';
// The managers: one API key (up to 3 connections) and many.
export { KiteTickerManager } from './manager/single.js';
export {
  type ApiKeyCredentials,
  type ApiKeyFailureReason,
  type ApiKeyState,
  type ApiKeyStats,
  ChannelId,
  type ConnectionHealthState,
  type ConnectionStatsSnapshot,
  DistributionStrategy,
  type FailoverEvent,
  type KiteTickerManagerConfig,
  type KiteTickerManagerEvents,
  type KiteTickerManagerOptions,
  type ManagerEvents,
  type ManagerHealth,
  type ManagerStats,
  type MultiApiEvents,
  type MultiApiKiteTickerManagerConfig,
  type MultiApiMessage,
  type MultiApiStats,
  type Placement,
  type TickerMessage,
  type UnplacedEvent,
} from './manager/types.js';
export type { ExchangeName } from './protocol/constants.js';
// Ticks and the fast decode path.
export { Mode } from './protocol/constants.js';
export { decodeFrame, isHeartbeat } from './protocol/decode.js';
export { FrameView } from './protocol/frame-view.js';
export { parseTextMessage } from './protocol/text.js';
export type {
  Depth,
  DepthLevel,
  FullTick,
  IndexTick,
  LtpTick,
  Ohlc,
  OrderUpdate,
  ProtocolErrorHandler,
  ProtocolErrorInfo,
  ProtocolErrorKind,
  QuoteTick,
  TextMessage,
  Tick,
} from './protocol/types.js';
