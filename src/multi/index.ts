/**
 * Many API keys behind one manager: distribution strategies, a unified stream, failover. The planners
 * (plan.ts) and the desired-state table are internals: import them from their own files.
 */
export { MultiApiKiteTickerManagerBuilder } from './builder.js';
export { MultiApiKiteTickerManager } from './manager.js';
export {
  type ApiKeyCredentials,
  type ApiKeyFailureReason,
  type ApiKeyState,
  type ApiKeyStats,
  DistributionStrategy,
  type EventedTickerManager,
  type FailoverEvent,
  type MultiApiEvents,
  type MultiApiKiteTickerManagerConfig,
  type MultiApiMessage,
  type MultiApiStats,
  type TickerManagerFactory,
  type UnplacedEvent,
} from './types.js';
