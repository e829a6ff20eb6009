/**
 * `MultiApiKiteTickerManager`, the one manager: N API keys, each a pool of up to 3 sockets
 * (src/pool), behind one desired-state table (token -> key, mode). `KiteTickerManager` is its
 * one-key face (single.ts).
 *
 * Every mutation (start, subscribe, move, unsubscribe, mode, failover, placement of unplaced tokens,
 * token rotation) runs through one serial queue, plans against the table with the pure functions of
 * plan.ts, sends the commands to the pools, and records the result in the table. Messages flow the
 * other way: each pool reports to its owner (fan-out.ts), which feeds the events, the one
 * broadcaster behind every channel, the one order de-duplicator and the one latest-quote table.
 * Failover lives in failover.ts, the table moves in keys.ts and the stats shape in stats.ts. This file
 * is over 400 lines because it is the manager's whole documented public surface (both faces' methods
 * end here) plus its lifecycle and queue; the logic each method drives lives in those files beside it.
 */

import { EventEmitter } from 'node:events';
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { StatusEvent } from '../connection/types.js';
import { Broadcaster } from '../delivery/broadcaster.js';
import { LatestQuoteTable } from '../delivery/latest-quotes.js';
import { OrderDeduplicator } from '../delivery/order-dedupe.js';
import type { Channel, ChannelOptions } from '../delivery/types.js';
import {
  AuthFailedError,
  CapacityError,
  closedError,
  DuplicateApiKeyError,
  ErrorCode,
  InvalidArgumentError,
  KiteTickerError,
  ManualDistributionError,
  NotStartedError,
  redact,
  UnexpectedError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { ConnectionPool } from '../pool/pool.js';
import type { ManagerHealth, PoolConfig } from '../pool/types.js';
import { validateTokens } from '../protocol/commands.js';
import { isMode, type Mode } from '../protocol/constants.js';
import { ManagerOptionsBuilder } from './builder.js';
import { resolveManagerConfig } from './config.js';
import { Failover } from './failover.js';
import { poolOwner } from './fan-out.js';
import { KeySlot } from './key-slot.js';
import { Keys } from './keys.js';
import { assignBalanced, planRoundRobin } from './plan.js';
import { StartRetry } from './start-retry.js';
import { keyStats, managerStats } from './stats.js';
import {
  type ApiKeyStats,
  DistributionStrategy,
  type KiteTickerManagerConfig,
  type ManagerEvents,
  type ManagerStats,
  type MultiApiKiteTickerManagerConfig,
  type MultiApiMessage,
  type TickerMessage,
} from './types.js';

/** Lifecycle of a manager; 'stopped' is final. */
export type ManagerState = 'idle' | 'starting' | 'running' | 'stopped';

/** How a face shapes the manager (internal: `KiteTickerManager` passes one). */
export interface ManagerFace {
  /** Name in closed errors. */
  name: string;
  /** Where events go (the face itself). */
  events: EventEmitter<ManagerEvents>;
  /** One key: subscribe before start records, a failed start can be retried, keys never fail over. */
  singleKey: boolean;
}

export class MultiApiKiteTickerManager extends EventEmitter<ManagerEvents> implements AsyncDisposable {
  /** The fluent builder (the way to make one). */
  static builder(): MultiApiKiteTickerManagerBuilder {
    return new MultiApiKiteTickerManagerBuilder();
  }

  /** Newest tick of every subscribed instrument, kept only with the `latestQuotes` option. */
  readonly latestQuotes = new LatestQuoteTable({ trackedOnly: true });

  readonly #config: MultiApiKiteTickerManagerConfig;
  readonly #name: string;
  readonly #events: EventEmitter<ManagerEvents>;
  readonly #singleKey: boolean;
  readonly #keys: Keys;
  /** Behind every channel: per connection, merged per key, unified. */
  readonly #broadcaster: Broadcaster<MultiApiMessage>;
  /** Across every socket of every key. */
  readonly #orders: OrderDeduplicator;
  readonly #failover: Failover;
  readonly #logger: Logger;
  readonly #healthCheckIntervalMs: number;
  readonly #tokenRefreshIntervalMs: number;
  readonly #tokenProviderTimeoutMs: number;
  /** What every key's pool is made with (keys added at run time too). */
  readonly #poolConfig: PoolConfig;
  readonly #fanOut: Parameters<typeof poolOwner>[1];
  #state: ManagerState = 'idle';
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #startedAt = 0;
  #stoppedAt = 0;
  #healthTimer: ReturnType<typeof setInterval> | undefined;
  /** Ticks dropped here for tokens the manager does not want (the pools count their own). */
  #unknownTokenDrops = 0;
  /** Tail of the serial queue of mutations. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Prefer `MultiApiKiteTickerManager.builder()...build()`, which validates the config. */
  constructor(config: MultiApiKiteTickerManagerConfig, face?: ManagerFace) {
    super();
    this.#config = config;
    this.#name = face?.name ?? 'MultiApiKiteTickerManager';
    this.#events = face?.events ?? this;
    this.#singleKey = face?.singleKey ?? false;
    const base: KiteTickerManagerConfig = resolveManagerConfig(config.baseConfig);
    this.#logger = base.logger ?? silentLogger;
    this.#healthCheckIntervalMs = config.healthCheckIntervalMs;
    this.#tokenRefreshIntervalMs = base.tokenRefreshIntervalMs;
    this.#tokenProviderTimeoutMs = base.tokenProviderTimeoutMs;
    this.#keys = new Keys(
      config.maxConnectionsPerApi * config.maxSymbolsPerConnection,
      config.latestQuotes ? this.latestQuotes : undefined,
      {
        quietly: (promise, apiKeyId) => this.#quietly(promise, apiKeyId),
        report: (error, apiKeyId) => this.#report(error, apiKeyId),
      },
    );
    this.#broadcaster = new Broadcaster<MultiApiMessage>({
      capacity: base.channelCapacity,
      overflow: base.overflow,
    });
    this.#orders = new OrderDeduplicator({
      maxEntries: config.orderDedupeSize,
      windowMs: config.orderDedupeWindowMs,
    });
    this.#failover = new Failover(this.#failoverHost(), !this.#singleKey);
    this.#poolConfig = {
      maxConnections: config.maxConnectionsPerApi,
      maxSymbolsPerConnection: config.maxSymbolsPerConnection,
      connectionTimeoutMs: config.connectionTimeoutMs,
      reconnect: base.reconnect,
      livenessTimeoutMs: base.livenessTimeoutMs,
      url: base.url,
      maxTokensPerMessage: base.maxTokensPerMessage,
      logger: this.#logger,
      placement: base.placement,
      tokenRefreshIntervalMs: base.tokenRefreshIntervalMs,
      tokenProviderTimeoutMs: base.tokenProviderTimeoutMs,
      decodeTicks: config.decodeTicks ?? true,
    };
    this.#fanOut = this.#fanOutHost();
    for (const key of config.apiKeys) this.#keys.add(this.#newSlot(key.id, key.apiKey, key.accessToken));
  }

  #newSlot(id: string, apiKey: string, accessToken: AccessTokenSource): KeySlot {
    const slot = new KeySlot(id, apiKey, accessToken);
    slot.pool = this.#config.managerFactory(
      apiKey,
      accessToken,
      { ...this.#poolConfig },
      poolOwner(slot, this.#fanOut),
    );
    slot.poolFiltersTicks = Object.getPrototypeOf(slot.pool) === ConnectionPool.prototype;
    return slot;
  }

  /** 'idle' before start, 'starting', 'running', 'stopped' (final). */
  get state(): ManagerState {
    return this.#state;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts every key's pool (each opens its socket 0, and every socket holding tokens). Resolves once
   * each has started or failed; a key whose start fails is marked failed (and recovers when it
   * connects, or after updateAccessToken). Rejects only if every key fails. Idempotent while running.
   */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(closedError(this.#name));
    if (this.#startPromise) return this.#startPromise;
    const promise = this.#serial(() => this.#start());
    this.#startPromise = promise;
    promise.catch(() => {
      // A one-key manager whose start failed is idle again and may be started again.
      if (this.#startPromise === promise && this.#state === 'idle') this.#startPromise = undefined;
    });
    return promise;
  }

  async #start(): Promise<void> {
    this.#assertOpen();
    this.#state = 'starting';
    this.#startedAt = Date.now();
    const results = await Promise.allSettled(this.#keys.order.map((slot) => slot.pool.start()));
    // stop() may have run while the pools were connecting.
    this.#assertOpen();
    if (this.#singleKey && results[0]!.status === 'rejected') {
      this.#state = 'idle';
      this.#startedAt = 0;
      throw results[0]!.reason;
    }
    let firstError: unknown;
    results.forEach((result, i) => {
      const slot = this.#keys.order[i]!;
      if (result.status === 'fulfilled') {
        if (slot.state === 'idle') slot.state = 'active';
        return;
      }
      firstError ??= result.reason;
      this.#startFailed(slot, result.reason);
    });
    if (results.every((r) => r.status === 'rejected') && !this.#config.waitForKeys) {
      // Not awaited: stop waits for the queue, and this runs in it. The state is 'stopped' at once.
      this.#stopNow().catch(() => undefined);
      throw firstError;
    }
    this.#state = 'running';
    if (this.#config.enableHealthMonitoring) {
      this.#healthTimer = setInterval(() => this.#checkHealth(), this.#healthCheckIntervalMs);
      // Health checks must never keep the host process alive on their own.
      this.#healthTimer.unref?.();
    }
    // One line per key, named by its id (never its apiKey), as operators grep for it.
    for (const slot of this.#keys.order) {
      if (slot.state === 'active') {
        this.#logger.info(
          { apiKeyId: slot.id, symbols: this.#keys.table.countOf(slot.id) },
          'ticker manager started',
        );
      }
    }
  }

  /** A key whose pool could not start: failed, and started again by its next token. */
  #startFailed(slot: KeySlot, error: unknown): void {
    const reason = isAuthError(error) ? 'auth_failed' : 'start_failed';
    this.#logger.warn({ apiKeyId: slot.id, reason, error: this.#describe(error) }, 'API key failed to start');
    slot.startFailed = true;
    // Its statuses may already have failed it during start; count the failure once.
    if (slot.state === 'failed') slot.failureReason = reason;
    else this.#failover.markFailed(slot, reason);
    // A provider is asked again on its own timer; a plain token waits for updateAccessToken.
    this.#retryStart(slot);
  }

  /**
   * Adds a key while the manager runs (or before start): its pool starts at once when running, and
   * waiting (unplaced) tokens go to it. A key that cannot start is failed, like at start(), and comes
   * back with its next token. Throws DuplicateApiKeyError for an id or apiKey in use.
   */
  async addApiKey(id: string, apiKey: string, accessToken: AccessTokenSource): Promise<void> {
    this.#assertOpen();
    if (this.#singleKey) throw new InvalidArgumentError('KiteTickerManager has exactly one API key');
    // The builder's checks (non-empty strings, a token or a provider), for one key.
    const key = MultiApiKiteTickerManager.builder().addApiKey(id, apiKey, accessToken).resolve().apiKeys[0]!;
    await this.#serial(async () => {
      this.#assertOpen();
      for (const other of this.#keys.order) {
        if (other.id === key.id || other.apiKey === key.apiKey)
          throw new DuplicateApiKeyError(other.id, key.id);
      }
      const slot = this.#newSlot(key.id, key.apiKey, key.accessToken);
      this.#keys.add(slot);
      this.#logger.info({ apiKeyId: slot.id }, 'API key added');
      if (this.#state !== 'running') return;
      try {
        await slot.pool.start();
        if (slot.state === 'idle') slot.state = 'active';
      } catch (error) {
        this.#startFailed(slot, error);
        return;
      }
      await this.#failover.placeUnplaced();
    });
  }

  /**
   * Removes a key while the manager runs: its sockets close and its tokens move to the other keys where
   * room exists (the rest wait unplaced, as after a failover). Throws ApiKeyNotFoundError.
   */
  async removeApiKey(apiKeyId: string): Promise<void> {
    this.#assertOpen();
    if (this.#singleKey) throw new InvalidArgumentError('KiteTickerManager has exactly one API key');
    await this.#serial(async () => {
      const slot = this.#keys.slot(apiKeyId);
      const own = new Map(this.#keys.table.ofKey(slot.id));
      slot.state = 'stopped';
      slot.clearDownTimer();
      // A removed key's start retry must not start it again behind the manager's back.
      slot.startRetry?.close();
      slot.startRetry = undefined;
      this.#keys.remove(slot);
      for (const [token, mode] of own) this.#keys.table.set(token, undefined, mode);
      await this.#quietly(slot.pool.stop(), slot.id);
      this.#logger.info({ apiKeyId: slot.id, tokens: own.size }, 'API key removed');
      if (this.#state === 'running') await this.#failover.placeUnplaced();
      const unplaced = [...this.#keys.table.unplaced().keys()].filter((t) => own.has(t));
      if (unplaced.length > 0) {
        this.#events.emit('unplaced', {
          tokens: unplaced,
          totalUnplaced: this.#keys.table.unplacedCount,
          reason: `API key ${JSON.stringify(slot.id)} was removed and the other keys lack capacity`,
        });
      }
    });
  }

  /**
   * Closes every socket, ends every channel (for-await loops finish after draining), clears timers.
   * Idempotent; safe before start(); the manager cannot be started again (later calls throw ERR_CLOSED).
   */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stopNow();
    return this.#stopPromise;
  }

  #stopNow(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#stoppedAt = Date.now();
    if (this.#healthTimer !== undefined) clearInterval(this.#healthTimer);
    this.#healthTimer = undefined;
    for (const slot of this.#keys.order) {
      slot.clearDownTimer();
      slot.startRetry?.close();
    }
    await Promise.allSettled(this.#keys.order.map((slot) => slot.pool.stop()));
    // Let any queued operation observe the stop and settle before the channels end.
    await this.#queue.catch(() => undefined);
    for (const slot of this.#keys.order) slot.state = 'stopped';
    this.#broadcaster.close();
    this.#orders.clear();
    for (const slot of this.#keys.order) this.#logger.info({ apiKeyId: slot.id }, 'ticker manager stopped');
  }

  /** `await using manager = builder.build()` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---------------------------------------------------------------- symbol management

  /**
   * Subscribes tokens, placing the new ones across keys (least-loaded key with room first; see
   * DistributionStrategy). All-or-nothing: if the keys' total free capacity is short, throws
   * CapacityError and subscribes none. Tokens already subscribed stay where they are; with an explicit
   * `mode` they switch to it. Under DistributionStrategy.Manual, throws ERR_MANUAL_DISTRIBUTION.
   * @param mode default: the configured defaultMode (Mode.Quote).
   */
  async subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void> {
    if (this.#config.distributionStrategy === DistributionStrategy.Manual) {
      throw new ManualDistributionError();
    }
    const list = validateTokens(tokens);
    checkMode(mode);
    await this.#mutate(async () => {
      const { known, fresh } = this.#keys.split(list);
      const effective = mode ?? this.#config.defaultMode;
      const plan = planRoundRobin(fresh, this.#keys.loads());
      if (!plan.ok && this.#config.waitForKeys) {
        await this.#placeOrWait(fresh, effective);
        if (mode !== undefined) await this.#keys.setModes(known, mode);
        return;
      }
      if (!plan.ok) {
        throw new CapacityError(plan.requested, plan.available, this.#capacityScope());
      }
      // New tokens first: if their placement fails, nothing of the call (modes included) is applied.
      await this.#keys.placeAll(plan.assignment, () => effective, true);
      if (mode !== undefined) await this.#keys.setModes(known, mode);
    });
  }

  /**
   * Subscribes tokens on one key. A token that another key owns MOVES here (unsubscribed there first), so
   * a token is only ever on one key; its mode is kept unless `mode` is given. Works under both strategies.
   * Throws ApiKeyNotFoundError, or CapacityError (nothing changed) if the key lacks room for the incoming
   * tokens (a failed key has none).
   */
  async subscribeSymbolsToApi(apiKeyId: string, tokens: readonly number[], mode?: Mode): Promise<void> {
    const slot = this.#keys.slot(apiKeyId);
    const list = validateTokens(tokens);
    checkMode(mode);
    await this.#mutate(async () => {
      const { known, fresh } = this.#keys.split(list);
      const here: number[] = [];
      const moving: number[] = [];
      for (const token of known) {
        if (this.#keys.table.get(token)?.apiKeyId === slot.id) here.push(token);
        else moving.push(token);
      }
      const incoming = moving.length + fresh.length;
      const free = slot.state === 'failed' ? 0 : this.#keys.free(slot);
      if (incoming > free) {
        const scope =
          slot.state === 'failed'
            ? `API key ${JSON.stringify(slot.id)} (failed: ${slot.failureReason})`
            : `API key ${JSON.stringify(slot.id)}`;
        throw new CapacityError(incoming, free, scope);
      }
      if (mode !== undefined) await this.#keys.setModes(here, mode);
      // Moves: off the old owner first, so the token is never on two keys at once.
      const previous = new Map<number, Mode>();
      for (const token of moving) previous.set(token, this.#keys.table.get(token)!.mode);
      await this.#keys.removeFromOwners(moving);
      const effective = mode ?? this.#config.defaultMode;
      const assignment = new Map([[slot.id, [...moving, ...fresh]]]);
      await this.#keys.placeAll(
        assignment,
        (t) => (mode === undefined ? (previous.get(t) ?? effective) : effective),
        true,
      );
    });
  }

  /** Unsubscribes tokens from whichever key owns them (unknown tokens are ignored); freed room goes to unplaced tokens. */
  async unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    const list = validateTokens(tokens);
    await this.#mutate(async () => {
      await this.#keys.removeFromOwners(list);
      await this.#failover.placeUnplaced();
    });
  }

  /** Changes the mode of tokens on whichever key owns them (unknown tokens are ignored; this never subscribes). */
  async changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    const list = validateTokens(tokens);
    if (!isMode(mode)) throw modeError(mode);
    await this.#mutate(async () => {
      await this.#keys.setModes(list, mode);
    });
  }

  /**
   * Rotates a key's access token (Kite tokens expire daily). The key's sockets use it from their next
   * connect; sockets that gave up (auth refused, retries exhausted) are reopened with their exact tokens
   * and modes, and a key whose start failed is started again (rejects if that restart fails).
   */
  async updateAccessToken(apiKeyId: string, accessToken: string): Promise<void> {
    await this.rotateAccessToken(apiKeyId, accessToken);
  }

  /**
   * `updateAccessToken` whose bad-input and closed errors are thrown synchronously (what the one-key
   * face's synchronous `updateAccessToken(token)` needs). The reopen of given-up sockets is reported
   * on 'error', not returned; a failed key's restart is.
   * @internal
   */
  rotateAccessToken(apiKeyId: string, accessToken: string): Promise<void> {
    const slot = this.#keys.slot(apiKeyId);
    this.#assertOpen();
    // The pool validates first (and throws before storing anything): a refused token is never kept.
    slot.pool.updateAccessToken(accessToken);
    // A provider stays the key's source; the given token only goes to the current sockets.
    if (typeof slot.accessToken === 'string') slot.accessToken = accessToken;
    if (this.#state !== 'running') return Promise.resolve();
    if (!slot.startFailed) {
      // Queued so it never races a subscribe's placement; failures are reported, not thrown.
      this.#serial(() => slot.pool.reopen()).catch((error: unknown) => this.#report(error, slot.id));
      return Promise.resolve();
    }
    return this.#restartKey(slot);
  }

  /** Starts a key whose start failed again (queued); rejects if it fails again. */
  #restartKey(slot: KeySlot): Promise<void> {
    return this.#serial(async () => {
      if (this.#state !== 'running' || !slot.startFailed) return;
      try {
        await slot.pool.start();
      } catch (error) {
        slot.failureReason = isAuthError(error) ? 'auth_failed' : 'start_failed';
        throw error;
      }
      slot.startFailed = false;
      slot.startRetry?.close();
      slot.startRetry = undefined;
      if (slot.state === 'failed') this.#failover.recover(slot);
    });
  }

  /** A key whose start failed and whose token comes from a provider starts again by itself. */
  #retryStart(slot: KeySlot): void {
    const provider = slot.accessToken;
    if (typeof provider !== 'function') return;
    slot.startRetry ??= new StartRetry(provider, this.#tokenRefreshIntervalMs, this.#tokenProviderTimeoutMs, {
      running: () => this.#state === 'running' || this.#state === 'starting',
      restart: () => this.#restartKey(slot),
      started: () => !slot.startFailed,
      report: (error) => this.#report(error, slot.id),
      secrets: () =>
        this.#keys.order.flatMap((s) => (typeof s.accessToken === 'string' ? [s.accessToken] : [])),
    });
    slot.startRetry.schedule();
  }

  // ---------------------------------------------------------------- messages

  /**
   * A new bounded channel of every key's messages, tagged with the key id. Ends when the manager
   * stops (one asked for after stop is already ended).
   */
  getUnifiedChannel(options?: ChannelOptions): Channel<MultiApiMessage> {
    return this.#broadcaster.subscribe(options);
  }

  /**
   * A channel on one socket of one key (use `ChannelId.Connection1..3` or 0-2). Throws
   * ApiKeyNotFoundError for an unknown key, InvalidArgumentError for an index outside
   * 0..maxConnectionsPerApi-1, ERR_CLOSED once stopped. A socket not open yet delivers once it opens.
   */
  getChannel(apiKeyId: string, connectionIndex: number, options?: ChannelOptions): Channel<TickerMessage> {
    this.#assertOpen();
    const slot = this.#keys.slot(apiKeyId);
    const max = this.#config.maxConnectionsPerApi;
    if (!Number.isInteger(connectionIndex) || connectionIndex < 0 || connectionIndex >= max) {
      throw new InvalidArgumentError(
        `unknown channel ${String(connectionIndex)}: connection indexes of this manager are 0 to ${max - 1} (ChannelId.Connection1..${max})`,
      );
    }
    const id = slot.id;
    return this.#broadcaster.subscribe(options, {
      select: (m) =>
        m.apiKeyId === id && m.message.connectionIndex === connectionIndex ? m.message : undefined,
      tag: slot.tag(connectionIndex),
    });
  }

  /**
   * A channel on every socket of one key, untagged (what `KiteTickerManager.getMergedChannel` gives);
   * already ended once stopped.
   */
  getKeyChannel(apiKeyId: string, options?: ChannelOptions): Channel<TickerMessage> {
    const id = this.#keys.slot(apiKeyId).id;
    return this.#broadcaster.subscribe(options, {
      select: (m) => (m.apiKeyId === id ? m.message : undefined),
    });
  }

  // ---------------------------------------------------------------- introspection

  /** Key ids in the order they were added. */
  getApiKeys(): string[] {
    return this.#keys.order.map((slot) => slot.id);
  }

  /** key id -> connection index -> (token -> mode), as each key's pool holds it. */
  getSymbolDistribution(): Map<string, Map<number, Map<number, Mode>>> {
    const out = new Map<string, Map<number, Map<number, Mode>>>();
    for (const slot of this.#keys.order) out.set(slot.id, slot.pool.getSymbolDistribution());
    return out;
  }

  /** The desired-state view: token -> owning key id (undefined while unplaced) and mode. */
  getDesiredState(): Map<number, { apiKeyId: string | undefined; mode: Mode }> {
    const out = new Map<number, { apiKeyId: string | undefined; mode: Mode }>();
    for (const slot of this.#keys.order) {
      for (const [token, mode] of this.#keys.table.ofKey(slot.id))
        out.set(token, { apiKeyId: slot.id, mode });
    }
    for (const [token, mode] of this.#keys.table.unplaced()) out.set(token, { apiKeyId: undefined, mode });
    return out;
  }

  /** Tokens wanted but on no key (token -> mode), in the order they became unplaced. */
  getUnplacedSymbols(): Map<number, Mode> {
    return new Map(this.#keys.table.unplaced());
  }

  /** Free slots across the keys that take tokens now. */
  availableCapacity(): number {
    return this.#keys.loads().reduce((sum, k) => sum + k.free, 0);
  }

  /** Counters of every key and the manager's own; `uptimeMs` freezes at stop(). */
  getStats(): ManagerStats {
    return managerStats(this.#statsSource());
  }

  /** One key's stats. Throws ApiKeyNotFoundError ("API key not found"). */
  getApiStats(apiKeyId: string): ApiKeyStats {
    return keyStats(this.#statsSource(), this.#keys.slot(apiKeyId));
  }

  /** Health of one key's opened sockets, from their status now. */
  getKeyHealth(apiKeyId: string): ManagerHealth {
    return this.#keys.slot(apiKeyId).pool.getHealth();
  }

  // ---------------------------------------------------------------- internals

  /** waitForKeys: place what fits, keep the rest unplaced (placed as keys recover or are added). */
  async #placeOrWait(tokens: readonly number[], mode: Mode): Promise<void> {
    const { assignment, rest } = assignBalanced(tokens, this.#keys.loads());
    await this.#keys.placeAll(assignment, () => mode, false);
    for (const token of rest) this.#keys.table.set(token, undefined, mode);
    if (rest.length === 0) return;
    this.#events.emit('unplaced', {
      tokens: rest,
      totalUnplaced: this.#keys.table.unplacedCount,
      reason: 'no API key has room now (waiting for keys)',
    });
  }

  #statsSource() {
    const end = this.#state === 'stopped' ? this.#stoppedAt : Date.now();
    return {
      keys: this.#keys.order,
      table: this.#keys.table,
      broadcaster: this.#broadcaster,
      duplicateOrders: this.#orders.duplicates,
      unknownTokenDrops: this.#unknownTokenDrops,
      uptimeMs: this.#startedAt === 0 ? 0 : Math.max(0, end - this.#startedAt),
      free: (slot: KeySlot) => this.#keys.free(slot),
    };
  }

  #fanOutHost() {
    const quotes = this.#config.latestQuotes ? this.latestQuotes : undefined;
    return {
      events: this.#events,
      broadcaster: this.#broadcaster,
      orders: this.#orders,
      quotes,
      wanted: { has: (token: number) => this.#keys.isWanted(token) },
      countUnknown: (n: number) => {
        this.#unknownTokenDrops += n;
      },
      onStatus: (slot: KeySlot, event: StatusEvent, connectionIndex: number) => {
        if (event.status === 'closed' && event.reason !== 'user') {
          this.#logger.warn(
            { apiKeyId: slot.id, connection: connectionIndex, reason: event.reason },
            'connection gave up; call updateAccessToken() to reopen it',
          );
        }
        this.#failover.trackStatus(slot, event, connectionIndex);
      },
      report: (error: KiteTickerError, apiKeyId: string, connectionIndex: number) =>
        this.#report(error, apiKeyId, connectionIndex),
      rawFrames: this.#config.rawFrames,
    };
  }

  #failoverHost() {
    return {
      config: this.#config,
      logger: this.#logger,
      events: this.#events,
      table: this.#keys.table,
      isRunning: () => this.#state === 'running',
      isStopped: () => this.#state === 'stopped',
      serial: <T>(task: () => Promise<T>) => this.#serial(task),
      loads: () => this.#keys.loads(),
      placeAll: (a: Map<string, number[]>, modeOf: (t: number) => Mode, atomic: boolean) =>
        this.#keys.placeAll(a, modeOf, atomic),
      quietly: (promise: Promise<unknown>, apiKeyId: string) => this.#quietly(promise, apiKeyId),
      report: (error: unknown, apiKeyId: string | undefined) => this.#report(error, apiKeyId),
    };
  }

  #checkHealth(): void {
    if (this.#state !== 'running') return;
    const now = Date.now();
    for (const slot of this.#keys.order) {
      const health = slot.pool.getHealth();
      let changed = false;
      for (const entry of health.connections) {
        const before = slot.lastHealth.get(entry.index);
        if (before === entry.state) continue;
        changed = true;
        this.#logger[entry.state === 'healthy' ? 'info' : 'warn'](
          { apiKeyId: slot.id, connection: entry.index, from: before ?? null, to: entry.state },
          'connection health changed',
        );
        slot.lastHealth.set(entry.index, entry.state);
      }
      if (changed) this.#events.emit('health', health, slot.id);
      this.#failover.check(slot, health, now);
    }
  }

  #capacityScope(): string {
    if (this.#singleKey) {
      const only = this.#keys.order[0]!;
      return `api_key ${only.apiKey} (${this.#config.maxConnectionsPerApi} x ${this.#config.maxSymbolsPerConnection})`;
    }
    return `the ${this.#keys.loads().length} available API key(s)`;
  }

  #assertOpen(): void {
    if (this.#state === 'stopped') throw closedError(this.#name);
  }

  /** Open, and (with several keys) started: one key records subscriptions made before start. */
  #assertUsable(): void {
    this.#assertOpen();
    if (!this.#singleKey && this.#state !== 'running') {
      throw new NotStartedError(`${this.#name} is not started: await start() first`);
    }
  }

  /** A mutation: refused now if the manager cannot take it, and checked again when its turn comes. */
  #mutate<T>(task: () => Promise<T>): Promise<T> {
    this.#assertUsable();
    return this.#serial(async () => {
      this.#assertUsable();
      return task();
    });
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    // The queue continues whatever the outcome; callers see their own result.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Awaits a pool command whose failure must not stop the caller (logged and reported instead). */
  async #quietly(promise: Promise<unknown>, apiKeyId: string): Promise<void> {
    try {
      await promise;
    } catch (error) {
      this.#report(error, apiKeyId);
    }
  }

  /** Logs (redacted) and emits 'error' only when someone listens: never an unhandled 'error' event. */
  #report(error: unknown, apiKeyId: string | undefined, connectionIndex = -1): void {
    this.#logger.error(
      { apiKeyId, connection: connectionIndex, error: this.#describe(error) },
      'manager error',
    );
    if (this.#events.listenerCount('error') > 0) {
      this.#events.emit(
        'error',
        error instanceof Error ? error : new UnexpectedError(this.#describe(error)),
        apiKeyId,
        connectionIndex,
      );
    }
  }

  #describe(error: unknown): string {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return redact(
      text,
      this.#keys.order.flatMap((s) => (typeof s.accessToken === 'string' ? [s.accessToken] : [])),
    );
  }
}

/**
 * The builder: the fluent options (builder.ts) plus `build()`. Defined here so that builder.ts never
 * imports this file: the two import one way only.
 */
export class MultiApiKiteTickerManagerBuilder extends ManagerOptionsBuilder {
  /** Validates (see `resolve()`) and builds. */
  build(): MultiApiKiteTickerManager {
    return new MultiApiKiteTickerManager(this.resolve());
  }
}

function isAuthError(error: unknown): boolean {
  return (
    error instanceof AuthFailedError ||
    (error instanceof KiteTickerError && error.code === ErrorCode.AuthFailed)
  );
}

function modeError(mode: unknown): InvalidArgumentError {
  return new InvalidArgumentError(`mode must be 'ltp', 'quote' or 'full', got ${String(mode)}`);
}

function checkMode(mode: unknown): void {
  if (mode !== undefined && !isMode(mode)) throw modeError(mode);
}
