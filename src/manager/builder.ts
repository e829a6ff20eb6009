/**
 * The fluent options of `MultiApiKiteTickerManager`, named after the guide's builder (camelCase of the
 * Rust names). Setters only record; `resolve()` validates everything at once and throws a typed error.
 * This file knows nothing of the manager: `build()` is added by `MultiApiKiteTickerManagerBuilder` in
 * manager.ts, so the two files import one way only (no cycle).
 */

import { TIMEOUT, WINDOW } from '../config/limits.js';
import { count, duration } from '../config/validate.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import {
  DEFAULT_ORDER_DEDUPE_ENTRIES,
  DEFAULT_ORDER_DEDUPE_WINDOW_MS,
  MAX_ORDER_DEDUPE_ENTRIES,
} from '../delivery/order-dedupe.js';
import { DuplicateApiKeyError, InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MANAGER_DEFAULTS, resolveManagerConfig } from '../manager/config.js';
import type { KiteTickerManagerConfig } from '../manager/types.js';
import { ConnectionPool } from '../pool/pool.js';
import type { Placement, PoolFactory } from '../pool/types.js';
import { isMode, KITE_LIMITS, type Mode } from '../protocol/constants.js';
import {
  type ApiKeyCredentials,
  DistributionStrategy,
  type MultiApiKiteTickerManagerConfig,
} from './types.js';

/** The production pool of one key. */
export const defaultPoolFactory: PoolFactory = (apiKey, accessToken, config, owner) =>
  new ConnectionPool(apiKey, accessToken, config, owner);

export class ManagerOptionsBuilder {
  readonly #keys: ApiKeyCredentials[] = [];
  #maxConnectionsPerApi: number | undefined;
  #maxSymbolsPerConnection: number | undefined;
  #connectionTimeoutMs: number | undefined;
  #distributionStrategy: DistributionStrategy = DistributionStrategy.RoundRobin;
  #defaultMode: Mode | undefined;
  #enableHealthMonitoring = true;
  #healthCheckIntervalMs: number | undefined;
  #enableFailover = true;
  #failoverAfterMs = 30_000;
  #orderDedupeWindowMs = DEFAULT_ORDER_DEDUPE_WINDOW_MS;
  #orderDedupeSize = DEFAULT_ORDER_DEDUPE_ENTRIES;
  #placement: Placement | undefined;
  #latestQuotes = false;
  #rawFrames = false;
  #waitForKeys = false;
  #decodeTicks = true;
  #baseConfig: Partial<KiteTickerManagerConfig> = {};
  #url: string | undefined;
  #logger: Logger | undefined;
  #poolFactory: PoolFactory = defaultPoolFactory;

  /** Adds a key. `id` is your name for it (unique); keys keep the order in which they are added. */
  addApiKey(id: string, apiKey: string, accessToken: AccessTokenSource): this {
    this.#keys.push({ id, apiKey, accessToken });
    return this;
  }

  /** Sockets per key, 1-3 (Kite's limit). Default 3. */
  maxConnectionsPerApi(n: number): this {
    this.#maxConnectionsPerApi = n;
    return this;
  }

  /** Instruments per socket, 1-3000 (Kite's limit). Default 3000. */
  maxSymbolsPerConnection(n: number): this {
    this.#maxSymbolsPerConnection = n;
    return this;
  }

  /** Connect timeout per socket, in ms (100 to 2^31-1). Default 30 000. */
  connectionTimeout(ms: number): this {
    this.#connectionTimeoutMs = ms;
    return this;
  }

  /**
   * Default DistributionStrategy.RoundRobin, which is least-loaded (see DistributionStrategy; the
   * same value is also named `LeastLoaded`).
   */
  distributionStrategy(strategy: DistributionStrategy): this {
    this.#distributionStrategy = strategy;
    return this;
  }

  /** Mode for subscribe calls that give none. Default Mode.Quote. */
  defaultMode(mode: Mode): this {
    this.#defaultMode = mode;
    return this;
  }

  /** Periodic health check of every key (logs, and a failover safety net). Default true. */
  enableHealthMonitoring(enabled: boolean): this {
    this.#enableHealthMonitoring = enabled;
    return this;
  }

  /** Period of the health check, in ms (100 to 2^31-1). Default 10 000. */
  healthCheckInterval(ms: number): this {
    this.#healthCheckIntervalMs = ms;
    return this;
  }

  /** Move a failed key's tokens to the other keys. Default true. */
  enableFailover(enabled: boolean): this {
    this.#enableFailover = enabled;
    return this;
  }

