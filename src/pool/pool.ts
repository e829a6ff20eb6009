/**
 * `ConnectionPool`: one API key's sockets (up to `maxConnections` of up to `maxSymbolsPerConnection`
 * instruments each). It owns the per-socket desired state (which token is on which socket, in which
 * mode), places new tokens with the pure planner in placement.ts, opens, attaches and retires
 * connections, and keeps their counters. It has no events, channels, de-duplication, quote table,
 * queue or timer of its own: each socket's messages go to its owner (`PoolOwner`), and its owner
 * serialises the calls. Bookkeeping changes only after the connection accepted the command.
 */

import { KiteTicker } from '../connection/index.js';
import { validateAccessToken } from '../connection/options.js';
import { groupByMode } from '../connection/subscriptions.js';
import type { AccessTokenSource } from '../connection/token-provider.js';
import type { KiteTickerEvents, KiteTickerOptions, TickerConnection } from '../connection/types.js';
import { attachListeners } from '../delivery/listeners.js';
import { ConnectTimeoutError, closedError } from '../errors.js';
import type { Mode } from '../protocol/constants.js';
import type { FrameView } from '../protocol/frame-view.js';
import { validateTokens } from '../protocol/index.js';
import type { Tick } from '../protocol/types.js';
import { addCounters, addRenamed, SOCKET_COUNTERS } from './counters.js';
import { connectionHealth } from './health.js';
import { countKnown, keepKnown } from './keep-known.js';
import { freeCapacity, planModeChange, planSubscribe, planUnsubscribe, type SlotState } from './placement.js';
import type {
  ConnectionFactory,
  ConnectionHealthState,
  ConnectionStatsSnapshot,
  KeyPool,
  ManagerHealth,
  PoolConfig,
  PoolOwner,
  PoolStats,
} from './types.js';

/** Counters of connections a slot has retired (after a reopen), so totals never go down. */
type CarriedStats = Pick<
  ConnectionStatsSnapshot,
  'frames' | 'ticks' | 'bytes' | 'heartbeats' | 'textMessages' | 'protocolErrors' | 'reconnects'
>;

interface Slot {
  readonly index: number;
  /** The truth for this connection: token -> mode, changed only with what was sent. */
  readonly desired: Map<number, Mode>;
  conn: TickerConnection | undefined;
  detach: (() => void) | undefined;
  carried: CarriedStats;
}

/** Lifecycle of a pool: sockets exist only between start and stop. */
type PoolState = 'idle' | 'starting' | 'running' | 'stopped';

/** Pool total <- socket counter. */
const TOTALS = [
  ['totalFrames', 'frames'],
  ['totalTicks', 'ticks'],
  ['totalBytes', 'bytes'],
  ['totalProtocolErrors', 'protocolErrors'],
  ['totalReconnects', 'reconnects'],
] as const;

const defaultConnectionFactory: ConnectionFactory = (options) => new KiteTicker(options);

/** A connection that will never come back by itself. */
function isDead(conn: TickerConnection): boolean {
  return conn.status === 'closed';
}

export class ConnectionPool implements KeyPool {
  readonly apiKey: string;
  /** A token, or a provider each connection asks (connection/token-provider.ts). */
  #accessToken: AccessTokenSource;
  #state: PoolState = 'idle';
  readonly #config: PoolConfig;
  readonly #owner: PoolOwner;
  readonly #slots: Slot[];
  readonly #createConnection: ConnectionFactory;
  /** Aborts connects in progress when the pool stops. */
  #abort: AbortController | undefined;
  #unknownTokenDrops = 0;

