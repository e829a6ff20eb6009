/**
 * KiteSimulator: a Kite Connect v3 ticker server for tests, soaks, benchmarks and credential-free runs.
 *
 * A `node:http` server owns the port; its 'upgrade' handler applies Kite's rules (403 for bad
 * credentials, the per-key connection limit) before `ws` (noServer, no compression) takes the socket, so
 * refusals are real HTTP statuses as clients see them from Kite. One timer drives the market: every
 * `batchIntervalMs` it advances the instruments due in this step and sends each connection one binary
 * frame of its due tokens; a second timer sends 1-byte heartbeats to idle sockets.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { FAULT, MAX_UNIVERSE_SIZE, SIM_PERIOD } from '../config/limits.js';
import { count, duration, finiteNumber } from '../config/validate.js';
import { ErrorCode, InvalidArgumentError, KiteTickerError, redact } from '../errors.js';
import { parseInstrumentsCsv } from '../instruments/parse.js';
import { type Logger, silentLogger } from '../logger.js';
import { parseClientCommand } from '../protocol/commands.js';
import { KITE_LIMITS, type Mode } from '../protocol/constants.js';
import { HEARTBEAT } from '../protocol/encode.js';
import type { OrderUpdate, Tick } from '../protocol/types.js';
import { Chaos, type ChaosTarget } from './chaos.js';
import { CommandLog, DEFAULT_COMMAND_LOG_BYTES } from './command-log.js';
import { SimConnection } from './connection.js';
import { corruptFrame } from './corrupt.js';
import { FrameBuilder } from './frames.js';
import { FramePacketIndex, type InjectFrameOptions, type InjectTarget } from './inject.js';
import { Market } from './market.js';
import { hash4, Rng } from './random.js';
import { InstrumentsEndpoint } from './rest-instruments.js';
import { DEFAULT_SIMULATOR_APPS, LoginEndpoint } from './rest-login.js';
import { parseStagger, type Stagger, staggerOffsetMs } from './stagger.js';
import { stampSendTime } from './stamp.js';
import { TradingClock } from './trading-clock.js';
import type {
  CorruptionKind,
  FaultKind,
  FaultRecord,
  SimulatorConnectionInfo,
  SimulatorInstrument,
  SimulatorKeyInfo,
  SimulatorOptions,
  TickerSimulator,
} from './types.js';
import { generateUniverse } from './universe.js';
import { decideUpgrade, type RefusalWindow, refuseUpgrade } from './upgrade.js';

/** The credentials a simulator accepts unless told otherwise. */
export const DEFAULT_SIMULATOR_CREDENTIALS: Readonly<Record<string, string>> = Object.freeze({
  sim_key_1: 'sim_token_1',
  sim_key_2: 'sim_token_2',
  sim_key_3: 'sim_token_3',
});

/** Blast mode keeps at most this many bytes queued per socket... */
const BLAST_HIGH_WATER = 4 * 1024 * 1024;
/** ...and at most this many frames awaiting their write callback. */
const BLAST_MAX_INFLIGHT = 64;
/** Distinct pre-encoded frames per connection in blast mode (they are cycled). */
const BLAST_MAX_FRAMES = 64;
/**
 * A socket with more than this queued (a client that stopped reading) gets no tick frames until it
 * drains: ticks are snapshots, so skipping them loses nothing but keeps server memory bounded.
 */
const SLOW_CLIENT_BYTES = 8 * 1024 * 1024;
/**
 * No error reply is queued on a socket with more than this waiting: a client flooding bad commands
 * without reading would otherwise queue one reply per command, without bound.
 */
const SLOW_CLIENT_ERROR_BYTES = 1024 * 1024;
/**
 * Largest client frame accepted: 256 KiB, or 32 bytes per instrument a socket may hold when that is
 * more (a 3000-token subscribe is ~33 KB). A larger frame closes the socket with 1009 (counted in
 * `badFrames`) before it is buffered whole.
 */
const MIN_MAX_COMMAND_BYTES = 256 * 1024;
/** ...but never more than this (ws reads maxPayload as an int32, and 0 would mean "no limit"). */
const MAX_MAX_COMMAND_BYTES = 64 * 1024 * 1024;
/**
 * Keys whose refused upgrades are counted in `keyInfo`. Past this, upgrades naming yet another unknown
 * key are still refused and reported ('refused' event) but not remembered: a client inventing a new
 * api_key per request must not grow the simulator's memory.
 */
const MAX_TRACKED_KEYS = 1000;

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

interface KeyState {
  open: number;
  maxConcurrent: number;
  accepted: number;
  rejected: Record<number, number>;
  commands: CommandLog;
  invalidCommands: number;
  badFrames: number;
}

type Target = number | { apiKey: string };

/** Counts and rates of the options: positive, whole when `integer` (durations use `duration`). */
function positiveNumber(name: string, value: number | undefined, fallback: number, integer = false): number {
  return integer
    ? count(value, name, { min: 1, default: fallback })
    : finiteNumber(value, name, { above: 0, default: fallback });
}

export class KiteSimulator extends EventEmitter<SimulatorEvents> implements TickerSimulator {
  readonly #options: SimulatorOptions;
  readonly #log: Logger;
  readonly #seed: number;
  readonly #credentials = new Map<string, string>();
  readonly #revoked = new Set<string>();
  #refusals: RefusalWindow[] = [];
  readonly #maxConnectionsPerKey: number;
  readonly #connectionLimitStatus: number;
  readonly #maxInstruments: number;
  readonly #heartbeatMs: number;
  readonly #batchMs: number;
  readonly #commandLogLimit: number;
  readonly #commandLogBytes: number;
  readonly #faultLogLimit: number;
  readonly #blastPacketsPerFrame: number;
  readonly #stampSendTime: boolean;
  readonly #marketTicks: boolean;
  readonly #stagger: Stagger;
  readonly #market: Market;
  readonly #rest: InstrumentsEndpoint;
  readonly #login: LoginEndpoint;
  readonly #rng: Rng;

