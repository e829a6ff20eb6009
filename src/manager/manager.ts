/**
 * KiteTickerManager: one API key, up to `maxConnections` sockets of up to `maxSymbolsPerConnection`
 * instruments each. The manager owns the desired state (which token is on which connection, in which
 * mode), places new tokens with the pure planner in placement.ts, and fans each connection's decoded
 * batches out to events, bounded channels and the latest-quote table from a single listener.
 *
 * Every mutating call runs in a queue, one after another, so placement always sees the state left by
 * the previous call. Bookkeeping changes only after the connection accepted the command.
 */
import { EventEmitter } from 'node:events';
import { WINDOW } from '../config/limits.js';
import { count, duration } from '../config/validate.js';
import { KiteTicker } from '../connection/index.js';
import { groupByMode } from '../connection/subscriptions.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import type {
  KiteTickerEvents,
  KiteTickerOptions,
  StatusEvent,
  TickerConnection,
  TickerStats,
} from '../connection/types.js';
import {
  ConnectTimeoutError,
  closedError,
  InvalidArgumentError,
  KiteTickerError,
  redact,
} from '../errors.js';
import { isMode, type Mode } from '../protocol/constants.js';
import { validateTokens } from '../protocol/index.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';
import { Broadcaster } from '../stream/broadcaster.js';
import { LatestQuoteTable } from '../stream/latest-quotes.js';
import { attachListeners } from '../stream/listeners.js';
import { MAX_ORDER_DEDUPE_ENTRIES, OrderDeduplicator } from '../stream/order-dedupe.js';
import type { Channel, ChannelOptions } from '../stream/types.js';
import { resolveManagerConfig, validateAccessToken, validateCredentials } from './config.js';
import { connectionHealth } from './health.js';
import { freeCapacity, planModeChange, planSubscribe, planUnsubscribe, type SlotState } from './placement.js';
import type {
  ConnectionFactory,
  ConnectionHealthState,
  ConnectionStatsSnapshot,
  KiteTickerManagerConfig,
  KiteTickerManagerEvents,
  KiteTickerManagerOptions,
  ManagerHealth,
  ManagerStats,
  TickerManager,
  TickerMessage,
} from './types.js';

/** Lifecycle of a manager; 'stopped' is final. */
export type ManagerState = 'idle' | 'starting' | 'running' | 'stopped';

/** Counters of connections a slot has retired (after a revive), so totals never go down. */
type CarriedStats = Pick<
  ConnectionStatsSnapshot,
  'frames' | 'ticks' | 'bytes' | 'heartbeats' | 'protocolErrors' | 'reconnects'
>;

interface Slot {
  readonly index: number;
  /** The truth for this connection: token -> mode, changed only with what was sent. */
  readonly desired: Map<number, Mode>;
  conn: TickerConnection | undefined;
  detach: (() => void) | undefined;
  readonly broadcaster: Broadcaster<TickerMessage>;
  carried: CarriedStats;
  lastHealth: ConnectionHealthState | undefined;
}

const defaultFactory: ConnectionFactory = (options) => new KiteTicker(options);

function zeroCarried(): CarriedStats {
  return { frames: 0, ticks: 0, bytes: 0, heartbeats: 0, protocolErrors: 0, reconnects: 0 };
}

/** A connection that will never come back by itself. */
function isDead(conn: TickerConnection): boolean {
  return conn.status === 'closed';
}

export class KiteTickerManager extends EventEmitter<KiteTickerManagerEvents> implements TickerManager {
  readonly apiKey: string;
  readonly config: Readonly<KiteTickerManagerConfig>;
  /** Newest tick of every subscribed instrument; kept current from every connection. */
  readonly latestQuotes = new LatestQuoteTable({ trackedOnly: true });

  /** A token, or a provider each connection asks (token-provider.ts). */
  #accessToken: AccessTokenSource;
  #state: ManagerState = 'idle';
  readonly #slots: Slot[];
  readonly #merged: Broadcaster<TickerMessage>;
  readonly #createConnection: ConnectionFactory;
  readonly #orders: OrderDeduplicator;
  #queue: Promise<unknown> = Promise.resolve();
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #abort: AbortController | undefined;
  #healthTimer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #messagesReceived = 0;
  /** Ticks dropped because their token is not subscribed on the connection that brought them. */
  #unknownTokenDrops = 0;
  /** Whether the 'ticks' listener updates `latestQuotes` (option `latestQuotes`). */
  readonly #keepQuotes: boolean;

