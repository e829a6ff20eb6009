/**
 * The multi-key names, where they were before the managers became one (src/manager). Kept so that
 * existing imports of this path keep working.
 */

export type {
  ApiKeyCredentials,
  ApiKeyFailureReason,
  ApiKeyState,
  ApiKeyStats,
  EventedTickerManager,
  FailoverEvent,
  MultiApiEvents,
  MultiApiKiteTickerManagerConfig,
  MultiApiMessage,
  MultiApiStats,
  TickerManagerFactory,
  UnplacedEvent,
} from '../manager/index.js';
export {
  DistributionStrategy,
  MultiApiKiteTickerManager,
  MultiApiKiteTickerManagerBuilder,
} from '../manager/index.js';
