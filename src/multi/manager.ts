/**
 * `MultiApiKiteTickerManager`: N API keys, each a pool of up to 3 sockets, behind one desired-state table.
 *
 * Every mutation (subscribe, move, unsubscribe, mode, failover, placement of unplaced tokens, token
 * rotation) runs through one serial queue, plans against the table with the pure functions of plan.ts,
 * sends the commands to the pools, and records the result in the table. Messages flow the other way
 * through the pools' events, straight to this emitter and, when someone listens, the unified channel.
 */

import { EventEmitter } from 'node:events';
import { groupByMode } from '../connection/subscriptions.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { StatusEvent } from '../connection/types.js';
import {
  ApiKeyNotFoundError,
  AuthFailedError,
  CapacityError,
  closedError,
  ErrorCode,
  InvalidArgumentError,
  KiteTickerError,
  ManualDistributionError,
  NotStartedError,
  redact,
  UnexpectedError,
} from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import type { KiteTickerManagerEvents, TickerMessage } from '../manager/types.js';
import { validateTokens } from '../protocol/commands.js';
import { isMode, type Mode } from '../protocol/constants.js';
import type { OrderUpdate, ProtocolErrorInfo, Tick } from '../protocol/types.js';
import { Broadcaster } from '../stream/broadcaster.js';
import { attachListeners } from '../stream/listeners.js';
import { OrderDeduplicator } from '../stream/order-dedupe.js';
import type { Channel, ChannelOptions } from '../stream/types.js';
import { MultiApiKiteTickerManagerBuilder } from './builder.js';
import { DesiredState } from './desired-state.js';
import { KeySlot } from './key-slot.js';
import { assignBalanced, type KeyLoad, planFailover, planRoundRobin } from './plan.js';
import {
  type ApiKeyFailureReason,
  type ApiKeyStats,
  DistributionStrategy,
  type MultiApiEvents,
  type MultiApiKiteTickerManagerConfig,
  type MultiApiMessage,
  type MultiApiStats,
} from './types.js';

type RunState = 'new' | 'starting' | 'running' | 'stopped';

const NAME = 'MultiApiKiteTickerManager';

export class MultiApiKiteTickerManager extends EventEmitter<MultiApiEvents> implements AsyncDisposable {
  /** The fluent builder (the way to make one). */
  static builder(): MultiApiKiteTickerManagerBuilder {
    return new MultiApiKiteTickerManagerBuilder();
  }

  readonly #config: MultiApiKiteTickerManagerConfig;
  readonly #slots = new Map<string, KeySlot>();
  /** The keys in the order they were added: that order breaks placement ties. */
  readonly #order: KeySlot[] = [];
  readonly #table = new DesiredState();
  /** Unified channels; their defaults are the pools' (baseConfig channelCapacity / overflow). */
  readonly #unified: Broadcaster<MultiApiMessage>;
  /** Across keys; each key's pool already dropped the copies of its own sockets. */
  readonly #orders: OrderDeduplicator;
  readonly #logger: Logger;
  readonly #capacityPerKey: number;
  #state: RunState = 'new';
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;
  #startedAt = 0;
  #stoppedAt = 0;
  #healthTimer: ReturnType<typeof setInterval> | undefined;
  /** Tokens handed to a pool whose subscribe call has not returned yet (not in the table until it does). */
  readonly #placing = new Set<number>();
  /** Ticks dropped here for tokens the manager does not want (the pools count their own). */
  #unknownTokenDrops = 0;
  /** Tail of the serial queue of mutations. */
  #queue: Promise<unknown> = Promise.resolve();

