/**
 * KiteSimulator: a Kite Connect v3 ticker server for tests, soaks, benchmarks and credential-free runs,
 * composed of one piece per concern:
 *
 * - the Kite protocol front end (src/kite-server: HTTP upgrade, auth, per-key limits, commands,
 *   heartbeats, sending), with the simulator's credentials as its authoriser (upgrade.ts) and
 *   `GET /instruments` as an HTTP route (rest-instruments.ts);
 * - the market as its frame source (feed.ts: universe, random walk, schedule, stagger; blast.ts);
 * - faults, each written once (faults.ts), driven by hand or by seeded chaos (chaos.ts);
 * - introspection (introspection.ts).
 *
 * This class holds the lifecycle (start, stop, restart) and the public API, and delegates the rest.
 */
import { EventEmitter } from 'node:events';
import { FAULT } from '../config/limits.js';
import { duration } from '../config/validate.js';
import { ClosedError, NotStartedError } from '../errors.js';
import { KiteProtocolServer } from '../kite-server/server.js';
import { type Logger, silentLogger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { OrderUpdate, Tick } from '../protocol/types.js';
import { Chaos } from './chaos.js';
import { type FaultHost, FaultInjector } from './faults.js';
import { MarketFeed } from './feed.js';
import { FrameInjector, type InjectFrameOptions, type InjectTarget } from './inject.js';
import { connectionInfos, FaultLog, keyInfo, snapshot } from './introspection.js';
import { Market } from './market.js';
import { loadInstruments, type ResolvedSimulatorOptions, resolveOptions } from './options.js';
import { Rng } from './random.js';
import { InstrumentsEndpoint } from './rest-instruments.js';
import { DEFAULT_SIMULATOR_APPS, LoginEndpoint } from './rest-login.js';
import { stampSendTime } from './stamp.js';
import { Timers } from './timers.js';
import { TradingClock } from './trading-clock.js';
import type {
  CorruptionKind,
  FaultRecord,
  SimulatorConnectionInfo,
  SimulatorInstrument,
  SimulatorKeyInfo,
  SimulatorOptions,
  TickerSimulator,
} from './types.js';
import { SimulatorAuthoriser } from './upgrade.js';

export { DEFAULT_SIMULATOR_CREDENTIALS } from './options.js';

export interface SimulatorEvents {
  /** A fault was injected (manually or by chaos). */
  fault: [FaultRecord];
  /** A WebSocket upgrade was accepted. */
  connection: [{ id: number; apiKey: string }];
  /** A simulator socket closed (by either side). */
  disconnect: [{ id: number; apiKey: string }];
  /** An upgrade was refused with an HTTP status. */
  refused: [{ status: number; apiKey: string | undefined; reason: string }];
}

type Target = number | { apiKey: string };

export class KiteSimulator extends EventEmitter<SimulatorEvents> implements TickerSimulator {
  readonly #options: SimulatorOptions;
  readonly #o: ResolvedSimulatorOptions;
  readonly #log: Logger;
  readonly #auth: SimulatorAuthoriser;
  readonly #login: LoginEndpoint;
  readonly #market: Market;
  readonly #front: KiteProtocolServer<MarketFeed>;
  readonly #injector: FrameInjector;
  readonly #faultLog: FaultLog;
  readonly #manual: FaultInjector;
  readonly #chaos: Chaos | undefined;
  readonly #timers = new Timers();
  #host: string;
  #started = false;
  #stopped = false;
  #restarting: Promise<void> | undefined;

  /**
   * Builds the market (synchronously; 30 000 instruments take a fraction of a second) and validates
   * the options. Nothing listens until `start()`.
   * @throws InvalidArgumentError for a bad option.
   */
  constructor(options: SimulatorOptions = {}) {
    super();
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    const o = resolveOptions(options);
    this.#o = o;
    this.#host = o.host;
    this.#auth = new SimulatorAuthoriser(o.credentials);
    this.#market = new Market(loadInstruments(options), o.seed, Math.floor(Date.now() / 1000));
    const market = this.#market;
    const onFrameSent = options.onFrameSent;
    // REST login and the trading-day clock (rest-login.ts, trading-clock.ts).
    const auth = this.#auth;
    this.#login = new LoginEndpoint(
      {
        currentToken: (k) => auth.token(k),
        isRevoked: (k) => auth.isRevoked(k),
        setAccessToken: (k, t) => this.setAccessToken(k, t),
        revoke: (k, detail) => this.#manual.revokeFor(k, undefined, detail),
      },
      new TradingClock(options.tradingClock === true ? {} : options.tradingClock || {}),
      options.tradingClock !== undefined && options.tradingClock !== false,
      options.apps ?? DEFAULT_SIMULATOR_APPS,
      auth.apiKeys(),
      this.#log,
    );
    const login = this.#login;
    this.#front = new KiteProtocolServer({
      authoriser: {
        // An expired token is refused even if its expiry timer has not fired yet.
        authorise: (request) => {
          login.expireDue();
          return auth.authorise(request);
        },
        knows: (apiKey) => auth.knows(apiKey),
      },
      source: (sender) => new MarketFeed(market, o, sender),
      observer: {
        connection: (e) => this.emit('connection', e),
        disconnect: (e) => this.emit('disconnect', e),
        refused: (e) => this.emit('refused', e),
      },
      routes: [new InstrumentsEndpoint(market.instruments), login],
      maxConnectionsPerKey: o.maxConnectionsPerKey,
      connectionLimitStatus: o.connectionLimitStatus,
      maxInstrumentsPerConnection: o.maxInstruments,
      heartbeatIntervalMs: o.heartbeatMs,
      commandLogLimit: o.commandLogLimit,
      commandLogBytes: o.commandLogBytes,
      upgradeRequiredText: 'this is a Kite ticker simulator: connect with a WebSocket\n',
      logger: this.#log,
      // Frames from the market are fresh per send, so stamping in place is safe; HEARTBEAT is skipped.
      ...(o.stampSendTime ? { beforeBinary: stampSendTime } : {}),
      ...(onFrameSent ? { onFrameSent } : {}),
    });
    this.#injector = new FrameInjector(this.#front);
    this.#faultLog = new FaultLog(o.faultLogLimit, this.#log);
    const host = this.#faultHost();
    this.#manual = new FaultInjector(host, 'manual');
    this.#chaos = options.chaos
      ? new Chaos(options.chaos, o.seed, new FaultInjector(host, 'chaos'))
      : undefined;
  }

  #faultHost(): FaultHost {
    return {
      front: this.#front,
      auth: this.#auth,
      market: this.#market,
      rng: new Rng(this.#o.seed ^ 0xfa17),
      record: (record) => {
        this.#faultLog.add(record);
        this.emit('fault', record);
      },
      later: (ms, fn) => this.#timers.later(ms, fn),
      canRestart: () => this.#restarting === undefined && this.#started && !this.#stopped,
      restart: (ms) => {
        this.#restarting = this.#restart(ms).finally(() => {
          this.#restarting = undefined;
        });
        this.#restarting.catch((err: Error) => this.#log.error({ err: err.message }, 'restart failed'));
      },
    };
  }

  // ---------------------------------------------------------------- lifecycle

  /** Listens on `port` (default the constructor's, else 0 = ephemeral) and `host` (default 127.0.0.1). */
  async start(options: { port?: number; host?: string } = {}): Promise<void> {
    if (this.#stopped) throw new ClosedError('the simulator was stopped; create a new one');
    if (this.#started) return;
    this.#host = options.host ?? this.#options.host ?? this.#host;
    await this.#front.listen(options.port ?? this.#options.port ?? 0, this.#host);
    this.#started = true;
    this.#front.source.start();
    this.#login.start();
    this.#chaos?.start();
  }

  /** Closes every socket and the listener and clears every timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#chaos?.stop();
    this.#login.stop();
    this.#front.source.stop();
    this.#timers.clear();
    await this.#front.shutdown();
  }

  /**
   * Drops every socket (abruptly) and the listener, waits `downtimeMs` (connections are refused at TCP
   * level meanwhile), then listens again on the same port.
   */
  async restart(downtimeMs = 0): Promise<void> {
    duration(downtimeMs, 'restart downtimeMs', FAULT);
    this.#requireStarted();
    if (this.#manual.restart(downtimeMs)) await this.#restarting;
  }

  async #restart(downtimeMs: number): Promise<void> {
    this.#front.source.stop();
    await this.#front.unlisten();
    await this.#timers.sleep(downtimeMs);
    if (this.#stopped) return;
    await this.#front.listen(this.#front.port, this.#host);
    this.#front.source.start();
  }

  /** ws://HOST:PORT of the running simulator. @throws KiteTickerError(ERR_NOT_STARTED) before start(). */
  get url(): string {
    this.#requireStarted();
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `ws://${host}:${this.#front.port}`;
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.#front.port;
  }

  /** The seed the market and chaos were built from. */
  get seed(): number {
    return this.#o.seed;
  }

  #requireStarted(): void {
    if (!this.#started) throw new NotStartedError('the simulator is not started');
  }

  // ---------------------------------------------------------------- credentials, orders, frames

  /** Sets (or replaces) a key's valid access token and lifts a revocation. */
  setAccessToken(apiKey: string, accessToken: string): void {
    this.#auth.setAccessToken(apiKey, accessToken);
    this.#login.tokenSet(apiKey);
  }

  /** Closes the key's sockets (close code 1008) and refuses its upgrades with 403 until setAccessToken. */
  revokeToken(apiKey: string): void {
    this.#manual.revokeFor(apiKey);
  }

  /** Sends `{"type":"order","data":order}` to every open (not stalled) socket of the key. */
  sendOrderUpdate(apiKey: string, order: OrderUpdate | Record<string, unknown>): void {
    this.#front.sendOrderUpdate(apiKey, order);
  }

  /** Sends a `{"type":"message","data":...}` broker notice to every socket of the key. */
  sendMessage(apiKey: string, data: unknown): void {
    this.#front.sendMessage(apiKey, data);
  }

  /**
   * Sends a ready-made frame to `target` (a connection id, `{ apiKey }` for every socket of the key, or
   * 'all'): a binary frame (`kind` 'binary', the default) as given, or a text frame from its UTF-8 bytes.
   * With `subscribedOnly`, each connection gets only the packets of the tokens it subscribes (see
   * InjectFrameOptions). Stalled sockets, and sockets with more than 8 MiB queued, are skipped like
   * market frames. The frame must not be modified afterwards (it may still be queued). Returns the
   * number of sockets it was handed to.
   */
  injectFrame(
    target: InjectTarget,
    frame: Uint8Array,
    kind: 'binary' | 'text' = 'binary',
    options: InjectFrameOptions = {},
  ): number {
    return this.#injector.inject(target, frame, kind, options);
  }

  // ---------------------------------------------------------------- faults (see faults.ts)

  /** Abrupt TCP close (no close frame), like a network drop. */
  dropConnection(target: Target): void {
    this.#manual.drop(target);
  }

  /** A WebSocket close frame with `code` and `reason`. */
  closeConnection(target: Target, code: number, reason = ''): void {
    this.#manual.close(target, code, reason);
  }

  /**
   * Sends nothing at all (no ticks, heartbeats or text) for `durationMs` while keeping the socket open.
   * Without a duration the connection stays silent until it closes.
   */
  stallConnection(target: Target, durationMs?: number): void {
    this.#manual.stall(target, durationMs);
  }

  /** Sends one malformed frame of `kind` (see CorruptionKind). */
  corruptConnection(target: Target, kind: CorruptionKind): void {
    this.#manual.corrupt(target, kind);
  }

  /** Refuses every upgrade (or only `apiKey`'s) with `status` for `durationMs`. */
  refuseUpgrades(status: number, durationMs: number, apiKey?: string): void {
    this.#manual.refuse(status, durationMs, apiKey);
  }

  /** Stops chaos mode from injecting more faults (faults already in progress run their course). */
  pauseChaos(): void {
    this.#chaos?.stop();
  }

  /** Resumes chaos mode after pauseChaos (no-op without the `chaos` option or before start). */
  resumeChaos(): void {
    if (this.#started && !this.#stopped) this.#chaos?.start();
  }

  // ---------------------------------------------------------------- introspection (see introspection.ts)

  /** A snapshot of every open connection (copies; safe to keep). */
  connections(): SimulatorConnectionInfo[] {
    return connectionInfos(this.#front);
  }

  keyInfo(apiKey: string): SimulatorKeyInfo {
    return keyInfo(this.#front, apiKey);
  }

  instruments(): readonly SimulatorInstrument[] {
    return this.#market.instruments;
  }

  /** Every fault injected so far (bounded by `faultLogLimit`), oldest first. */
  faultLog(): FaultRecord[] {
    return this.#faultLog.list();
  }

  /**
   * The tick the simulator would send now for `token` in `mode` (a fresh object), or undefined for a
   * token outside the universe. Values are exactly what a decoder reads from the packet.
   */
  snapshot(token: number, mode: Mode = 'full'): Tick | undefined {
    return snapshot(this.#market, token, mode);
  }
}
