/**
 * `KiteTickerManager`: one API key, up to `maxConnections` sockets of up to `maxSymbolsPerConnection`
 * instruments each. A thin face of the one manager (`MultiApiKiteTickerManager` with one key, named
 * by its apiKey): same events `(..., apiKeyId, connectionIndex)`, same stats shape, same queue; it only
 * exposes the per-key API (`getChannel(index)`, `updateAccessToken(token)`, a per-connection
 * distribution) and keeps the per-key defaults (quotes kept, subscriptions before start recorded, a
 * failed start retryable, no failover).
 */

import { EventEmitter } from 'node:events';
import { WINDOW } from '../config/limits.js';
import { count, duration } from '../config/validate.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import { MAX_ORDER_DEDUPE_ENTRIES } from '../delivery/order-dedupe.js';
import type { Channel, ChannelOptions } from '../delivery/types.js';
import { InvalidArgumentError } from '../errors.js';
import { ConnectionPool } from '../pool/pool.js';
import type { ConnectionFactory, ManagerHealth } from '../pool/types.js';
import type { Mode } from '../protocol/constants.js';
import { ManagerOptionsBuilder } from './builder.js';
import { resolveManagerConfig, validateCredentials } from './config.js';
import { type ManagerState, MultiApiKiteTickerManager } from './manager.js';
import type {
  KiteTickerManagerConfig,
  KiteTickerManagerOptions,
  ManagerEvents,
  ManagerStats,
  MultiApiMessage,
  TickerManager,
  TickerMessage,
} from './types.js';

export type { ManagerState } from './manager.js';

export class KiteTickerManager extends EventEmitter<ManagerEvents> implements TickerManager, AsyncDisposable {
  readonly apiKey: string;
  readonly config: Readonly<KiteTickerManagerConfig>;
  readonly #core: MultiApiKiteTickerManager;