  /**
   * @param apiKey the Kite Connect API key.
   * @param accessToken the session's access token (never logged; see updateAccessToken).
   * @param options every KiteTickerManagerConfig field is optional (defaults in docs/manager.md),
   *   plus `createConnection` (inject a fake in tests), `latestQuotes` (default true), and
   *   `orderDedupeSize` / `orderDedupeWindowMs` (defaults 10 000 updates, 60 000 ms).
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
      ...config
    } = options;
    this.config = Object.freeze(resolveManagerConfig(config));
    if (createConnection !== undefined && typeof createConnection !== 'function') {
      throw new InvalidArgumentError('createConnection must be a function');
    }
    if (typeof latestQuotes !== 'boolean') {
      throw new InvalidArgumentError(`latestQuotes must be a boolean, got ${String(latestQuotes)}`);
    }
    this.#keepQuotes = latestQuotes;
    if (orderDedupeSize !== undefined)
      count(orderDedupeSize, 'orderDedupeSize', { min: 1, max: MAX_ORDER_DEDUPE_ENTRIES });
    if (orderDedupeWindowMs !== undefined) duration(orderDedupeWindowMs, 'orderDedupeWindowMs', WINDOW);
    this.apiKey = apiKey;
    this.#accessToken = accessToken;
    this.#createConnection = createConnection ?? defaultFactory;
    this.#orders = new OrderDeduplicator({ maxEntries: orderDedupeSize, windowMs: orderDedupeWindowMs });
    const channelDefaults: ChannelOptions = {
      capacity: this.config.channelCapacity,
      overflow: this.config.overflow,
    };
    this.#merged = new Broadcaster<TickerMessage>(channelDefaults);
    this.#slots = Array.from({ length: this.config.maxConnections }, (_, index) => ({
      index,
      desired: new Map<number, Mode>(),
      conn: undefined,
      detach: undefined,
      broadcaster: new Broadcaster<TickerMessage>(channelDefaults),
      carried: zeroCarried(),
      lastHealth: undefined,
    }));
  }

  /** 'idle' before start, 'starting', 'running', 'stopped' (final). */
  get state(): ManagerState {
    return this.#state;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Opens connection 0 (so order updates arrive even with nothing subscribed) and every connection
   * that subscriptions made before start need, replays their tokens and modes, and resolves once all
   * are connected. On failure (auth refused, timeout after `connectionTimeoutMs`) every socket it
   * opened is closed, the manager is idle again and the error is thrown. Idempotent while running.
   */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(closedError('KiteTickerManager'));
    if (this.#startPromise) return this.#startPromise;
    const promise = this.#enqueue(() => this.#doStart());
    this.#startPromise = promise;
    promise.catch(() => {
      if (this.#startPromise === promise) this.#startPromise = undefined;
    });
    return promise;
  }

  async #doStart(): Promise<void> {
    this.#assertOpen();
    this.#state = 'starting';
    this.#abort = new AbortController();
    this.#startedAt = Date.now();
    const opening = this.#slots.filter((slot) => slot.index === 0 || slot.desired.size > 0);
    try {
      await this.#openAll(opening);
    } catch (error) {
      if (this.#state === 'starting') {
        this.#state = 'idle';
        this.#startedAt = 0;
      }
      throw error;
    }
    if (this.#state !== 'starting') throw closedError('KiteTickerManager');
    this.#state = 'running';
    this.#healthTimer = setInterval(() => this.#checkHealth(), this.config.healthCheckIntervalMs);
    // Health checks must never keep the host process alive on their own.
    this.#healthTimer.unref();
    this.config.logger.info(
      { apiKey: this.apiKey, connections: opening.length, symbols: this.#totalSymbols() },
      'ticker manager started',
    );
  }

  /**
   * Closes every socket, ends every channel (for-await loops finish after draining), clears timers.
   * Idempotent; the manager cannot be started again (later calls throw ERR_CLOSED).
   */
  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    this.#stopPromise = this.#doStop();
    return this.#stopPromise;
  }

  async #doStop(): Promise<void> {
    this.#state = 'stopped';
    this.#abort?.abort(closedError('KiteTickerManager'));
    if (this.#healthTimer) clearInterval(this.#healthTimer);
    this.#healthTimer = undefined;
    const closing: Promise<unknown>[] = [];
    for (const slot of this.#slots) {
      const conn = slot.conn;
      if (!conn) continue;
      closing.push(conn.close().catch(() => undefined));
    }
    await Promise.all(closing);
    // Let any queued operation observe the stop and settle before listeners go away.
    await this.#queue.catch(() => undefined);
    for (const slot of this.#slots) {
      // Fold the last counters in so getStats() after stop still shows the session's totals.
      if (slot.conn) this.#retire(slot);
      slot.broadcaster.close();
    }
    this.#merged.close();
    this.#orders.clear();
    this.config.logger.info({ apiKey: this.apiKey }, 'ticker manager stopped');
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Subscribes `tokens` in `mode` (default `defaultMode`). All new tokens of the call are placed or
   * none (CapacityError with `available`); tokens already subscribed are not sent again, only a mode
   * change when their mode differs. Before start the call only records the desired state (applied on
   * start). Opens a new connection when the open ones are full, and waits for it to connect.
   * @throws InvalidTokenError / InvalidArgumentError with the state unchanged.
   */
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void> {
    return this.#enqueue(async () => {
      this.#assertOpen();
      const valid = validateTokens(tokens);
      // Only an absent mode means the default: null is a bad mode here, as in the ticker and the multi-manager.
      const wanted = mode === undefined ? this.config.defaultMode : mode;
      if (!isMode(wanted)) {
        throw new InvalidArgumentError(`mode must be 'ltp', 'quote' or 'full', got ${String(wanted)}`);
      }
      const plan = planSubscribe(
        this.#slotStates(),
        valid,
        wanted,
        this.config.maxSymbolsPerConnection,
        this.#scope(),
      );
      if (plan.slots.size === 0) return;

      if (this.#isLive()) {
        // New (or dead) connections first: if one cannot connect, nothing of the call is applied.
        const opening = [...plan.slots.keys()]
          .map((index) => this.#slots[index]!)
          .filter((slot) => slot.conn === undefined || isDead(slot.conn));
        // Previous modes of tokens whose mode this call changes, to restore them on failure.
        const previous = new Map<number, Mode>();
        for (const slot of opening) {
          const entry = plan.slots.get(slot.index)!;
          for (const token of entry.changeMode) previous.set(token, slot.desired.get(token)!);
          for (const token of entry.subscribe) slot.desired.set(token, wanted);
          for (const token of entry.changeMode) slot.desired.set(token, wanted);
          this.latestQuotes.track(entry.subscribe);
        }
        try {
          await this.#openAll(opening);
        } catch (error) {
          for (const slot of opening) {
            const entry = plan.slots.get(slot.index)!;
            for (const token of entry.subscribe) slot.desired.delete(token);
            for (const token of entry.changeMode) slot.desired.set(token, previous.get(token)!);
            this.latestQuotes.untrack(entry.subscribe);
          }
          throw error;
        }
        this.#assertOpen();
        // Their connections were created with the whole desired state: nothing more to send.
        for (const slot of opening) plan.slots.delete(slot.index);
      }

      for (const [index, entry] of plan.slots) {
        const slot = this.#slots[index]!;
        const conn = this.#isLive() ? slot.conn : undefined;
        if (entry.subscribe.length > 0) {
          conn?.subscribe(entry.subscribe, wanted);
          for (const token of entry.subscribe) slot.desired.set(token, wanted);
          this.latestQuotes.track(entry.subscribe);
        }
        if (entry.changeMode.length > 0) {
          conn?.setMode(wanted, entry.changeMode);
          for (const token of entry.changeMode) slot.desired.set(token, wanted);
        }
      }
    });
  }

  /** Unsubscribes `tokens`; tokens not subscribed are ignored. Their latest quotes are removed. */
  unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    return this.#enqueue(async () => {
      this.#assertOpen();
      const valid = validateTokens(tokens);
      const plan = planUnsubscribe(this.#slotStates(), valid);
      for (const [index, list] of plan) {
        const slot = this.#slots[index]!;
        if (this.#isLive()) slot.conn?.unsubscribe(list);
        for (const token of list) slot.desired.delete(token);
        this.latestQuotes.untrack(list);
      }
    });
  }

  /** Sets the mode of subscribed `tokens`; tokens not subscribed are ignored (this never subscribes). */
  changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    return this.#enqueue(async () => {
      this.#assertOpen();
      const valid = validateTokens(tokens);
      if (!isMode(mode)) {
        throw new InvalidArgumentError(`mode must be 'ltp', 'quote' or 'full', got ${String(mode)}`);
      }
      const plan = planModeChange(this.#slotStates(), valid, mode);
      for (const [index, list] of plan) {
        const slot = this.#slots[index]!;
        if (this.#isLive()) slot.conn?.setMode(mode, list);
        for (const token of list) slot.desired.set(token, mode);
      }
    });
  }