  /** How long a key may have no connected socket (while trying) before it fails over, in ms (100 to 2^31-1). Default 30 000. */
  failoverAfter(ms: number): this {
    this.#failoverAfterMs = ms;
    return this;
  }

  /**
   * Window in which a repeated order update (same order and state, from another socket or key) is a
   * duplicate, in ms; 0 delivers every copy. Default 60 000. One de-duplicator serves every socket of
   * every key.
   */
  orderDedupeWindow(ms: number): this {
    this.#orderDedupeWindowMs = ms;
    return this;
  }

  /** Most order updates remembered for de-duplication, 1 to 1 000 000. Default 10 000. */
  orderDedupeSize(n: number): this {
    this.#orderDedupeSize = n;
    return this;
  }

  /**
   * How each key's tokens are spread over its sockets: 'fill' (default: first fit, fewest sockets) or
   * 'spread' (evenly over `maxConnectionsPerApi` sockets, so a dropped socket takes fewer with it).
   * Default baseConfig.placement, else 'fill'.
   */
  placement(placement: Placement): this {
    this.#placement = placement;
    return this;
  }

  /** Keep `manager.latestQuotes` current (one table for every key). Default false. */
  latestQuotes(enabled: boolean): this {
    this.#latestQuotes = enabled;
    return this;
  }

  /** Emit every binary frame as received on 'frame' `(frame, apiKeyId, connectionIndex)`. Default false. */
  rawFrames(enabled: boolean): this {
    this.#rawFrames = enabled;
    return this;
  }

  /**
   * Keep running when every key fails to start (tokens refused, host unreachable), and let
   * subscribeSymbols leave what finds no room unplaced (an 'unplaced' event) rather than throw
   * CapacityError; unplaced tokens are placed as keys recover. For services that wait for a token
   * (a daily login) instead of exiting. Default false.
   */
  waitForKeys(enabled: boolean): this {
    this.#waitForKeys = enabled;
    return this;
  }

  /**
   * Decode frames into tick objects. Default true. `false` when only raw frames are read ('frame'
   * events, as the relay does): no 'ticks' events, no tick messages on channels; the decoding each
   * tick costs (~1.5 us) is saved. Cannot be combined with `latestQuotes(true)`.
   */
  decodeTicks(enabled: boolean): this {
    this.#decodeTicks = enabled;
    return this;
  }

  /** Config given to every key's `KiteTickerManager`; the builder's own setters take precedence. Default {}. */
  baseConfig(config: Partial<KiteTickerManagerConfig>): this {
    this.#baseConfig = { ...config };
    return this;
  }

  /** Ticker URL for every key (a simulator, a proxy). Default baseConfig.url, else 'wss://ws.kite.trade'. */
  url(url: string): this {
    this.#url = url;
    return this;
  }

  /** Logger for the manager and every key's pool. Default silent. */
  logger(logger: Logger): this {
    this.#logger = logger;
    return this;
  }

  /** Advanced/testing: makes each key's pool (a `KeyPool`). Default a `ConnectionPool`. */
  poolFactory(factory: PoolFactory): this {
    this.#poolFactory = factory;
    return this;
  }

  /** The former name of `poolFactory` (kept as an alias). */
  managerFactory(factory: PoolFactory): this {
    return this.poolFactory(factory);
  }