  // Schedule: with less than one tick per instrument per batch, instruments are spread over `phases`
  // steps (each ticks in one step of every cycle); otherwise every instrument ticks every step,
  // `perBatch` times on average.
  readonly #phases: number;
  readonly #perBatch: number;
  #carry = 0;
  #stepNo = 0;
  readonly #phaseOf: Uint16Array;
  /** How many connections subscribe each instrument. */
  readonly #refs: Uint32Array;
  /** Per phase: the instruments subscribed somewhere. */
  readonly #active: Set<number>[];
  /**
   * Instruments that became subscribed since the last step. They are not advanced in their first step,
   * so the first tick anyone sees of an instrument is its opening state: same seed, same first ticks.
   */
  readonly #fresh = new Set<number>();

  readonly #connections = new Map<number, SimConnection>();
  readonly #keys = new Map<string, KeyState>();
  #nextConnectionId = 1;
  readonly #faults: FaultRecord[] = [];

  #server: Server | undefined;
  readonly #wss: WebSocketServer;
  readonly #rawSockets = new Set<Socket>();
  #host: string;
  #port = 0;
  #started = false;
  #stopped = false;
  #restarting = false;
  #stepTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #timeouts = new Set<NodeJS.Timeout>();
  readonly #sleepers = new Set<() => void>();
  readonly #chaos: Chaos | undefined;

  /**
   * Builds the market (synchronously; 30 000 instruments take a fraction of a second) and validates
   * the options. Nothing listens until `start()`.
   * @throws InvalidArgumentError for a bad option.
   */
  constructor(options: SimulatorOptions = {}) {
    super();
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    const seed = options.seed ?? 1;
    if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed must be a whole number, got ${seed}`);
    this.#seed = seed >>> 0;
    this.#rng = new Rng(this.#seed ^ 0xfa17);
    this.#host = options.host ?? '127.0.0.1';
    for (const [k, v] of Object.entries(options.credentials ?? DEFAULT_SIMULATOR_CREDENTIALS)) {
      this.#credentials.set(k, v);
    }
    this.#maxConnectionsPerKey = positiveNumber(
      'maxConnectionsPerKey',
      options.maxConnectionsPerKey,
      KITE_LIMITS.maxConnectionsPerApiKey,
      true,
    );
    this.#connectionLimitStatus = positiveNumber(
      'connectionLimitStatus',
      options.connectionLimitStatus,
      429,
      true,
    );
    this.#maxInstruments = positiveNumber(
      'maxInstrumentsPerConnection',
      options.maxInstrumentsPerConnection,
      KITE_LIMITS.maxInstrumentsPerConnection,
      true,
    );
    this.#heartbeatMs = duration(options.heartbeatIntervalMs, 'heartbeatIntervalMs', {
      ...SIM_PERIOD,
      default: 1000,
    });
    this.#batchMs = duration(options.batchIntervalMs, 'batchIntervalMs', { ...SIM_PERIOD, default: 100 });
    const tps = positiveNumber('ticksPerSecond', options.ticksPerSecond, 1);
    this.#commandLogLimit = positiveNumber('commandLogLimit', options.commandLogLimit, 1000, true);
    this.#commandLogBytes = positiveNumber(
      'commandLogBytes',
      options.commandLogBytes,
      DEFAULT_COMMAND_LOG_BYTES,
      true,
    );
    this.#faultLogLimit = positiveNumber('faultLogLimit', options.faultLogLimit, 10_000, true);
    this.#blastPacketsPerFrame = options.blast
      ? Math.min(0xffff, positiveNumber('blast.packetsPerFrame', options.blast.packetsPerFrame, 100, true))
      : 0;
    this.#stampSendTime = options.stampSendTime === true;
    this.#marketTicks = options.marketTicks !== false;
    this.#stagger = parseStagger(options.stagger);
    if (options.chaos) positiveNumber('chaos.faultsPerSecond', options.chaos.faultsPerSecond, 1);

    const perBatch = (tps * this.#batchMs) / 1000;
    this.#phases = perBatch >= 1 ? 1 : Math.min(0xffff, Math.max(1, Math.round(1 / perBatch)));
    this.#perBatch = Math.max(perBatch, 1);

    let instruments: SimulatorInstrument[];
    if (options.instruments) instruments = options.instruments;
    else if (options.instrumentsCsv)
      instruments = parseInstrumentsCsv(readFileSync(options.instrumentsCsv, 'utf8'));
    else
      instruments = generateUniverse(
        // Built eagerly (~500 bytes an instrument): bounded like the CLI's --universe-size.
        count(options.universeSize, 'universeSize', { min: 1, max: MAX_UNIVERSE_SIZE, default: 30_000 }),
        seed,
      );
    this.#market = new Market(instruments, this.#seed, Math.floor(Date.now() / 1000));
    this.#rest = new InstrumentsEndpoint(this.#market.instruments);
    // REST login and the trading-day clock (rest-login.ts, trading-clock.ts).
    this.#login = new LoginEndpoint(
      {
        currentToken: (k) => this.#credentials.get(k),
        isRevoked: (k) => this.#revoked.has(k),
        setAccessToken: (k, t) => this.setAccessToken(k, t),
        revoke: (k, detail) => this.#revoke(k, 'manual', detail),
      },
      new TradingClock(options.tradingClock === true ? {} : options.tradingClock || {}),
      options.tradingClock !== undefined && options.tradingClock !== false,
      options.apps ?? DEFAULT_SIMULATOR_APPS,
      this.#credentials.keys(),
      this.#log,
    );
    const n = this.#market.size;
    this.#refs = new Uint32Array(n);
    this.#phaseOf = new Uint16Array(n);
    for (let i = 0; i < n; i++)
      this.#phaseOf[i] = hash4(this.#seed, this.#market.token[i]!, 0, 99) % this.#phases;
    this.#active = Array.from({ length: this.#phases }, () => new Set<number>());

    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: Math.min(MAX_MAX_COMMAND_BYTES, Math.max(MIN_MAX_COMMAND_BYTES, this.#maxInstruments * 32)),
    });
    this.#chaos = options.chaos ? new Chaos(options.chaos, this.#seed, this.#chaosTarget()) : undefined;
  }

  // ---------------------------------------------------------------- lifecycle

  /** Listens on `port` (default the constructor's, else 0 = ephemeral) and `host` (default 127.0.0.1). */
  async start(options: { port?: number; host?: string } = {}): Promise<void> {
    if (this.#stopped)
      throw new KiteTickerError(ErrorCode.Closed, 'the simulator was stopped; create a new one');
    if (this.#started) return;
    this.#host = options.host ?? this.#options.host ?? this.#host;
    await this.#listen(options.port ?? this.#options.port ?? 0);
    this.#started = true;
    this.#startTimers();
    this.#login.start();
    this.#chaos?.start();
  }

  /** Closes every socket and the listener and clears every timer. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#chaos?.stop();
    this.#login.stop();
    this.#stopTimers();
    for (const t of this.#timeouts) clearTimeout(t);
    this.#timeouts.clear();
    for (const wake of this.#sleepers) wake();
    this.#sleepers.clear();
    await this.#closeListener();
    this.#wss.close();
  }

  /**
   * Drops every socket (abruptly) and the listener, waits `downtimeMs` (connections are refused at TCP
   * level meanwhile), then listens again on the same port.
   */
  async restart(downtimeMs = 0): Promise<void> {
    duration(downtimeMs, 'restart downtimeMs', FAULT);
    this.#requireStarted();
    if (this.#restarting || this.#stopped) return;
    this.#fault('restart', 'manual', `restart with ${downtimeMs} ms downtime`);
    await this.#restart(downtimeMs);
  }

  async #restart(downtimeMs: number): Promise<void> {
    this.#restarting = true;
    try {
      this.#stopTimers();
      await this.#closeListener();
      await this.#sleep(downtimeMs);
      if (this.#stopped) return;
      await this.#listen(this.#port);
      this.#startTimers();
    } finally {
      this.#restarting = false;
    }
  }

  /** ws://HOST:PORT of the running simulator. @throws KiteTickerError(ERR_NOT_STARTED) before start(). */
  get url(): string {
    this.#requireStarted();
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host;
    return `ws://${host}:${this.#port}`;
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.#port;
  }