  /**
   * Gives every connection a fresh access token (used from their next connect). A connection that
   * gave up (auth failed, retries exhausted) is reopened with its exact tokens and modes.
   */
  updateAccessToken(accessToken: string): void {
    this.#assertOpen();
    validateAccessToken(accessToken);
    // A provider stays the source of later connections; this token goes to the current ones.
    if (typeof this.#accessToken === 'string') this.#accessToken = accessToken;
    for (const slot of this.#slots) slot.conn?.updateAccessToken(accessToken);
    if (this.#state !== 'running') return;
    // Queued so it never races a subscribe's placement; failures are reported, not thrown.
    this.#enqueue(async () => {
      if (this.#state !== 'running') return;
      // Dead connections, and slots whose connection could not be reopened earlier but hold tokens.
      const dead = this.#slots.filter((slot) =>
        slot.conn === undefined ? slot.desired.size > 0 || slot.index === 0 : isDead(slot.conn),
      );
      await this.#openAll(dead);
    }).catch((error: unknown) => {
      this.config.logger.warn(
        { apiKey: this.apiKey, error: this.#describe(error) },
        'reopening connections after a token update failed',
      );
      if (error instanceof KiteTickerError && this.listenerCount('error') > 0) this.emit('error', error, -1);
    });
  }

  // ---------------------------------------------------------------- consumers

  /**
   * A new bounded channel on connection `connectionIndex`'s messages (0 <= index < maxConnections;
   * a connection not open yet delivers once it opens). Undefined for any other index.
   */
  getChannel(connectionIndex: number, options?: ChannelOptions): Channel<TickerMessage> | undefined {
    this.#assertOpen();
    return this.#slots[connectionIndex]?.broadcaster.subscribe(options);
  }

  /** A new bounded channel on every connection's messages. */
  getMergedChannel(options?: ChannelOptions): Channel<TickerMessage> {
    this.#assertOpen();
    return this.#merged.subscribe(options);
  }

  // ---------------------------------------------------------------- introspection

  getSymbolDistribution(): Map<number, Map<number, Mode>> {
    const out = new Map<number, Map<number, Mode>>();
    for (const slot of this.#slots) {
      if (slot.desired.size > 0 || slot.conn) out.set(slot.index, new Map(slot.desired));
    }
    return out;
  }

  availableCapacity(): number {
    return freeCapacity(this.#slotStates(), this.config.maxSymbolsPerConnection);
  }

  getStats(): ManagerStats {
    const connections: ConnectionStatsSnapshot[] = [];
    const stats: ManagerStats = {
      connections,
      activeConnections: 0,
      totalSymbols: 0,
      totalFrames: 0,
      totalTicks: 0,
      totalBytes: 0,
      totalMessagesReceived: this.#messagesReceived,
      totalProtocolErrors: 0,
      totalReconnects: 0,
      totalDrops: this.#merged.dropped,
      duplicateOrders: this.#orders.duplicates,
      unknownTokenDrops: this.#unknownTokenDrops,
      uptimeMs: this.#startedAt > 0 && this.#state !== 'stopped' ? Date.now() - this.#startedAt : 0,
    };
    for (const slot of this.#slots) {
      stats.totalSymbols += slot.desired.size;
      if (!slot.conn && slot.desired.size === 0 && slot.carried.frames === 0) continue;
      const live: TickerStats | undefined = slot.conn?.stats();
      const c = slot.carried;
      const snapshot: ConnectionStatsSnapshot = {
        index: slot.index,
        status: slot.conn ? slot.conn.status : this.#state === 'stopped' ? 'closed' : 'idle',
        connected: live?.connected ?? false,
        symbols: slot.desired.size,
        frames: c.frames + (live?.frames ?? 0),
        ticks: c.ticks + (live?.ticks ?? 0),
        bytes: c.bytes + (live?.bytes ?? 0),
        heartbeats: c.heartbeats + (live?.heartbeats ?? 0),
        protocolErrors: c.protocolErrors + (live?.protocolErrors ?? 0),
        reconnects: c.reconnects + (live?.reconnects ?? 0),
        lastFrameAgeMs: live?.lastFrameAgeMs ?? null,
        drops: slot.broadcaster.dropped,
      };
      connections.push(snapshot);
      if (snapshot.connected) stats.activeConnections++;
      stats.totalFrames += snapshot.frames;
      stats.totalTicks += snapshot.ticks;
      stats.totalBytes += snapshot.bytes;
      stats.totalProtocolErrors += snapshot.protocolErrors;
      stats.totalReconnects += snapshot.reconnects;
      stats.totalDrops += snapshot.drops;
    }
    return stats;
  }

  /**
   * Health of every opened connection, computed from its status now (so it recovers when the
   * connection does). `healthy` is true when at least one connection is open and all are healthy.
   */
  getHealth(): ManagerHealth {
    const connections: ManagerHealth['connections'] = [];
    for (const slot of this.#slots) {
      const conn = slot.conn;
      if (!conn) continue;
      const stats = conn.stats();
      const state =
        this.#state === 'stopped'
          ? 'closed'
          : connectionHealth(conn.status, stats.lastFrameAgeMs, this.config.livenessTimeoutMs);
      connections.push({ index: slot.index, state, lastFrameAgeMs: stats.lastFrameAgeMs });
    }
    return {
      healthy: connections.length > 0 && connections.every((c) => c.state === 'healthy'),
      connections,
    };
  }

  // ---------------------------------------------------------------- internals

  #enqueue<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    // The queue continues whatever the outcome; callers see their own result.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #assertOpen(): void {
    if (this.#state === 'stopped') throw closedError('KiteTickerManager');
  }

  /** Sockets exist (or are being opened) only between start and stop. */
  #isLive(): boolean {
    return this.#state === 'running' || this.#state === 'starting';
  }

  #slotStates(): SlotState[] {
    return this.#slots.map((slot) => slot.desired);
  }

  #totalSymbols(): number {
    let total = 0;
    for (const slot of this.#slots) total += slot.desired.size;
    return total;
  }

  #scope(): string {
    return `api_key ${this.apiKey} (${this.config.maxConnections} x ${this.config.maxSymbolsPerConnection})`;
  }