  constructor(
    apiKey: string,
    accessToken: AccessTokenSource,
    config: PoolConfig,
    owner: PoolOwner,
    createConnection: ConnectionFactory = defaultConnectionFactory,
  ) {
    this.apiKey = apiKey;
    this.#accessToken = accessToken;
    this.#config = config;
    this.#owner = owner;
    this.#createConnection = createConnection;
    this.#slots = Array.from({ length: config.maxConnections }, (_, index) => ({
      index,
      desired: new Map<number, Mode>(),
      conn: undefined,
      detach: undefined,
      carried: {
        frames: 0,
        ticks: 0,
        bytes: 0,
        heartbeats: 0,
        textMessages: 0,
        protocolErrors: 0,
        reconnects: 0,
      },
    }));
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'starting';
    this.#abort = new AbortController();
    // Socket 0 always (order updates arrive even with nothing subscribed), and every one holding tokens.
    const opening = this.#slots.filter((slot) => slot.index === 0 || slot.desired.size > 0);
    try {
      await this.#openAll(opening);
    } catch (error) {
      if (this.#state === 'starting') this.#state = 'idle';
      throw error;
    }
    if (this.#state === 'starting') this.#state = 'running';
  }

  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#abort?.abort(closedError('KiteTickerManager'));
    await Promise.all(this.#slots.map((slot) => slot.conn?.close().catch(() => undefined)));
    // Fold the last counters in so stats after stop still show the session's totals.
    for (const slot of this.#slots) this.#retire(slot);
  }

  // ---------------------------------------------------------------- subscriptions

  async subscribeSymbols(tokens: readonly number[], mode: Mode): Promise<void> {
    const valid = validateTokens(tokens);
    const { maxSymbolsPerConnection, maxConnections, placement } = this.#config;
    const scope = `api_key ${this.apiKey} (${maxConnections} x ${maxSymbolsPerConnection})`;
    const plan = planSubscribe(this.#states(), valid, mode, maxSymbolsPerConnection, scope, placement);
    if (plan.slots.size === 0) return;
    if (this.#isLive()) {
      // New (or dead) connections first: if one cannot connect, nothing of the call is applied.
      const opening = [...plan.slots.keys()]
        .map((index) => this.#slots[index]!)
        .filter((slot) => slot.conn === undefined || isDead(slot.conn));
      const previous = new Map<number, Mode>();
      for (const slot of opening) {
        const entry = plan.slots.get(slot.index)!;
        for (const token of entry.changeMode) previous.set(token, slot.desired.get(token)!);
        for (const token of [...entry.subscribe, ...entry.changeMode]) slot.desired.set(token, mode);
      }
      try {
        await this.#openAll(opening);
      } catch (error) {
        for (const slot of opening) {
          const entry = plan.slots.get(slot.index)!;
          for (const token of entry.subscribe) slot.desired.delete(token);
          for (const token of entry.changeMode) slot.desired.set(token, previous.get(token)!);
        }
        throw error;
      }
      // Their connections were created with the whole desired state: nothing more to send.
      for (const slot of opening) plan.slots.delete(slot.index);
    }
    for (const [index, entry] of plan.slots) {
      const slot = this.#slots[index]!;
      const conn = this.#isLive() ? slot.conn : undefined;
      if (entry.subscribe.length > 0) {
        conn?.subscribe(entry.subscribe, mode);
        for (const token of entry.subscribe) slot.desired.set(token, mode);
      }
      if (entry.changeMode.length > 0) {
        conn?.setMode(mode, entry.changeMode);
        for (const token of entry.changeMode) slot.desired.set(token, mode);
      }
    }
  }

  async unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    for (const [index, list] of planUnsubscribe(this.#states(), validateTokens(tokens))) {
      const slot = this.#slots[index]!;
      if (this.#isLive()) slot.conn?.unsubscribe(list);
      for (const token of list) slot.desired.delete(token);
    }
  }

  async changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    for (const [index, list] of planModeChange(this.#states(), validateTokens(tokens), mode)) {
      const slot = this.#slots[index]!;
      if (this.#isLive()) slot.conn?.setMode(mode, list);
      for (const token of list) slot.desired.set(token, mode);
    }
  }

  updateAccessToken(accessToken: string): void {
    // Checked before anything is stored: a token the sockets would refuse is never kept.
    validateAccessToken(accessToken);
    // A provider stays the source of later connections; this token goes to the current ones.
    if (typeof this.#accessToken === 'string') this.#accessToken = accessToken;
    for (const slot of this.#slots) slot.conn?.updateAccessToken(accessToken);
  }

  async reopen(): Promise<void> {
    if (this.#state !== 'running') return;
    // Dead connections, and slots whose connection could not be reopened earlier but hold tokens.
    const dead = this.#slots.filter((slot) =>
      slot.conn === undefined ? slot.desired.size > 0 || slot.index === 0 : isDead(slot.conn),
    );
    await this.#openAll(dead);
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
    return freeCapacity(this.#states(), this.#config.maxSymbolsPerConnection);
  }

  getStats(): PoolStats {
    const stats: PoolStats = {
      connections: [],
      activeConnections: 0,
      totalSymbols: 0,
      totalFrames: 0,
      totalTicks: 0,
      totalBytes: 0,
      totalProtocolErrors: 0,
      totalReconnects: 0,
      unknownTokenDrops: this.#unknownTokenDrops,
    };
    for (const slot of this.#slots) {
      stats.totalSymbols += slot.desired.size;
      if (!slot.conn && slot.desired.size === 0 && slot.carried.frames === 0) continue;
      const live = slot.conn?.stats();
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
        textMessages: c.textMessages + (live?.textMessages ?? 0),
        protocolErrors: c.protocolErrors + (live?.protocolErrors ?? 0),
        reconnects: c.reconnects + (live?.reconnects ?? 0),
        lastFrameAgeMs: live?.lastFrameAgeMs ?? null,
        drops: 0,
      };
      stats.connections.push(snapshot);
      if (snapshot.connected) stats.activeConnections++;
      addRenamed(stats, snapshot, TOTALS);
    }
    return stats;
  }

  /** Health of every opened connection, from its status now (so it recovers when the connection does). */
  getHealth(): ManagerHealth {
    const connections: ManagerHealth['connections'] = [];
    for (const slot of this.#slots) {
      const conn = slot.conn;
      if (!conn) continue;
      const { lastFrameAgeMs } = conn.stats();
      const state: ConnectionHealthState =
        this.#state === 'stopped'
          ? 'closed'
          : connectionHealth(conn.status, lastFrameAgeMs, this.#config.livenessTimeoutMs);
      connections.push({ index: slot.index, state, lastFrameAgeMs });
    }
    return {
      healthy: connections.length > 0 && connections.every((c) => c.state === 'healthy'),
      connections,
    };
  }

  // ---------------------------------------------------------------- internals

  #isLive(): boolean {
    return this.#state === 'running' || this.#state === 'starting';
  }

  #states(): SlotState[] {
    return this.#slots.map((slot) => slot.desired);
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
    const ms = this.#config.connectionTimeoutMs;
    const timer = setTimeout(
      () =>
        timeout.abort(
          new ConnectTimeoutError(`connections of api_key ${this.apiKey} did not connect within ${ms} ms`),
        ),
      ms,
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
          await slot.conn?.close().catch(() => undefined);
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
    const c = this.#config;
    const options: KiteTickerOptions = {
      apiKey: this.apiKey,
      accessToken: this.#accessToken,
      url: c.url,
      connectTimeoutMs: c.connectionTimeoutMs,
      reconnect: c.reconnect,
      livenessTimeoutMs: c.livenessTimeoutMs,
      maxTokensPerMessage: c.maxTokensPerMessage,
      logger: c.logger,
      tokenRefreshIntervalMs: c.tokenRefreshIntervalMs,
      tokenProviderTimeoutMs: c.tokenProviderTimeoutMs,
    };
    const conn = this.#createConnection(options, slot.index);
    slot.conn = conn;
    slot.detach = this.#listen(slot, conn);
    // The connection keeps this as its desired state and sends it on (every) connect.
    for (const [mode, tokens] of groupByMode(slot.desired)) conn.subscribe(tokens, mode);
  }

  /** Detaches the slot's connection and folds its counters into the slot's carried totals. */
  #retire(slot: Slot): void {
    const conn = slot.conn;
    if (!conn) return;
    addCounters(slot.carried, conn.stats(), SOCKET_COUNTERS);
    slot.detach?.();
    slot.detach = undefined;
    slot.conn = undefined;
  }

  /** One listener per event per connection, made once per connection (never per frame). */
  #listen(slot: Slot, conn: TickerConnection): () => void {
    const index = slot.index;
    const owner = this.#owner;
    const desired = slot.desired;
    const frame = owner.frame;
    // A connection decodes a frame only when a 'ticks' listener exists: without decodeTicks, the
    // pool reads the tokens from the frame's view instead (same filter, same counters).
    const decoded =
      this.#config.decodeTicks === false
        ? {
            frame: (view: FrameView) => {
              const known = countKnown(view, desired, this);
              if (known > 0) owner.undecoded?.(known, index);
            },
          }
        : {
            ticks: (ticks: Tick[]) => {
              // Only what this connection should carry goes on: a server sending instruments nobody
              // subscribed (or ticks still in flight after an unsubscribe) must not reach the owner.
              const batch = keepKnown(ticks, desired, this);
              if (batch.length > 0) owner.ticks(batch, index);
            },
          };
    return attachListeners<KiteTickerEvents>(conn, {
      ...decoded,
      order: (order) => owner.order(order, index),
      serverError: (message) => owner.serverError(message, index),
      serverMessage: (data) => owner.serverMessage(data, index),
      status: (event) => owner.status(event, index),
      protocolError: (info) => owner.protocolError(info, index),
      error: (error) => owner.error(error, index),
      ...(frame ? { rawFrame: (data: Uint8Array) => frame.call(owner, data, index) } : {}),
    });
  }

  /** Adds ticks dropped by `keepKnown` to this pool's count. */
  countUnknown(n: number): void {
    this.#unknownTokenDrops += n;
  }
}