  /**
   * @param apiKey the Kite Connect API key (also the `apiKeyId` events carry).
   * @param accessToken the session's access token (never logged; see updateAccessToken).
   * @param options every KiteTickerManagerConfig field is optional (defaults in docs/manager.md),
   *   plus `createConnection` (inject a fake in tests), `latestQuotes` (default true), `rawFrames`
   *   (default false), `decodeTicks` (default true) and `orderDedupeSize` / `orderDedupeWindowMs` (defaults 10 000 updates, 60 000 ms).
   * @throws InvalidArgumentError naming the first bad option.
   */
  constructor(apiKey: string, accessToken: AccessTokenSource, options: KiteTickerManagerOptions = {}) {
    super();
    validateCredentials(apiKey, accessToken);
    const {
      createConnection,
      orderDedupeSize,
      orderDedupeWindowMs,
      latestQuotes = true,
      rawFrames = false,
      decodeTicks = true,
      ...config
    } = options;
    // Checked here, under this constructor's option names, before the builder sees them.
    this.config = Object.freeze(resolveManagerConfig(config));
    if (createConnection !== undefined && typeof createConnection !== 'function') {
      throw new InvalidArgumentError('createConnection must be a function');
    }
    if (typeof latestQuotes !== 'boolean') {
      throw new InvalidArgumentError(`latestQuotes must be a boolean, got ${String(latestQuotes)}`);
    }
    if (orderDedupeSize !== undefined)
      count(orderDedupeSize, 'orderDedupeSize', { min: 1, max: MAX_ORDER_DEDUPE_ENTRIES });
    if (orderDedupeWindowMs !== undefined) duration(orderDedupeWindowMs, 'orderDedupeWindowMs', WINDOW);
    this.apiKey = apiKey;
    const builder = new ManagerOptionsBuilder()
      .addApiKey(apiKey, apiKey, accessToken)
      .baseConfig(this.config)
      .healthCheckInterval(this.config.healthCheckIntervalMs)
      .enableFailover(false)
      .latestQuotes(latestQuotes)
      .rawFrames(rawFrames)
      .decodeTicks(decodeTicks);
    if (orderDedupeSize !== undefined) builder.orderDedupeSize(orderDedupeSize);
    if (orderDedupeWindowMs !== undefined) builder.orderDedupeWindow(orderDedupeWindowMs);
    if (createConnection !== undefined) builder.poolFactory(poolWith(createConnection));
    this.#core = new MultiApiKiteTickerManager(builder.resolve(), {
      name: 'KiteTickerManager',
      events: this,
      singleKey: true,
    });
  }

  /** Newest tick of every subscribed instrument (unless `latestQuotes: false`). */
  get latestQuotes(): MultiApiKiteTickerManager['latestQuotes'] {
    return this.#core.latestQuotes;
  }

  /** 'idle' before start, 'starting', 'running', 'stopped' (final). */
  get state(): ManagerState {
    return this.#core.state;
  }

  /**
   * Opens connection 0 (so order updates arrive even with nothing subscribed) and every connection
   * that subscriptions made before start need, replays their tokens and modes, and resolves once all
   * are connected. On failure (auth refused, timeout after `connectionTimeoutMs`) every socket it
   * opened is closed, the manager is idle again and the error is thrown. Idempotent while running.
   */
  start(): Promise<void> {
    return this.#core.start();
  }

  /** Closes every socket, ends every channel, clears timers. Idempotent; final. */
  stop(): Promise<void> {
    return this.#core.stop();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /**
   * Subscribes `tokens` in `mode` (default `defaultMode`). All new tokens of the call are placed or
   * none (CapacityError with `available`). Before start the call only records the desired state.
   */
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void> {
    return this.#core.subscribeSymbols(tokens, mode);
  }

  /** Unsubscribes `tokens`; tokens not subscribed are ignored. Their latest quotes are removed. */
  unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    return this.#core.unsubscribeSymbols(tokens);
  }

  /** Sets the mode of subscribed `tokens`; tokens not subscribed are ignored (this never subscribes). */
  changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    return this.#core.changeMode(tokens, mode);
  }

  /**
   * Gives every connection a fresh access token (used from their next connect). A connection that
   * gave up (auth failed, retries exhausted) is reopened with its exact tokens and modes; a failure
   * to reopen is reported on 'error' (connectionIndex -1), not thrown.
   */
  updateAccessToken(accessToken: string): void {
    // Bad input and a stopped manager throw here; a failed reopen is reported on 'error'.
    this.#core.rotateAccessToken(this.apiKey, accessToken).catch(() => undefined);
  }

  /**
   * A new bounded channel on connection `connectionIndex`'s messages (`ChannelId.Connection1..3`, or
   * 0 <= index < maxConnections). Throws InvalidArgumentError for any other index.
   */
  getChannel(connectionIndex: number, options?: ChannelOptions): Channel<TickerMessage> {
    return this.#core.getChannel(this.apiKey, connectionIndex, options);
  }

  /** A new bounded channel on every connection's messages. */
  getMergedChannel(options?: ChannelOptions): Channel<TickerMessage> {
    return this.#core.getKeyChannel(this.apiKey, options);
  }

  /** The guide's name: every connection's messages tagged with the key id (`apiKeyId` = apiKey). */
  getUnifiedChannel(options?: ChannelOptions): Channel<MultiApiMessage> {
    return this.#core.getUnifiedChannel(options);
  }

  /** connection index -> (token -> mode). */
  getSymbolDistribution(): Map<number, Map<number, Mode>> {
    return this.#core.getSymbolDistribution().get(this.apiKey)!;
  }

  availableCapacity(): number {
    return this.#core.availableCapacity();
  }

  getStats(): ManagerStats {
    return this.#core.getStats();
  }

  /**
   * Health of every opened connection, computed from its status now (so it recovers when the
   * connection does). `healthy` is true when at least one connection is open and all are healthy.
   */
  getHealth(): ManagerHealth {
    return this.#core.getKeyHealth(this.apiKey);
  }
}

function poolWith(createConnection: ConnectionFactory) {
  return ((apiKey, accessToken, config, owner) =>
    new ConnectionPool(apiKey, accessToken, config, owner, createConnection)) satisfies Parameters<
    ManagerOptionsBuilder['poolFactory']
  >[0];
}