  #describe(error: unknown): string {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return redact(text, typeof this.#accessToken === 'string' ? [this.#accessToken] : []);
  }

  /**
   * Opens a connection on each slot (replacing a dead one), replays the slot's desired state, and
   * waits until all are connected or `connectionTimeoutMs` passes. On failure the new connections
   * are closed and the slots left without one.
   */
  async #openAll(slots: readonly Slot[]): Promise<void> {
    if (slots.length === 0) return;
    const opened: Slot[] = [];
    const timeout = new AbortController();
    const parent = this.#abort?.signal;
    const onParentAbort = (): void => timeout.abort(parent?.reason);
    parent?.addEventListener('abort', onParentAbort, { once: true });
    const timer = setTimeout(
      () =>
        timeout.abort(
          new ConnectTimeoutError(
            `connections of api_key ${this.apiKey} did not connect within ${this.config.connectionTimeoutMs} ms`,
          ),
        ),
      this.config.connectionTimeoutMs,
    );
    try {
      for (const slot of slots) {
        this.#attach(slot);
        opened.push(slot);
      }
      await Promise.all(opened.map((slot) => slot.conn!.connect(timeout.signal)));
    } catch (error) {
      await Promise.all(
        opened.map(async (slot) => {
          const conn = slot.conn;
          if (!conn) return;
          await conn.close().catch(() => undefined);
          this.#retire(slot);
        }),
      );
      throw timeout.signal.aborted && timeout.signal.reason instanceof Error ? timeout.signal.reason : error;
    } finally {
      clearTimeout(timer);
      parent?.removeEventListener('abort', onParentAbort);
    }
  }

  /** Creates the slot's connection (retiring a previous dead one), wires its listeners, replays state. */
  #attach(slot: Slot): void {
    if (slot.conn) this.#retire(slot);
    const options: KiteTickerOptions = {
      apiKey: this.apiKey,
      accessToken: this.#accessToken,
      url: this.config.url,
      connectTimeoutMs: this.config.connectionTimeoutMs,
      reconnect: this.config.reconnect,
      livenessTimeoutMs: this.config.livenessTimeoutMs,
      tokenRefreshIntervalMs: this.config.tokenRefreshIntervalMs,
      maxTokensPerMessage: this.config.maxTokensPerMessage,
      logger: this.config.logger,
    };
    const conn = this.#createConnection(options, slot.index);
    slot.conn = conn;
    slot.lastHealth = undefined;
    slot.detach = this.#listen(slot, conn);
    // The connection keeps this as its desired state and sends it on (every) connect.
    for (const [mode, tokens] of groupByMode(slot.desired)) conn.subscribe(tokens, mode);
  }

  /** Detaches the slot's connection and folds its counters into the slot's carried totals. */
  #retire(slot: Slot): void {
    const conn = slot.conn;
    if (!conn) return;
    const s = conn.stats();
    const c = slot.carried;
    c.frames += s.frames;
    c.ticks += s.ticks;
    c.bytes += s.bytes;
    c.heartbeats += s.heartbeats;
    c.protocolErrors += s.protocolErrors;
    c.reconnects += s.reconnects;
    slot.detach?.();
    slot.detach = undefined;
    slot.conn = undefined;
  }

  /**
   * One listener per event per connection, made once per connection (never per frame). The 'ticks'
   * listener is the only consumer of decoded batches: events, channels and the quote table share it.
   */
  #listen(slot: Slot, conn: TickerConnection): () => void {
    const index = slot.index;
    const merged = this.#merged;
    const local = slot.broadcaster;
    const quotes = this.#keepQuotes ? this.latestQuotes : undefined;
    const publish = (message: TickerMessage): void => {
      local.publish(message);
      merged.publish(message);
    };
    const desired = slot.desired;
    const onTicks = (ticks: Tick[]): void => {
      // Only what this connection should carry goes on: a server sending instruments nobody subscribed
      // (or ticks still in flight after an unsubscribe) must not reach consumers or grow their tables.
      // One Map lookup per tick; a new array only when something is dropped.
      let batch = ticks;
      for (let i = 0; i < ticks.length; i++) {
        if (!desired.has(ticks[i]!.instrument_token)) {
          batch = this.#withoutUnknown(ticks, desired);
          if (batch.length === 0) return;
          break;
        }
      }
      this.#messagesReceived++;
      quotes?.update(batch);
      if (local.hasSubscribers || merged.hasSubscribers)
        publish({ type: 'ticks', connectionIndex: index, ticks: batch });
      this.emit('ticks', batch, index);
    };
    const onOrder = (order: OrderUpdate): void => {
      if (!this.#orders.accept(order)) return;
      this.#messagesReceived++;
      publish({ type: 'order', connectionIndex: index, order });
      this.emit('order', order, index);
    };
    const onServerError = (message: string): void => {
      this.#messagesReceived++;
      publish({ type: 'error', connectionIndex: index, message });
      this.emit('serverError', message, index);
    };
    const onServerMessage = (data: unknown): void => {
      this.#messagesReceived++;
      publish({ type: 'message', connectionIndex: index, data });
      this.emit('serverMessage', data, index);
    };
    const onStatus = (event: StatusEvent): void => {
      publish({ type: 'status', connectionIndex: index, event });
      if (event.status === 'closed' && event.reason !== 'user') {
        this.config.logger.warn(
          { apiKey: this.apiKey, connection: index, reason: event.reason, symbols: slot.desired.size },
          'connection gave up; call updateAccessToken() to reopen it',
        );
      }
      this.emit('status', event, index);
    };
    const onProtocolError = (info: ProtocolErrorInfo): void => {
      this.emit('protocolError', info, index);
    };
    const onError = (error: KiteTickerError): void => {
      if (this.listenerCount('error') > 0) this.emit('error', error, index);
    };
    return attachListeners<KiteTickerEvents>(conn, {
      ticks: onTicks,
      order: onOrder,
      serverError: onServerError,
      serverMessage: onServerMessage,
      status: onStatus,
      protocolError: onProtocolError,
      error: onError,
    });
  }

  /** The ticks of `batch` whose token is in `desired`; counts the others. */
  #withoutUnknown(batch: readonly Tick[], desired: ReadonlyMap<number, Mode>): Tick[] {
    const kept = batch.filter((tick) => desired.has(tick.instrument_token));
    this.#unknownTokenDrops += batch.length - kept.length;
    return kept;
  }

  #checkHealth(): void {
    const health = this.getHealth();
    let changed = false;
    for (const entry of health.connections) {
      const slot = this.#slots[entry.index]!;
      if (slot.lastHealth === entry.state) continue;
      changed = true;
      const level = entry.state === 'healthy' ? 'info' : 'warn';
      this.config.logger[level](
        { apiKey: this.apiKey, connection: entry.index, from: slot.lastHealth ?? null, to: entry.state },
        'connection health changed',
      );
      slot.lastHealth = entry.state;
    }
    if (changed) this.emit('health', health);
  }
}