  /** The seed the market and chaos were built from. */
  get seed(): number {
    return this.#seed;
  }

  #requireStarted(): void {
    if (!this.#started) throw new KiteTickerError(ErrorCode.NotStarted, 'the simulator is not started');
  }

  #listen(port: number): Promise<void> {
    const server = createServer();
    server.on('connection', (socket: Socket) => {
      this.#rawSockets.add(socket);
      socket.once('close', () => this.#rawSockets.delete(socket));
    });
    server.on('request', (req, res) => {
      // REST instruments dump (rest-instruments.ts); anything else is not for a ticker.
      if (this.#rest.handle(req, res)) return;
      if (this.#login.handle(req, res)) return;
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('this is a Kite ticker simulator: connect with a WebSocket\n');
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    server.on('clientError', (_err, socket) => socket.destroy());
    this.#server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        server.off('listening', onListening);
        reject(err);
      };
      const onListening = (): void => {
        server.off('error', onError);
        server.on('error', (e) => this.#log.error({ err: e.message }, 'simulator listener error'));
        const address = server.address();
        if (address && typeof address === 'object') this.#port = address.port;
        this.#log.info({ host: this.#host, port: this.#port }, 'simulator listening');
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, this.#host);
    });
  }

  async #closeListener(): Promise<void> {
    for (const conn of [...this.#connections.values()]) this.#detach(conn, 'terminate');
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#rawSockets) s.destroy();
    this.#rawSockets.clear();
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #startTimers(): void {
    // Without market ticks (a replay server) there is nothing to step: frames come from injectFrame.
    if (this.#marketTicks) {
      this.#stepTimer = setInterval(() => this.#step(), this.#batchMs);
      this.#stepTimer.unref();
    }
    this.#heartbeatTimer = setInterval(() => this.#heartbeatCheck(), Math.max(5, this.#heartbeatMs / 4));
    this.#heartbeatTimer.unref();
  }

  #stopTimers(): void {
    if (this.#stepTimer) clearInterval(this.#stepTimer);
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#stepTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timeouts.delete(t);
      fn();
    }, ms);
    t.unref();
    this.#timeouts.add(t);
  }

  /** A sleep that `stop()` cuts short. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleepers.delete(wake);
        resolve();
      };
      this.#sleepers.add(wake);
      this.#later(ms, wake);
    });
  }

  // ---------------------------------------------------------------- upgrades

  #key(apiKey: string): KeyState {
    let k = this.#keys.get(apiKey);
    if (!k) {
      k = {
        open: 0,
        maxConcurrent: 0,
        accepted: 0,
        rejected: {},
        commands: new CommandLog(this.#commandLogLimit, this.#commandLogBytes),
        invalidCommands: 0,
        badFrames: 0,
      };
      this.#keys.set(apiKey, k);
    }
    return k;
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err) => this.#log.debug({ err: err.message }, 'upgrade socket error'));
    try {
      this.#upgrade(req, socket, head);
    } catch (err) {
      // Nothing a client sends may escape the 'upgrade' callback (it would be an uncaught exception).
      this.#log.warn({ err: (err as Error).message }, 'upgrade failed');
      socket.destroy();
    }
  }

  #refused(apiKey: string | undefined, status: number, reason: string): void {
    if (
      apiKey !== undefined &&
      (this.#keys.has(apiKey) || this.#credentials.has(apiKey) || this.#keys.size < MAX_TRACKED_KEYS)
    ) {
      const k = this.#key(apiKey);
      k.rejected[status] = (k.rejected[status] ?? 0) + 1;
    }
    this.#log.info({ status, apiKey, reason }, 'upgrade refused');
    this.emit('refused', { status, apiKey, reason });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const now = Date.now();
    this.#refusals = this.#refusals.filter((w) => w.until > now);
    this.#login.expireDue(); // an expired token is refused even if its expiry timer has not fired yet
    const decision = decideUpgrade(req.url, {
      now,
      credentials: this.#credentials,
      revoked: this.#revoked,
      refusals: this.#refusals,
      openConnections: (k) => this.#keys.get(k)?.open ?? 0,
      maxConnectionsPerKey: this.#maxConnectionsPerKey,
      connectionLimitStatus: this.#connectionLimitStatus,
    });
    if (!decision.ok) {
      const { status, apiKey, reason } = decision;
      refuseUpgrade(socket, status, reason);
      this.#refused(apiKey, status, reason);
      return;
    }
    const apiKey = decision.apiKey;
    // The slot is counted only once the upgrade completed (in #onConnection): a request ws refuses
    // (no Sec-WebSocket-Key, wrong version or method) or a client gone before the 101 must not hold
    // one for good. Without verifyClient, ws completes or refuses synchronously inside handleUpgrade,
    // so the limit check above and the count happen in one turn: a racing upgrade already sees it.
    let completed = false;
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      completed = true;
      this.#onConnection(ws, apiKey);
    });
    if (!completed) this.#refused(apiKey, 400, 'malformed WebSocket upgrade request (or client gone)');
  }

  #onConnection(ws: WebSocket, apiKey: string): void {
    if (this.#stopped || !this.#server) {
      ws.terminate();
      return;
    }
    const k = this.#key(apiKey);
    k.open++;
    k.accepted++;
    if (k.open > k.maxConcurrent) k.maxConcurrent = k.open;
    const id = this.#nextConnectionId++;
    const conn = new SimConnection(
      id,
      apiKey,
      ws,
      Date.now(),
      this.#phases,
      (c) => this.#pump(c),
      staggerOffsetMs(this.#stagger, this.#seed, id, this.#batchMs),
      (c) => this.#flushDeferred(c),
    );
    this.#connections.set(id, conn);
    ws.on('message', (data, isBinary) => {
      try {
        this.#onMessage(conn, data as Buffer, isBinary);
      } catch (err) {
        // Backstop: a client frame must never become an uncaught exception and end the server.
        this.#invalid(conn, 'invalid message: it could not be processed');
        this.#log.warn({ connectionId: id, err: (err as Error).message }, 'client command failed');
      }
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // ws reports a client frame breaking the protocol here, then closes the socket (1009, 1007, 1002).
      if (err.code?.startsWith('WS_ERR_')) this.#key(apiKey).badFrames++;
      this.#log.debug({ connectionId: id, err: redact(err.message, []) }, 'socket error');
    });
    ws.on('close', () => this.#detach(conn, 'none'));
    this.#log.info({ connectionId: id, apiKey }, 'connection opened');
    this.emit('connection', { id, apiKey });
  }

  /** Forgets a connection (once) and closes its socket as asked. */
  #detach(conn: SimConnection, how: 'none' | 'terminate' | { code: number; reason: string }): void {
    if (conn.open) {
      conn.open = false;
      this.#connections.delete(conn.id);
      const k = this.#key(conn.apiKey);
      k.open--;
      for (const bucket of conn.buckets) for (const i of bucket.keys()) this.#unref(i);
      conn.pending.clear();
      conn.blastFrames = undefined;
      if (conn.deferTimer) clearTimeout(conn.deferTimer);
      conn.deferTimer = undefined;
      conn.deferred = [];
      conn.deferredPackets = 0;
      this.#log.info({ connectionId: conn.id, apiKey: conn.apiKey }, 'connection closed');
      this.emit('disconnect', { id: conn.id, apiKey: conn.apiKey });
    }
    if (how === 'terminate') conn.ws.terminate();
    else if (how !== 'none') conn.ws.close(how.code, how.reason);
  }

  #ref(i: number): void {
    if (this.#refs[i]!++ === 0) {
      this.#active[this.#phaseOf[i]!]!.add(i);
      this.#fresh.add(i);
    }
  }

