/**
 * The fluent builder of `MultiApiKiteTickerManager`, named after the guide's (camelCase of the Rust
 * names). Setters only record; `build()` validates everything at once and throws a typed error.
 */
import { TIMEOUT, WINDOW } from '../config/limits.js';
import { count, duration } from '../config/validate.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import { DuplicateApiKeyError, InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { MANAGER_DEFAULTS, resolveManagerConfig } from '../manager/config.js';
import type { KiteTickerManagerConfig } from '../manager/types.js';
import { isMode, KITE_LIMITS, type Mode } from '../protocol/constants.js';
import { DEFAULT_ORDER_DEDUPE_WINDOW_MS } from '../stream/order-dedupe.js';
import { defaultManagerFactory } from './default-factory.js';
import { MultiApiKiteTickerManager } from './manager.js';
import {
  type ApiKeyCredentials,
  DistributionStrategy,
  type MultiApiKiteTickerManagerConfig,
  type TickerManagerFactory,
} from './types.js';

export class MultiApiKiteTickerManagerBuilder {
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
  #baseConfig: Partial<KiteTickerManagerConfig> = {};
  #url: string | undefined;
  #logger: Logger | undefined;
  #managerFactory: TickerManagerFactory = defaultManagerFactory;

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

  /** Default DistributionStrategy.RoundRobin. */
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
   * duplicate, in ms; 0 delivers every copy. Default 60 000. Each key's pool also drops the copies of
   * its own sockets, with its default window.
   */
  orderDedupeWindow(ms: number): this {
    this.#orderDedupeWindowMs = ms;
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

  /** Advanced/testing: makes each key's pool. Default builds a `KiteTickerManager`. */
  managerFactory(factory: TickerManagerFactory): this {
    this.#managerFactory = factory;
    return this;
  }

  /**
   * Validates and builds. Throws InvalidArgumentError, or DuplicateApiKeyError (ERR_DUPLICATE_API_KEY)
   * for an id added twice or one apiKey under two ids.
   */
  build(): MultiApiKiteTickerManager {
    return new MultiApiKiteTickerManager(this.resolve());
  }

  /** The validated config `build()` uses (exposed for tests and tools). */
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
    if (!isMode(defaultMode)) {
      throw new InvalidArgumentError(
        `defaultMode must be 'ltp', 'quote' or 'full', got ${String(defaultMode)}`,
      );
    }
    const strategy: unknown = this.#distributionStrategy;
    if (strategy !== DistributionStrategy.RoundRobin && strategy !== DistributionStrategy.Manual) {
      throw new InvalidArgumentError(
        `distributionStrategy must be DistributionStrategy.RoundRobin or .Manual, got ${String(strategy)}`,
      );
    }
    if (this.#url !== undefined) requireText(this.#url, 'url');
    if (typeof this.#managerFactory !== 'function') {
      throw new InvalidArgumentError('managerFactory must be a function');
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
    // Every pool gets this config: check it now (reconnect delays, channel capacity...), whatever
    // managerFactory makes of it.
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
      baseConfig,
      managerFactory: this.#managerFactory,
    };
  }
}

function requireText(value: unknown, name: string): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string`);
  }
}
