/**
 * Many API keys behind one manager: distribution strategies, a unified stream, failover.
 */
export { MultiApiKiteTickerManagerBuilder } from './builder.js';
export { MultiApiKiteTickerManager } from './manager.js';
export { OrderDeduper, type OrderDeduperOptions } from './order-dedupe.js';
export { assignBalanced, type KeyLoad, planFailover, planRoundRobin } from './plan.js';
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