  /**
   * The validated config `build()` uses (exposed for tests and tools). Throws InvalidArgumentError, or
   * ERR_DUPLICATE_API_KEY (a KiteTickerError for an id added twice, a DuplicateApiKeyError for one
   * apiKey under two ids).
   */
  resolve(): MultiApiKiteTickerManagerConfig {
    if (this.#keys.length === 0) {
      throw new InvalidArgumentError('no API keys: call addApiKey(id, apiKey, accessToken) at least once');
    }
    const seen = new Set<string>();
    const idByApiKey = new Map<string, string>();
    for (const key of this.#keys) {
      requireText(key.id, 'API key id');
      requireText(key.apiKey, `apiKey of ${JSON.stringify(key.id)}`);
      if (typeof key.accessToken !== 'function') {
        requireText(key.accessToken, `accessToken of ${JSON.stringify(key.id)}`);
      }
      if (seen.has(key.id)) {
        throw new DuplicateApiKeyError(key.id, key.id);
      }
      seen.add(key.id);
      // Kite's 3-socket limit is per apiKey: two ids for one key would start two pools over it.
      const first = idByApiKey.get(key.apiKey);
      if (first !== undefined) throw new DuplicateApiKeyError(first, key.id);
      idByApiKey.set(key.apiKey, key.id);
    }
    const base = this.#baseConfig;
    const d = MANAGER_DEFAULTS;
    const maxConnectionsPerApi = this.#maxConnectionsPerApi ?? base.maxConnections ?? d.maxConnections;
    const maxSymbolsPerConnection =
      this.#maxSymbolsPerConnection ?? base.maxSymbolsPerConnection ?? d.maxSymbolsPerConnection;
    const connectionTimeoutMs =
      this.#connectionTimeoutMs ?? base.connectionTimeoutMs ?? d.connectionTimeoutMs;
    const healthCheckIntervalMs =
      this.#healthCheckIntervalMs ?? base.healthCheckIntervalMs ?? d.healthCheckIntervalMs;
    const defaultMode = this.#defaultMode ?? base.defaultMode ?? d.defaultMode;
    // Named as the setters are, so the message points at the call the user wrote.
    count(maxConnectionsPerApi, 'maxConnectionsPerApi', {
      min: 1,
      max: KITE_LIMITS.maxConnectionsPerApiKey,
    });
    count(maxSymbolsPerConnection, 'maxSymbolsPerConnection', {
      min: 1,
      max: KITE_LIMITS.maxInstrumentsPerConnection,
    });
    duration(connectionTimeoutMs, 'connectionTimeout', TIMEOUT);
    duration(healthCheckIntervalMs, 'healthCheckInterval', TIMEOUT);
    duration(this.#failoverAfterMs, 'failoverAfter', TIMEOUT);
    duration(this.#orderDedupeWindowMs, 'orderDedupeWindow', WINDOW);
    count(this.#orderDedupeSize, 'orderDedupeSize', { min: 1, max: MAX_ORDER_DEDUPE_ENTRIES });
    requireBoolean(this.#latestQuotes, 'latestQuotes');
    requireBoolean(this.#rawFrames, 'rawFrames');
    requireBoolean(this.#waitForKeys, 'waitForKeys');
    requireBoolean(this.#decodeTicks, 'decodeTicks');
    if (!this.#decodeTicks && this.#latestQuotes) {
      throw new InvalidArgumentError(
        'decodeTicks false cannot be combined with latestQuotes true (decoded ticks feed the quote table): set latestQuotes false too',
      );
    }
    if (!isMode(defaultMode)) {
      throw new InvalidArgumentError(
        `defaultMode must be 'ltp', 'quote' or 'full', got ${String(defaultMode)}`,
      );
    }
    const strategy: unknown = this.#distributionStrategy;
    if (strategy !== DistributionStrategy.RoundRobin && strategy !== DistributionStrategy.Manual) {
      throw new InvalidArgumentError(
        `distributionStrategy must be DistributionStrategy.RoundRobin (LeastLoaded) or .Manual, got ${String(strategy)}`,
      );
    }
    if (this.#url !== undefined) requireText(this.#url, 'url');
    if (typeof this.#poolFactory !== 'function') {
      throw new InvalidArgumentError('poolFactory must be a function');
    }
    const baseConfig: Partial<KiteTickerManagerConfig> = {
      ...base,
      maxConnections: maxConnectionsPerApi,
      maxSymbolsPerConnection,
      connectionTimeoutMs,
      healthCheckIntervalMs,
      defaultMode,
    };
    if (this.#url !== undefined) baseConfig.url = this.#url;
    if (this.#logger !== undefined) baseConfig.logger = this.#logger;
    if (this.#placement !== undefined) baseConfig.placement = this.#placement;
    // Every pool gets this config: check it now (reconnect delays, channel capacity, placement...),
    // whatever poolFactory makes of it.
    resolveManagerConfig(baseConfig);
    return {
      apiKeys: this.#keys.map((k) => ({ ...k })),
      maxConnectionsPerApi,
      maxSymbolsPerConnection,
      connectionTimeoutMs,
      distributionStrategy: this.#distributionStrategy,
      defaultMode,
      enableHealthMonitoring: this.#enableHealthMonitoring,
      healthCheckIntervalMs,
      enableFailover: this.#enableFailover,
      failoverAfterMs: this.#failoverAfterMs,
      orderDedupeWindowMs: this.#orderDedupeWindowMs,
      orderDedupeSize: this.#orderDedupeSize,
      latestQuotes: this.#latestQuotes,
      rawFrames: this.#rawFrames,
      waitForKeys: this.#waitForKeys,
      decodeTicks: this.#decodeTicks,
      baseConfig,
      managerFactory: this.#poolFactory,
    };
  }
}

function requireBoolean(value: unknown, name: string): void {
  if (typeof value !== 'boolean')
    throw new InvalidArgumentError(`${name} must be a boolean, got ${String(value)}`);
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string`);
  }
}