  #unref(i: number): void {
    if (--this.#refs[i]! === 0) this.#active[this.#phaseOf[i]!]!.delete(i);
  }

  // ---------------------------------------------------------------- commands

  #onMessage(conn: SimConnection, data: Buffer, isBinary: boolean): void {
    if (!conn.open) return;
    this.#key(conn.apiKey).commands.add(Date.now(), conn.id, data, isBinary);
    if (isBinary) {
      this.#invalid(conn, 'binary messages are not accepted: send JSON text commands');
      return;
    }
    const parsed = parseClientCommand(data.toString('utf8'));
    if (!parsed.ok) {
      this.#invalid(conn, `invalid message: ${parsed.error}`);
      return;
    }
    const cmd = parsed.command;
    if (cmd.action === 'mode') this.#setMode(conn, cmd.mode, cmd.tokens);
    else if (cmd.action === 'subscribe') this.#subscribe(conn, cmd.tokens);
    else this.#unsubscribe(conn, cmd.tokens);
    if (this.#blastPacketsPerFrame > 0) {
      conn.blastFrames = undefined;
      this.#pump(conn);
    }
  }

  #subscribe(conn: SimConnection, tokens: readonly number[]): void {
    let refused = 0;
    for (const token of tokens) {
      if (conn.subscriptions.has(token)) continue; // duplicates are harmless and keep their mode
      if (conn.subscriptions.size >= this.#maxInstruments) {
        refused++;
        continue;
      }
      conn.subscriptions.set(token, 'quote');
      const i = this.#market.indexOf(token);
      if (i < 0) continue; // Kite does not validate tokens: unknown ones just never tick
      conn.buckets[this.#phaseOf[i]!]!.set(i, 'quote');
      conn.pending.set(i, 'quote');
      this.#ref(i);
    }
    if (refused > 0) {
      this.#sendError(
        conn,
        `max tokens exceeded: ${refused} token(s) not subscribed, a connection can subscribe at most ${this.#maxInstruments} instruments`,
      );
    }
  }

  #unsubscribe(conn: SimConnection, tokens: readonly number[]): void {
    for (const token of tokens) {
      if (!conn.subscriptions.delete(token)) continue;
      const i = this.#market.indexOf(token);
      if (i < 0) continue;
      conn.buckets[this.#phaseOf[i]!]!.delete(i);
      conn.pending.delete(i);
      this.#unref(i);
    }
  }

  #setMode(conn: SimConnection, mode: Mode, tokens: readonly number[]): void {
    for (const token of tokens) {
      if (!conn.subscriptions.has(token)) continue; // mode for an unsubscribed token: ignored
      conn.subscriptions.set(token, mode);
      const i = this.#market.indexOf(token);
      if (i < 0) continue;
      conn.buckets[this.#phaseOf[i]!]!.set(i, mode);
      conn.pending.set(i, mode);
    }
  }

  // ---------------------------------------------------------------- sending

  #canSend(conn: SimConnection, now: number): boolean {
    return conn.open && conn.ws.readyState === 1 && !conn.isStalled(now);
  }

  #sendBinary(conn: SimConnection, frame: Uint8Array, now: number): void {
    // Frames from FrameBuilder are fresh per send, so stamping in place is safe; HEARTBEAT is skipped.
    if (this.#stampSendTime) stampSendTime(frame);
    conn.ws.send(frame);
    conn.lastSentAt = now;
    this.#options.onFrameSent?.(conn.id, frame);
  }

  #sendText(conn: SimConnection, text: string): void {
    const now = Date.now();
    if (!this.#canSend(conn, now)) return;
    conn.ws.send(text);
    conn.lastSentAt = now;
    this.#options.onFrameSent?.(conn.id, text);
  }

  #sendError(conn: SimConnection, message: string): void {
    if (conn.ws.bufferedAmount > SLOW_CLIENT_ERROR_BYTES) return;
    this.#sendText(conn, JSON.stringify({ type: 'error', data: message }));
  }

  /** A client frame refused: counted, and answered with a Kite-style error text frame. */
  #invalid(conn: SimConnection, message: string): void {
    this.#key(conn.apiKey).invalidCommands++;
    this.#sendError(conn, message);
  }

  /** One batch: advance the instruments due now, then send each connection its due tokens. */
  #step(): void {
    // Frames of the last step still wait only when their timers ran late (a slow step, a busy machine):
    // they go out before the market moves, so a frame always carries the state as of its sending (what
    // `snapshot()` says) and each socket's frames stay in step order.
    if (this.#stagger === 'spread')
      for (const conn of this.#connections.values()) if (conn.deferTimer) this.#flushDeferred(conn);
    const now = Date.now();
    const nowSec = Math.floor(now / 1000);
    const market = this.#market;
    const step = this.#stepNo++;
    let phase = 0;
    let repeats = 1;
    if (this.#phases > 1) {
      phase = step % this.#phases;
    } else {
      this.#carry += this.#perBatch;
      repeats = Math.floor(this.#carry);
      this.#carry -= repeats;
    }
    const due = this.#active[phase]!;
    const builders = this.#builders(now);
    const fresh = this.#fresh;
    for (let r = 0; r < repeats; r++) {
      if (r === 0 && fresh.size > 0) {
        for (const i of due) if (!fresh.has(i)) market.advance(i, nowSec);
      } else {
        for (const i of due) market.advance(i, nowSec);
      }
      for (const [conn, builder] of builders) {
        const bucket = conn.buckets[phase]!;
        for (const [i, mode] of bucket) builder.append(market, i, mode);
      }
    }
    for (const [conn, builder] of builders) {
      // Snapshots of newly subscribed / re-moded tokens that did not tick in this step anyway.
      if (conn.pending.size > 0) {
        for (const [i, mode] of conn.pending) if (this.#phaseOf[i] !== phase) builder.append(market, i, mode);
        conn.pending.clear();
      }
      const packets = builder.packets;
      if (packets === 0) continue;
      const frames = builder.take();
      if (conn.staggerMs > 0) {
        // Built now (the market moves once per interval for everyone), sent at the connection's offset.
        conn.deferred = frames;
        conn.deferredPackets = packets;
        conn.deferTimer = setTimeout(conn.onDeferredDue, conn.staggerMs);
        conn.deferTimer.unref();
      } else {
        this.#sendTicks(conn, frames, packets, now);
      }
    }
    fresh.clear();
  }

  #sendTicks(conn: SimConnection, frames: readonly Buffer[], packets: number, now: number): void {
    for (const frame of frames) {
      this.#sendBinary(conn, frame, now);
      conn.framesSent++;
    }
    conn.ticksSent += packets;
  }

  /** Sends a connection's deferred frames now (its offset came, or the next step needs the slot). */
  #flushDeferred(conn: SimConnection): void {
    if (conn.deferTimer) clearTimeout(conn.deferTimer);
    conn.deferTimer = undefined;
    const frames = conn.deferred;
    const packets = conn.deferredPackets;
    conn.deferred = [];
    conn.deferredPackets = 0;
    if (frames.length === 0) return;
    const now = Date.now();
    // A socket that closed, stalled or backed up meanwhile skips this step: ticks are snapshots.
    if (!this.#canSend(conn, now) || conn.ws.bufferedAmount > SLOW_CLIENT_BYTES) return;
    this.#sendTicks(conn, frames, packets, now);
  }

  readonly #builderPool: FrameBuilder[] = [];
  readonly #builderPairs: Array<[SimConnection, FrameBuilder]> = [];

  /** Reused (connection, builder) pairs for the connections that can receive ticks now. */
  #builders(now: number): Array<[SimConnection, FrameBuilder]> {
    const pairs = this.#builderPairs;
    pairs.length = 0;
    let n = 0;
    for (const conn of this.#connections.values()) {
      if (this.#blastPacketsPerFrame > 0 || !this.#canSend(conn, now)) continue;
      if (conn.ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
      let b = this.#builderPool[n];
      if (!b) {
        b = new FrameBuilder();
        this.#builderPool.push(b);
      }
      pairs.push([conn, b]);
      n++;
    }
    return pairs;
  }

  #heartbeatCheck(): void {
    const now = Date.now();
    for (const conn of this.#connections.values()) {
      if (!this.#canSend(conn, now)) continue;
      if (this.#blastPacketsPerFrame > 0 && conn.subscriptions.size > 0) {
        if (conn.blastInflight === 0 && !conn.blastScheduled) this.#pump(conn);
        continue;
      }
      if (now - conn.lastSentAt >= this.#heartbeatMs) {
        this.#sendBinary(conn, HEARTBEAT, now);
        conn.heartbeatsSent++;
      }
    }
  }

  /** Blast mode: keeps the socket fed with pre-encoded full frames, bounded by queued bytes and frames. */
  #pump(conn: SimConnection): void {
    const now = Date.now();
    if (!this.#canSend(conn, now)) return;
    const frames = conn.blastFrames ?? this.#buildBlastFrames(conn);
    if (frames.length === 0) return;
    const ws = conn.ws;
    while (conn.blastInflight < BLAST_MAX_INFLIGHT && ws.bufferedAmount < BLAST_HIGH_WATER) {
      const k = conn.blastNext;
      conn.blastNext = k + 1 >= frames.length ? 0 : k + 1;
      conn.blastInflight++;
      ws.send(frames[k]!, conn.onBlastWritten);
      conn.framesSent++;
      conn.ticksSent += conn.blastPackets[k]!;
      conn.lastSentAt = now;
      this.#options.onFrameSent?.(conn.id, frames[k]!);
    }
  }

  #buildBlastFrames(conn: SimConnection): Buffer[] {
    const indices: number[] = [];
    for (const bucket of conn.buckets) for (const i of bucket.keys()) indices.push(i);
    const frames: Buffer[] = [];
    conn.blastPackets = [];
    conn.blastNext = 0;
    if (indices.length > 0) {
      const per = this.#blastPacketsPerFrame;
      const count = Math.min(BLAST_MAX_FRAMES, Math.ceil(indices.length / per));
      const builder = new FrameBuilder(per * 186 + 2);
      let cursor = 0;
      for (let f = 0; f < count; f++) {
        for (let p = 0; p < per; p++) {
          builder.append(this.#market, indices[cursor]!, 'full');
          cursor = cursor + 1 >= indices.length ? 0 : cursor + 1;
        }
        for (const frame of builder.take()) {
          frames.push(frame);
          conn.blastPackets.push(frame.readUInt16BE(0));
        }
      }
    }
    conn.blastFrames = frames;
    return frames;
  }

  // ---------------------------------------------------------------- credentials, orders

  /** Sets (or replaces) a key's valid access token and lifts a revocation. */
  setAccessToken(apiKey: string, accessToken: string): void {
    this.#credentials.set(apiKey, accessToken);
    this.#revoked.delete(apiKey);
    this.#login.tokenSet(apiKey);
  }

  /** Closes the key's sockets (close code 1008) and refuses its upgrades with 403 until setAccessToken. */
  revokeToken(apiKey: string): void {
    this.#revoke(apiKey, 'manual');
  }

  #revoke(apiKey: string, source: FaultRecord['source'], detail = 'access token revoked'): void {
    this.#revoked.add(apiKey);
    this.#fault('revoke', source, detail, undefined, apiKey);
    for (const conn of this.#targets({ apiKey }))
      this.#detach(conn, { code: 1008, reason: 'access token revoked' });
  }

  /** Sends `{"type":"order","data":order}` to every open (not stalled) socket of the key. */
  sendOrderUpdate(apiKey: string, order: OrderUpdate | Record<string, unknown>): void {
    const text = JSON.stringify({ type: 'order', data: order });
    for (const conn of this.#targets({ apiKey })) this.#sendText(conn, text);
  }

  /** Sends a `{"type":"message","data":...}` broker notice to every socket of the key. */
  sendMessage(apiKey: string, data: unknown): void {
    const text = JSON.stringify({ type: 'message', data });
    for (const conn of this.#targets({ apiKey })) this.#sendText(conn, text);
  }

  // ---------------------------------------------------------------- injected frames

  readonly #injectIndex = new FramePacketIndex();
  readonly #injectKept = { packets: 0 };
  readonly #textDecoder = new TextDecoder();

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
    if (!(frame instanceof Uint8Array))
      throw new InvalidArgumentError('injectFrame: frame must be a Uint8Array');
    if (kind !== 'binary' && kind !== 'text') {
      throw new InvalidArgumentError(`injectFrame: kind must be 'binary' or 'text', got ${String(kind)}`);
    }
    // 'all' iterates the live map (no copy per frame): sending never adds or removes connections.
    const targets: Iterable<SimConnection> =
      target === 'all' ? this.#connections.values() : this.#targets(target);
    if (kind === 'text') {
      const text = this.#textDecoder.decode(frame);
      let sent = 0;
      for (const conn of targets) {
        if (!this.#canSend(conn, Date.now())) continue;
        this.#sendText(conn, text);
        sent++;
      }
      return sent;
    }
    const now = Date.now();
    const filter = options.subscribedOnly === true && frame.byteLength >= 2;
    const index = filter ? this.#injectIndex.index(frame) : undefined;
    const declared = frame.byteLength >= 2 ? (frame[0]! << 8) | frame[1]! : 0;
    let sent = 0;
    for (const conn of targets) {
      if (!this.#canSend(conn, now) || conn.ws.bufferedAmount > SLOW_CLIENT_BYTES) continue;
      let out: Uint8Array | undefined = frame;
      let packets = declared;
      if (index) {
        out = index.select(conn.subscriptions, this.#injectKept);
        packets = this.#injectKept.packets;
        if (out === undefined) continue;
      }
      // Not through #sendBinary: an injected frame may be shared by several sockets, so it is never stamped.
      conn.ws.send(out);
      conn.lastSentAt = now;
      if (packets > 0) {
        conn.framesSent++;
        conn.ticksSent += packets;
      } else if (out.byteLength < 2) {
        conn.heartbeatsSent++;
      }
      this.#options.onFrameSent?.(conn.id, out);
      sent++;
    }
    return sent;
  }

  // ---------------------------------------------------------------- faults

  #targets(target: Target): SimConnection[] {
    if (typeof target === 'number') {
      const c = this.#connections.get(target);
      return c ? [c] : [];
    }
    return [...this.#connections.values()].filter((c) => c.apiKey === target.apiKey);
  }

  #fault(
    kind: FaultKind,
    source: FaultRecord['source'],
    detail: string,
    connectionId?: number,
    apiKey?: string,
  ): void {
    const record: FaultRecord = { at: Date.now(), kind, source, detail };
    if (connectionId !== undefined) record.connectionId = connectionId;
    if (apiKey !== undefined) record.apiKey = apiKey;
    this.#faults.push(record);
    if (this.#faults.length > this.#faultLogLimit)
      this.#faults.splice(0, this.#faults.length - this.#faultLogLimit);
    this.#log.info({ ...record }, 'fault injected');
    this.emit('fault', record);
  }

  /** Abrupt TCP close (no close frame), like a network drop. */
  dropConnection(target: Target): void {
    for (const conn of this.#targets(target)) this.#drop(conn, 'manual');
  }

  #drop(conn: SimConnection, source: FaultRecord['source']): void {
    this.#fault('drop', source, 'socket destroyed', conn.id, conn.apiKey);
    this.#detach(conn, 'terminate');
  }

  /** A WebSocket close frame with `code` and `reason`. */
  closeConnection(target: Target, code: number, reason = ''): void {
    for (const conn of this.#targets(target)) this.#close(conn, code, reason, 'manual');
  }

  #close(conn: SimConnection, code: number, reason: string, source: FaultRecord['source']): void {
    this.#fault('close', source, `close ${code} ${reason}`.trim(), conn.id, conn.apiKey);
    this.#detach(conn, { code, reason });
  }

  /**
   * Sends nothing at all (no ticks, heartbeats or text) for `durationMs` while keeping the socket open.
   * Without a duration the connection stays silent until it closes.
   */
  stallConnection(target: Target, durationMs?: number): void {
    if (durationMs !== undefined) duration(durationMs, 'stallConnection durationMs', FAULT);
    for (const conn of this.#targets(target))
      this.#stall(conn, durationMs ?? Number.POSITIVE_INFINITY, 'manual');
  }

  #stall(conn: SimConnection, durationMs: number, source: FaultRecord['source']): void {
    conn.stalledUntil = Date.now() + durationMs;
    this.#fault('stall', source, `stalled for ${durationMs} ms`, conn.id, conn.apiKey);
  }

  /** Sends one malformed frame of `kind` (see CorruptionKind). */
  corruptConnection(target: Target, kind: CorruptionKind): void {
    for (const conn of this.#targets(target)) this.#corrupt(conn, kind, 'manual');
  }

  #corrupt(conn: SimConnection, kind: CorruptionKind, source: FaultRecord['source']): boolean {
    const now = Date.now();
    if (!this.#canSend(conn, now) || this.#market.size === 0) return false;
    let index = 0;
    let mode: Mode = 'ltp';
    for (const bucket of conn.buckets) {
      const first = bucket.entries().next();
      if (!first.done) {
        [index, mode] = first.value;
        break;
      }
    }
    const frame = corruptFrame(kind, this.#market, index, mode, this.#rng);
    this.#fault('corrupt', source, kind, conn.id, conn.apiKey);
    if (typeof frame === 'string') this.#sendText(conn, frame);
    else this.#sendBinary(conn, frame, now);
    return true;
  }

  /** Refuses every upgrade (or only `apiKey`'s) with `status` for `durationMs`. */
  refuseUpgrades(status: number, durationMs: number, apiKey?: string): void {
    this.#refuse(status, durationMs, apiKey, 'manual');
  }

  #refuse(
    status: number,
    durationMs: number,
    apiKey: string | undefined,
    source: FaultRecord['source'],
  ): void {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new InvalidArgumentError(`refusal status must be an HTTP error status (400-599), got ${status}`);
    }
    duration(durationMs, 'refuseUpgrades durationMs', FAULT);
    this.#refusals.push({ status, until: Date.now() + durationMs, apiKey });
    this.#fault('refuse', source, `HTTP ${status} for ${durationMs} ms`, undefined, apiKey);
  }

  #chaosTarget(): ChaosTarget {
    const conn = (id: number): SimConnection | undefined => this.#connections.get(id);
    return {
      connectionIds: () => [...this.#connections.keys()],
      apiKeys: () => [...this.#credentials.keys()],
      drop: (id) => {
        const c = conn(id);
        if (c) this.#drop(c, 'chaos');
        return c !== undefined;
      },
      close: (id, code, reason) => {
        const c = conn(id);
        if (c) this.#close(c, code, reason, 'chaos');
        return c !== undefined;
      },
      stall: (id, ms) => {
        const c = conn(id);
        if (c) this.#stall(c, ms, 'chaos');
        return c !== undefined;
      },
      corrupt: (id, kind) => {
        const c = conn(id);
        return c !== undefined && this.#corrupt(c, kind, 'chaos');
      },
      refuse: (status, ms, apiKey) => {
        this.#refuse(status, ms, apiKey, 'chaos');
        return true;
      },
      revokeFor: (apiKey, ms) => {
        const token = this.#credentials.get(apiKey);
        if (token === undefined || this.#revoked.has(apiKey)) return false;
        this.#revoke(apiKey, 'chaos', `access token revoked for ${ms} ms`);
        // Reissue the same token unless someone set another meanwhile: never refuse for good.
        this.#later(ms, () => {
          if (this.#revoked.has(apiKey) && this.#credentials.get(apiKey) === token)
            this.setAccessToken(apiKey, token);
        });
        return true;
      },
      restart: (ms) => {
        if (this.#restarting || !this.#started || this.#stopped) return false;
        this.#fault('restart', 'chaos', `restart with ${ms} ms downtime`);
        this.#restart(ms).catch((err: Error) =>
          this.#log.error({ err: err.message }, 'chaos restart failed'),
        );
        return true;
      },
    };
  }

  /** Stops chaos mode from injecting more faults (faults already in progress run their course). */
  pauseChaos(): void {
    this.#chaos?.stop();
  }

  /** Resumes chaos mode after pauseChaos (no-op without the `chaos` option or before start). */
  resumeChaos(): void {
    if (this.#started && !this.#stopped) this.#chaos?.start();
  }

  // ---------------------------------------------------------------- introspection

  /** A snapshot of every open connection (copies; safe to keep). */
  connections(): SimulatorConnectionInfo[] {
    const now = Date.now();
    return [...this.#connections.values()].map((c) => ({
      id: c.id,
      apiKey: c.apiKey,
      subscriptions: new Map(c.subscriptions),
      framesSent: c.framesSent,
      ticksSent: c.ticksSent,
      heartbeatsSent: c.heartbeatsSent,
      openedAt: c.openedAt,
      stalled: c.isStalled(now),
    }));
  }

  keyInfo(apiKey: string): SimulatorKeyInfo {
    const k = this.#keys.get(apiKey);
    return {
      apiKey,
      openConnections: k?.open ?? 0,
      rejectedUpgrades: { ...(k?.rejected ?? {}) },
      acceptedUpgrades: k?.accepted ?? 0,
      maxConcurrentConnections: k?.maxConcurrent ?? 0,
      commands: k ? k.commands.entries() : [],
      invalidCommands: k?.invalidCommands ?? 0,
      badFrames: k?.badFrames ?? 0,
    };
  }

  instruments(): readonly SimulatorInstrument[] {
    return this.#market.instruments;
  }

  /** Every fault injected so far (bounded by `faultLogLimit`), oldest first. */
  faultLog(): FaultRecord[] {
    return [...this.#faults];
  }

  /**
   * The tick the simulator would send now for `token` in `mode` (a fresh object), or undefined for a
   * token outside the universe. Values are exactly what a decoder reads from the packet.
   */
  snapshot(token: number, mode: Mode = 'full'): Tick | undefined {
    const i = this.#market.indexOf(token);
    return i < 0 ? undefined : this.#market.tick(i, mode);
  }
}