  /** Prefer `MultiApiKiteTickerManager.builder()...build()`, which validates the config. */
  constructor(config: MultiApiKiteTickerManagerConfig) {
    super();
    this.#config = config;
    this.#logger = config.baseConfig.logger ?? silentLogger;
    this.#capacityPerKey = config.maxConnectionsPerApi * config.maxSymbolsPerConnection;
    this.#unified = new Broadcaster<MultiApiMessage>({
      capacity: config.baseConfig.channelCapacity,
      overflow: config.baseConfig.overflow,
    });
    this.#orders = new OrderDeduplicator({ windowMs: config.orderDedupeWindowMs });
    for (const key of config.apiKeys) {
      const slot = new KeySlot(
        key.id,
        key.apiKey,
        key.accessToken,
        this.#makePool(key.apiKey, key.accessToken),
      );
      this.#attach(slot);
      this.#slots.set(key.id, slot);
      this.#order.push(slot);
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Starts every key's pool. Resolves once each has started or failed; a key whose start fails is marked
   * failed (and recovers when it connects, or after updateAccessToken). Rejects only if every key fails.
   */
  start(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(closedError(NAME));
    this.#startPromise ??= this.#start();
    return this.#startPromise;
  }

  async #start(): Promise<void> {
    this.#state = 'starting';
    this.#startedAt = Date.now();
    const results = await Promise.allSettled(this.#order.map((slot) => slot.manager.start()));
    if ((this.#state as RunState) === 'stopped') throw closedError(NAME);
    let firstError: unknown;
    results.forEach((result, i) => {
      const slot = this.#order[i]!;
      if (result.status === 'rejected') {
        firstError ??= result.reason;
        const reason: ApiKeyFailureReason = isAuthError(result.reason) ? 'auth_failed' : 'start_failed';
        this.#logger.warn(
          { apiKeyId: slot.id, reason, error: this.#describe(result.reason) },
          'API key failed to start',
        );
        slot.startFailed = true;
        // Its statuses may already have failed it during start; count the failure once.
        if (slot.state === 'failed') slot.failureReason = reason;
        else this.#markFailed(slot, reason);
      } else if (slot.state === 'idle') {
        slot.state = 'active';
      }
    });
    if (results.every((r) => r.status === 'rejected')) {
      await this.stop();
      throw firstError;
    }
    this.#state = 'running';
    if (this.#config.enableHealthMonitoring) {
      this.#healthTimer = setInterval(() => this.#checkHealth(), this.#config.healthCheckIntervalMs);
      this.#healthTimer.unref?.();
    }
  }

  /** Stops every pool and ends every channel. Idempotent; safe before start(). */
  stop(): Promise<void> {
    this.#stopPromise ??= this.#stop();
    return this.#stopPromise;
  }

  async #stop(): Promise<void> {
    this.#state = 'stopped';
    this.#stoppedAt = Date.now();
    if (this.#healthTimer !== undefined) clearInterval(this.#healthTimer);
    this.#healthTimer = undefined;
    for (const slot of this.#order) slot.clearDownTimer();
    await Promise.allSettled(this.#order.map((slot) => slot.manager.stop()));
    for (const slot of this.#order) {
      slot.detach?.();
      slot.detach = undefined;
      slot.state = 'stopped';
    }
    this.#unified.close();
    this.#orders.clear();
  }

  /** `await using manager = builder.build()` stops it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---------------------------------------------------------------- symbol management

  /**
   * Subscribes tokens, placing the new ones across keys (round-robin: least-loaded key with room first).
   * All-or-nothing: if the keys' total free capacity is short, throws CapacityError and subscribes none.
   * Tokens already subscribed stay where they are; with an explicit `mode` they switch to it.
   * Under DistributionStrategy.Manual, throws ERR_MANUAL_DISTRIBUTION: use subscribeSymbolsToApi.
   * @param mode default: the builder's defaultMode (Mode.Quote).
   */
  async subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void> {
    if (this.#config.distributionStrategy === DistributionStrategy.Manual) {
      throw new ManualDistributionError();
    }
    const list = validateTokens(tokens);
    checkMode(mode);
    this.#assertRunning();
    await this.#serial(async () => {
      this.#assertRunning();
      const { known, fresh } = this.#split(list);
      const plan = planRoundRobin(fresh, this.#loads());
      if (!plan.ok) {
        throw new CapacityError(
          plan.requested,
          plan.available,
          `the ${this.#eligible().length} available API key(s)`,
        );
      }
      if (mode !== undefined) await this.#setModes(known, mode);
      const effective = mode ?? this.#config.defaultMode;
      await this.#placeAll(plan.assignment, () => effective, true);
    });
  }

  /**
   * Subscribes tokens on one key. A token that another key owns MOVES here (unsubscribed there first), so
   * a token is only ever on one key; its mode is kept unless `mode` is given. Works under both strategies.
   * Throws ApiKeyNotFoundError, or CapacityError (nothing changed) if the key lacks room for the incoming
   * tokens (a failed key has none).
   * @param mode default: the builder's defaultMode for new tokens; moved tokens keep theirs.
   */
  async subscribeSymbolsToApi(apiKeyId: string, tokens: readonly number[], mode?: Mode): Promise<void> {
    const slot = this.#slot(apiKeyId);
    const list = validateTokens(tokens);
    checkMode(mode);
    this.#assertRunning();
    await this.#serial(async () => {
      this.#assertRunning();
      const { known, fresh } = this.#split(list);
      const here: number[] = [];
      const moving: number[] = [];
      for (const token of known) {
        if (this.#table.get(token)?.apiKeyId === slot.id) here.push(token);
        else moving.push(token);
      }
      const incoming = moving.length + fresh.length;
      const free = slot.state === 'failed' ? 0 : this.#free(slot);
      if (incoming > free) {
        const scope =
          slot.state === 'failed'
            ? `API key ${JSON.stringify(slot.id)} (failed: ${slot.failureReason})`
            : `API key ${JSON.stringify(slot.id)}`;
        throw new CapacityError(incoming, free, scope);
      }
      if (mode !== undefined) await this.#setModes(here, mode);
      // Moves: off the old owner first, so the token is never on two keys at once.
      const previous = new Map<number, Mode>();
      for (const token of moving) previous.set(token, this.#table.get(token)!.mode);
      await this.#removeFromOwners(moving);
      const effective = mode ?? this.#config.defaultMode;
      const assignment = new Map([[slot.id, [...moving, ...fresh]]]);
      await this.#placeAll(
        assignment,
        (t) => (mode === undefined ? (previous.get(t) ?? effective) : effective),
        true,
      );
    });
  }

  /** Unsubscribes tokens from whichever key owns them (unknown tokens are ignored); freed room goes to unplaced tokens. */
  async unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    const list = validateTokens(tokens);
    this.#assertRunning();
    await this.#serial(async () => {
      this.#assertRunning();
      await this.#removeFromOwners(list);
      await this.#placeUnplaced();
    });
  }

  /** Changes the mode of tokens on whichever key owns them (unknown tokens are ignored). */
  async changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    const list = validateTokens(tokens);
    if (!isMode(mode))
      throw new InvalidArgumentError(`mode must be 'ltp', 'quote' or 'full', got ${String(mode)}`);
    this.#assertRunning();
    await this.#serial(async () => {
      this.#assertRunning();
      await this.#setModes(list, mode);
    });
  }

  /**
   * Rotates a key's access token (Kite tokens expire daily). The key's pool uses it from its next
   * connect, and at once for sockets refused with the old one; a key whose start failed is started
   * again. The key takes tokens again once a socket connects. Rejects if that restart fails.
   */
  async updateAccessToken(apiKeyId: string, accessToken: string): Promise<void> {
    const slot = this.#slot(apiKeyId);
    if (typeof accessToken !== 'string' || accessToken.length === 0) {
      throw new InvalidArgumentError('accessToken must be a non-empty string');
    }
    if (this.#state === 'stopped') throw closedError(NAME);
    // The pool validates first (and throws before storing anything): a refused token is never kept.
    slot.manager.updateAccessToken(accessToken);
    slot.accessToken = accessToken;
    if (this.#state !== 'running' || !slot.startFailed) return;
    await this.#serial(async () => {
      if (this.#state !== 'running' || !slot.startFailed) return;
      try {
        await slot.manager.start();
      } catch (error) {
        slot.failureReason = isAuthError(error) ? 'auth_failed' : 'start_failed';
        throw error;
      }
      slot.startFailed = false;
      if (slot.state === 'failed') this.#recover(slot);
    });
  }

  // ---------------------------------------------------------------- messages

  /** A new bounded channel of every key's messages, tagged with the key id. Ends when the manager stops. */
  getUnifiedChannel(options?: ChannelOptions): Channel<MultiApiMessage> {
    return this.#unified.subscribe(options);
  }

  /**
   * A channel on one socket of one key, as that key's pool delivers it (order updates deduplicated per
   * key only); undefined for an unknown key or index, or once stopped.
   */
  getChannel(
    apiKeyId: string,
    connectionIndex: number,
    options?: ChannelOptions,
  ): Channel<TickerMessage> | undefined {
    if (this.#state === 'stopped') return undefined;
    return this.#slots.get(apiKeyId)?.manager.getChannel(connectionIndex, options);
  }

  // ---------------------------------------------------------------- introspection

  /** Key ids in the order they were added. */
  getApiKeys(): string[] {
    return this.#order.map((slot) => slot.id);
  }

  /** key id -> connection index -> (token -> mode), as each key's pool holds it. */
  getSymbolDistribution(): Map<string, Map<number, Map<number, Mode>>> {
    const out = new Map<string, Map<number, Map<number, Mode>>>();
    for (const slot of this.#order) out.set(slot.id, slot.manager.getSymbolDistribution());
    return out;
  }

  /** The desired-state view: token -> owning key id (undefined while unplaced) and mode. */
  getDesiredState(): Map<number, { apiKeyId: string | undefined; mode: Mode }> {
    const out = new Map<number, { apiKeyId: string | undefined; mode: Mode }>();
    for (const slot of this.#order) {
      for (const [token, mode] of this.#table.ofKey(slot.id)) out.set(token, { apiKeyId: slot.id, mode });
    }
    for (const [token, mode] of this.#table.unplaced()) out.set(token, { apiKeyId: undefined, mode });
    return out;
  }

  /** Tokens wanted but on no key (token -> mode), in the order they became unplaced. */
  getUnplacedSymbols(): Map<number, Mode> {
    return new Map(this.#table.unplaced());
  }

  /** Free slots across the keys that take tokens now. */
  availableCapacity(): number {
    return this.#loads().reduce((sum, k) => sum + k.free, 0);
  }

  getStats(): MultiApiStats {
    const perApiStats = this.#order.map((slot) => this.#apiStats(slot));
    const sum = (f: (s: ApiKeyStats) => number): number => perApiStats.reduce((acc, s) => acc + f(s), 0);
    const end = this.#state === 'stopped' ? this.#stoppedAt : Date.now();
    return {
      totalApiKeys: this.#order.length,
      totalConnections: sum((s) => s.activeConnections),
      totalSymbols: this.#table.size - this.#table.unplacedCount,
      unplacedSymbols: this.#table.unplacedCount,
      totalMessagesReceived: sum((s) => s.totalMessagesReceived),
      totalTicks: sum((s) => s.totalTicks),
      totalDrops: sum((s) => s.totalDrops) + this.#unified.dropped,
      duplicateOrders: sum((s) => s.manager.duplicateOrders) + this.#orders.duplicates,
      unknownTokenDrops: sum((s) => s.manager.unknownTokenDrops) + this.#unknownTokenDrops,
      uptimeMs: this.#startedAt === 0 ? 0 : Math.max(0, end - this.#startedAt),
      perApiStats,
    };
  }

  /** One key's stats. Throws ApiKeyNotFoundError ("API key not found"). */
  getApiStats(apiKeyId: string): ApiKeyStats {
    return this.#apiStats(this.#slot(apiKeyId));
  }

  #apiStats(slot: KeySlot): ApiKeyStats {
    const stats = slot.manager.getStats();
    return {
      apiKeyId: slot.id,
      state: slot.state,
      failureReason: slot.failureReason,
      activeConnections: stats.activeConnections,
      totalSymbols: this.#table.countOf(slot.id),
      availableCapacity: slot.state === 'failed' || slot.state === 'stopped' ? 0 : this.#free(slot),
      totalMessagesReceived: stats.totalMessagesReceived,
      totalTicks: stats.totalTicks,
      totalFrames: stats.totalFrames,
      totalBytes: stats.totalBytes,
      totalReconnects: stats.totalReconnects,
      totalDrops: stats.totalDrops,
      totalProtocolErrors: stats.totalProtocolErrors,
      failovers: slot.failovers,
      manager: stats,
      health: slot.manager.getHealth(),
    };
  }

  // ---------------------------------------------------------------- pools and their events

  #makePool(apiKey: string, accessToken: AccessTokenSource) {
    return this.#config.managerFactory(apiKey, accessToken, { ...this.#config.baseConfig });
  }

  /** Wires a pool's events to this manager: one set of listeners per pool, nothing per frame. */
  #attach(slot: KeySlot): void {
    const id = slot.id;
    const unified = this.#unified;
    const onTicks = (ticks: Tick[], connectionIndex: number): void => {
      // Each key's pool already drops instruments its sockets do not carry; this catches a pool that
      // does not (a custom managerFactory). One lookup per tick; a new array only when one is dropped.
      let batch = ticks;
      for (let i = 0; i < ticks.length; i++) {
        if (!this.#isWanted(ticks[i]!.instrument_token)) {
          batch = this.#withoutUnknown(ticks);
          if (batch.length === 0) return;
          break;
        }
      }
      this.emit('ticks', batch, id, connectionIndex);
      // The tagged wrapper is only built when a unified channel exists.
      if (unified.hasSubscribers)
        unified.publish({ apiKeyId: id, message: { type: 'ticks', connectionIndex, ticks: batch } });
    };
    const onOrder = (order: OrderUpdate, connectionIndex: number): void => {
      if (!this.#orders.accept(order)) return;
      this.emit('order', order, id, connectionIndex);
      if (unified.hasSubscribers)
        unified.publish({ apiKeyId: id, message: { type: 'order', connectionIndex, order } });
    };
    const onStatus = (event: StatusEvent, connectionIndex: number): void => {
      this.#trackStatus(slot, event, connectionIndex);
      this.emit('status', event, id, connectionIndex);
      if (unified.hasSubscribers)
        unified.publish({ apiKeyId: id, message: { type: 'status', connectionIndex, event } });
    };
    const onServerError = (message: string, connectionIndex: number): void => {
      this.emit('serverError', message, id, connectionIndex);
      if (unified.hasSubscribers)
        unified.publish({ apiKeyId: id, message: { type: 'error', connectionIndex, message } });
    };
    const onServerMessage = (data: unknown, connectionIndex: number): void => {
      this.emit('serverMessage', data, id, connectionIndex);
      if (unified.hasSubscribers)
        unified.publish({ apiKeyId: id, message: { type: 'message', connectionIndex, data } });
    };
    const onProtocolError = (info: ProtocolErrorInfo, connectionIndex: number): void => {
      this.emit('protocolError', info, id, connectionIndex);
    };
    const onError = (error: KiteTickerError): void => this.#report(error, id);
    slot.detach = attachListeners<KiteTickerManagerEvents>(slot.manager, {
      ticks: onTicks,
      order: onOrder,
      status: onStatus,
      serverError: onServerError,
      serverMessage: onServerMessage,
      protocolError: onProtocolError,
      error: onError,
    });
  }

  /** In the table, or being placed right now (a pool may deliver before its subscribe call returns). */
  #isWanted(token: number): boolean {
    return this.#table.has(token) || (this.#placing.size > 0 && this.#placing.has(token));
  }

  /** The ticks of `batch` the manager wants; counts the others. */
  #withoutUnknown(batch: readonly Tick[]): Tick[] {
    const kept = batch.filter((tick) => this.#isWanted(tick.instrument_token));
    this.#unknownTokenDrops += batch.length - kept.length;
    return kept;
  }

  /** Keeps each key's socket states and turns them into failure / recovery decisions. */
  #trackStatus(slot: KeySlot, event: StatusEvent, connectionIndex: number): void {
    if (this.#state === 'stopped' || slot.state === 'stopped') return;
    switch (event.status) {
      case 'connected':
        slot.connections.set(connectionIndex, 'connected');
        slot.downSince = undefined;
        slot.clearDownTimer();
        if (slot.state === 'failed') this.#recover(slot);
        else if (slot.state === 'idle') slot.state = 'active';
        return;
      case 'auth_failed':
        slot.connections.set(connectionIndex, 'auth_failed');
        this.#fail(slot, 'auth_failed');
        return;
      case 'closed':
        slot.connections.set(connectionIndex, 'closed');
        if (event.reason === 'auth_failed') this.#fail(slot, 'auth_failed');
        else if (event.reason === 'reconnect_exhausted' && slot.connectedCount() === 0)
          this.#fail(slot, 'unreachable');
        return;
      case 'idle':
        slot.connections.set(connectionIndex, 'idle');
        return;
      default:
        slot.connections.set(connectionIndex, event.status);
        this.#markDown(slot);
    }
  }

  /** Starts the unreachable clock when a key's last connected socket is gone. */
  #markDown(slot: KeySlot): void {
    if (slot.connectedCount() > 0 || slot.state === 'failed' || slot.downSince !== undefined) return;
    slot.downSince = Date.now();
    slot.downTimer = setTimeout(() => {
      slot.downTimer = undefined;
      if (slot.connectedCount() === 0 && slot.state !== 'failed' && slot.state !== 'stopped') {
        this.#fail(slot, 'unreachable');
      }
    }, this.#config.failoverAfterMs);
    slot.downTimer.unref?.();
  }

  /** Marks the key failed now (so no new placement picks it) and queues the evacuation of its tokens. */
  #fail(slot: KeySlot, reason: ApiKeyFailureReason): void {
    if (slot.state === 'failed' || slot.state === 'stopped' || this.#state === 'stopped') return;
    this.#markFailed(slot, reason);
    this.#serial(() => this.#evacuate(slot, reason)).catch((error: unknown) => this.#report(error, slot.id));
  }

  #markFailed(slot: KeySlot, reason: ApiKeyFailureReason): void {
    slot.state = 'failed';
    slot.failureReason = reason;
    slot.failovers++;
    slot.clearDownTimer();
    slot.downSince = undefined;
    this.#logger.warn({ apiKeyId: slot.id, reason }, 'API key failed');
  }

  /** Moves a failed key's tokens to keys with room; the rest become unplaced (reported, never dropped). */
  async #evacuate(slot: KeySlot, reason: ApiKeyFailureReason): Promise<void> {
    if (slot.state !== 'failed' || this.#state === 'stopped') return;
    if (!this.#config.enableFailover) return;
    const own = new Map(this.#table.ofKey(slot.id));
    if (own.size === 0) {
      this.emit('failover', { apiKeyId: slot.id, reason, moved: new Map(), unplaced: [] });
      return;
    }
    const tokens = [...own.keys()];
    await this.#quietly(slot.manager.unsubscribeSymbols(tokens), slot.id);
    for (const [token, mode] of own) this.#table.set(token, undefined, mode);
    const plan = planFailover(tokens, this.#loads());
    const moved = await this.#placeAll(plan.moved, (t) => own.get(t)!, false);
    const unplaced = [...this.#table.unplaced().keys()].filter((t) => own.has(t));
    this.#logger.warn(
      { apiKeyId: slot.id, reason, moved: tokens.length - unplaced.length, unplaced: unplaced.length },
      'API key failed over',
    );
    this.emit('failover', { apiKeyId: slot.id, reason, moved, unplaced });
    if (unplaced.length > 0) {
      this.emit('unplaced', {
        tokens: unplaced,
        totalUnplaced: this.#table.unplacedCount,
        reason: `API key ${JSON.stringify(slot.id)} failed (${reason}) and the other keys lack capacity`,
      });
    }
  }

  /** A failed key is usable again: it takes waiting tokens. */
  #recover(slot: KeySlot): void {
    slot.state = 'active';
    slot.failureReason = undefined;
    this.#logger.info({ apiKeyId: slot.id }, 'API key recovered');
    this.emit('recovered', slot.id);
    this.#serial(() => this.#placeUnplaced()).catch((error: unknown) => this.#report(error, slot.id));
  }

  /** Places as many unplaced tokens as the keys have room for (first-come, first-served). */
  async #placeUnplaced(): Promise<void> {
    if (this.#table.unplacedCount === 0 || this.#state !== 'running') return;
    const waiting = new Map(this.#table.unplaced());
    const { assignment } = assignBalanced([...waiting.keys()], this.#loads());
    if (assignment.size === 0) return;
    const placed = await this.#placeAll(assignment, (t) => waiting.get(t)!, false);
    if (placed.size > 0) {
      this.#logger.info(
        { placed: countAll(placed), unplaced: this.#table.unplacedCount },
        'unplaced tokens placed',
      );
      this.emit('placed', placed);
    }
  }

  #checkHealth(): void {
    if (this.#state !== 'running') return;
    const now = Date.now();
    for (const slot of this.#order) {
      const health = slot.manager.getHealth();
      if (slot.state === 'failed') {
        // A 'connected' status missed for any reason: the health snapshot says the key works.
        if (slot.failureReason === 'unreachable' && health.connections.some((c) => c.state === 'healthy')) {
          this.#recover(slot);
        }
        continue;
      }
      if (health.connections.some((c) => c.state === 'auth_failed')) this.#fail(slot, 'auth_failed');
      else if (slot.downSince !== undefined && now - slot.downSince >= this.#config.failoverAfterMs) {
        this.#fail(slot, 'unreachable');
      }
    }
    this.#logger.debug(
      {
        keys: this.#order.map((s) => ({ id: s.id, state: s.state, symbols: this.#table.countOf(s.id) })),
        unplaced: this.#table.unplacedCount,
      },
      'multi-key health',
    );
  }

  // ---------------------------------------------------------------- helpers

  /**
   * Subscribes each key's share (grouped by mode) and records it in the table. `atomic`: on a pool error,
   * undo what this call placed and rethrow; otherwise tokens a pool refused become unplaced.
   */
  async #placeAll(
    assignment: Map<string, number[]>,
    modeOf: (token: number) => Mode,
    atomic: boolean,
  ): Promise<Map<string, number[]>> {
    const done: { slot: KeySlot; tokens: number[] }[] = [];
    const placed = new Map<string, number[]>();
    for (const [id, tokens] of assignment) {
      const slot = this.#slots.get(id)!;
      for (const [mode, group] of groupByMode(tokens.map((t) => [t, modeOf(t)] as const))) {
        for (const t of group) this.#placing.add(t);
        try {
          await slot.manager.subscribeSymbols(group, mode);
        } catch (error) {
          for (const t of group) this.#placing.delete(t);
          if (atomic) {
            for (const d of done) {
              await this.#quietly(d.slot.manager.unsubscribeSymbols(d.tokens), d.slot.id);
              for (const t of d.tokens) this.#table.delete(t);
            }
            throw error;
          }
          this.#report(error, id);
          for (const t of group) this.#table.set(t, undefined, mode);
          continue;
        }
        for (const t of group) {
          this.#placing.delete(t);
          this.#table.set(t, id, mode);
        }
        done.push({ slot, tokens: group });
        const list = placed.get(id);
        if (list) list.push(...group);
        else placed.set(id, [...group]);
      }
    }
    return placed;
  }

  /** Unsubscribes tokens from their owners and forgets them. */
  async #removeFromOwners(tokens: readonly number[]): Promise<void> {
    const byOwner = new Map<string, number[]>();
    for (const token of tokens) {
      const entry = this.#table.get(token);
      if (!entry) continue;
      if (entry.apiKeyId === undefined) {
        this.#table.delete(token);
        continue;
      }
      const list = byOwner.get(entry.apiKeyId);
      if (list) list.push(token);
      else byOwner.set(entry.apiKeyId, [token]);
    }
    for (const [id, list] of byOwner) {
      await this.#slots.get(id)!.manager.unsubscribeSymbols(list);
      for (const t of list) this.#table.delete(t);
    }
  }

  /** Sets the mode of known tokens on their owners (unplaced ones just record it). */
  async #setModes(tokens: readonly number[], mode: Mode): Promise<void> {
    const byOwner = new Map<string, number[]>();
    for (const token of tokens) {
      const entry = this.#table.get(token);
      if (!entry || entry.mode === mode) continue;
      if (entry.apiKeyId === undefined) {
        this.#table.setMode(token, mode);
        continue;
      }
      const list = byOwner.get(entry.apiKeyId);
      if (list) list.push(token);
      else byOwner.set(entry.apiKeyId, [token]);
    }
    for (const [id, list] of byOwner) {
      await this.#slots.get(id)!.manager.changeMode(list, mode);
      for (const t of list) this.#table.setMode(t, mode);
    }
  }

  /** Distinct tokens of a call, split into those the table knows and new ones. */
  #split(tokens: readonly number[]): { known: number[]; fresh: number[] } {
    const seen = new Set<number>();
    const known: number[] = [];
    const fresh: number[] = [];
    for (const token of tokens) {
      if (seen.has(token)) continue;
      seen.add(token);
      (this.#table.has(token) ? known : fresh).push(token);
    }
    return { known, fresh };
  }

  /** Keys that take tokens now (not failed), with their load and room, in the order they were added. */
  #loads(): KeyLoad[] {
    return this.#eligible().map((slot) => ({
      id: slot.id,
      load: this.#table.countOf(slot.id),
      free: this.#free(slot),
    }));
  }

  #eligible(): KeySlot[] {
    return this.#order.filter((slot) => slot.state !== 'failed' && slot.state !== 'stopped');
  }

  /** Room on a key: the configured capacity less what the table gives it, and never more than its pool reports. */
  #free(slot: KeySlot): number {
    const byTable = this.#capacityPerKey - this.#table.countOf(slot.id);
    return Math.max(0, Math.min(byTable, slot.manager.availableCapacity()));
  }

  #slot(apiKeyId: string): KeySlot {
    const slot = this.#slots.get(apiKeyId);
    if (!slot) throw new ApiKeyNotFoundError(apiKeyId);
    return slot;
  }

  #assertRunning(): void {
    if (this.#state === 'stopped') throw closedError(NAME);
    if (this.#state !== 'running') {
      throw new NotStartedError(`${NAME} is not started: await start() first`);
    }
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
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
  #report(error: unknown, apiKeyId: string | undefined): void {
    this.#logger.error({ apiKeyId, error: this.#describe(error) }, 'multi-key manager error');
    if (this.listenerCount('error') > 0) {
      this.emit(
        'error',
        error instanceof Error ? error : new UnexpectedError(this.#describe(error)),
        apiKeyId,
      );
    }
  }

  #describe(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return redact(
      text,
      this.#order.flatMap((s) => (typeof s.accessToken === 'string' ? [s.accessToken] : [])),
    );
  }
}

function isAuthError(error: unknown): boolean {
  return (
    error instanceof AuthFailedError ||
    (error instanceof KiteTickerError && error.code === ErrorCode.AuthFailed)
  );
}

function checkMode(mode: unknown): void {
  if (mode !== undefined && !isMode(mode)) {
    throw new InvalidArgumentError(`mode must be 'ltp', 'quote' or 'full', got ${String(mode)}`);
  }
}

function countAll(map: Map<string, number[]>): number {
  let n = 0;
  for (const list of map.values()) n += list.length;
  return n;
}
