/**
 * The public contract of the Kite-compatible simulator (`KiteSimulator`). Tests of every other layer
 * drive faults and assert against this introspection, so these names are stable.
 */
import type { CommandLogEntry } from '../kite-server/types.js';
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { OrderUpdate } from '../protocol/types.js';
import type { InjectFrameOptions, InjectTarget } from './inject.js';
import type { SimulatorApp } from './rest-login.js';
import type { TradingClockOptions } from './trading-clock.js';

export interface SimulatorInstrument {
  instrument_token: number;
  tradingsymbol: string;
  exchange: string;
  segment: string;
  instrument_type: string;
  name: string;
  expiry: string;
  strike: number;
  tick_size: number;
  lot_size: number;
  /** Starting price (also the previous close). */
  last_price: number;
}

export interface ChaosOptions {
  /** Mean faults per second across the server. */
  faultsPerSecond: number;
  /** Which faults to draw from; default all. */
  faults?: FaultKind[];
  /** Seed of the chaos draw; default the simulator's seed. */
  seed?: number;
}

export type FaultKind = 'drop' | 'close' | 'stall' | 'corrupt' | 'refuse' | 'revoke' | 'restart';

export type CorruptionKind =
  | 'lying_count'
  | 'truncated_packet'
  | 'unknown_length'
  | 'garbage_text'
  | 'garbage_binary';

export interface SimulatorOptions {
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Seed of the market and chaos; same seed, same market. Default 1. */
  seed?: number;
  /** api_key -> access_token. Default { sim_key_1: 'sim_token_1', sim_key_2: 'sim_token_2', sim_key_3: 'sim_token_3' }. */
  credentials?: Record<string, string>;
  /**
   * api_key -> its Kite Connect app (api_secret, redirect URL) for the REST login. Default: test apps
   * for the three built-in keys (`DEFAULT_SIMULATOR_APPS`).
   */
  apps?: Record<string, SimulatorApp>;
  /**
   * The trading-day clock: with it (true = defaults), every access token dies at the next daily expiry
   * (default 06:00 IST) after it was set; the clock may run faster than real time. Default off.
   */
  tradingClock?: TradingClockOptions | boolean;
  /** Default 3. */
  maxConnectionsPerKey?: number;
  /** HTTP status for an upgrade over the connection limit. Default 429. */
  connectionLimitStatus?: number;
  /** Default 3000. */
  maxInstrumentsPerConnection?: number;
  /** Idle heartbeat period. Default 1000 ms (Kite: "every couple of seconds"; clients drop after 5 s). */
  heartbeatIntervalMs?: number;
  /** Ticks per second per subscribed instrument. Default 1. */
  ticksPerSecond?: number;
  /** Frame batching interval per connection. Default 100 ms. */
  batchIntervalMs?: number;
  /**
   * When each connection's frame goes out within the batch interval. `'spread'` (default): every
   * connection has its own fixed offset in [0, batchIntervalMs), derived from the seed and the connection
   * id, the way independent Kite sockets arrive; the market still moves once per interval. `'none'`:
   * every connection's frame in the same instant (a synchronised burst, the worst case for a client).
   */
  stagger?: 'spread' | 'none';
  /** The instrument universe. Default a synthetic universe of `universeSize` instruments. */
  instruments?: SimulatorInstrument[];
  /** Size of the synthetic universe. Default 30 000. */
  universeSize?: number;
  /** Random faults for soak tests. Default none. */
  chaos?: ChaosOptions;
  /**
   * False: the built-in market sends no ticks at all, and tick frames come only from `injectFrame`
   * (a recording being replayed). Connections, commands, limits, faults and heartbeats work as usual.
   * Default true.
   */
  marketTicks?: boolean;
  /** Blast mode: send pre-encoded full frames as fast as the socket drains (benchmarks). Default off. */
  blast?: { packetsPerFrame: number };
  /**
   * Benchmark-only: stamp every full packet of every normal-mode frame with its send time (the
   * monotonic clock's seconds in `last_trade_time`, nanoseconds in `oi`; see `stampedMs`), just before the
   * frame is handed to the socket, so that a client can measure send-to-callback latency. Those two fields
   * lose their market meaning. Blast-mode frames are never stamped (they are shared). Default false.
   */
  stampSendTime?: boolean;
  /**
   * Path of a Kite instruments CSV to use as the universe (read when the simulator is constructed).
   * Ignored when `instruments` is given. Default none (the synthetic universe).
   */
  instrumentsCsv?: string;
  /** Command-log entries kept per API key (oldest dropped first). Default 1000. */
  commandLogLimit?: number;
  /**
   * Bytes of command text kept per API key, all entries together (oldest dropped first; each entry is
   * charged its stored text plus 64 bytes). One entry keeps at most the first 64 KiB of a command.
   * Default 4 MiB.
   */
  commandLogBytes?: number;
  /** Fault records kept by `faultLog()` (oldest dropped first). Default 10 000. */
  faultLogLimit?: number;
  /** Logger for connections, refusals and faults. Default silent. Never given an access token. */
  logger?: Logger;
  /**
   * Test/debug hook, called synchronously with every frame right after it is handed to the socket:
   * binary frames (heartbeats included) as Uint8Array, text frames as string. Default none.
   */
  onFrameSent?: (connectionId: number, frame: Uint8Array | string) => void;
}

/** One injected fault, manual or from chaos mode (`faultLog()`, the 'fault' event). */
export interface FaultRecord {
  /** Epoch ms. */
  at: number;
  kind: FaultKind;
  /** 'chaos' when drawn by chaos mode, 'manual' when a method was called. */
  source: 'manual' | 'chaos';
  connectionId?: number;
  apiKey?: string;
  /** Human-readable parameters (close code, durations, corruption kind, status). */
  detail: string;
}

export interface SimulatorConnectionInfo {
  /** Stable id of this socket within the simulator's life. */
  id: number;
  apiKey: string;
  /** token -> mode, as the server holds it. */
  subscriptions: Map<number, Mode>;
  /** Binary frames carrying ticks (heartbeats not included). */
  framesSent: number;
  /** Packets sent. */
  ticksSent: number;
  /** 1-byte heartbeat frames sent. */
  heartbeatsSent: number;
  /** Epoch ms. */
  openedAt: number;
  stalled: boolean;
}

/** One client command as the simulator logged it (see src/kite-server/command-log.ts). */
export type SimulatorCommandLogEntry = CommandLogEntry;

export interface SimulatorKeyInfo {
  apiKey: string;
  openConnections: number;
  /** HTTP status -> count of refused upgrades. */
  rejectedUpgrades: Record<number, number>;
  /** Upgrades accepted over the simulator's life. */
  acceptedUpgrades: number;
  /** Most sockets of this key open at the same time, over the simulator's life. */
  maxConcurrentConnections: number;
  /** The most recent commands (see `commandLogLimit` and `commandLogBytes`). */
  commands: SimulatorCommandLogEntry[];
  /**
   * Client frames answered with an error text frame instead of being applied: invalid JSON or shape,
   * odd types, binary frames. Over the simulator's life.
   */
  invalidCommands: number;
  /**
   * Sockets of this key the simulator closed because a client frame broke the WebSocket protocol
   * (larger than the command limit, invalid UTF-8 text, bad framing). Over the simulator's life.
   */
  badFrames: number;
}

export interface TickerSimulator {
  start(options?: { port?: number; host?: string }): Promise<void>;
  stop(): Promise<void>;
  /** Closes every socket and the listener, then listens again on the same port. */
  restart(downtimeMs?: number): Promise<void>;
  /** ws://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;

  // credentials
  setAccessToken(apiKey: string, accessToken: string): void;
  /** Closes the key's open sockets and refuses new ones with 403 until setAccessToken. */
  revokeToken(apiKey: string): void;
  sendOrderUpdate(apiKey: string, order: OrderUpdate | Record<string, unknown>): void;
  /**
   * Sends a ready-made frame (e.g. one read from a recording) to a connection id, every socket of a key,
   * or 'all'; see `InjectFrameOptions`. Returns the number of sockets it was handed to.
   */
  injectFrame(
    target: InjectTarget,
    frame: Uint8Array,
    kind?: 'binary' | 'text',
    options?: InjectFrameOptions,
  ): number;

  // faults (by connection id from connections(), or every connection of a key)
  dropConnection(target: number | { apiKey: string }): void;
  closeConnection(target: number | { apiKey: string }, code: number, reason?: string): void;
  stallConnection(target: number | { apiKey: string }, durationMs?: number): void;
  corruptConnection(target: number | { apiKey: string }, kind: CorruptionKind): void;
  refuseUpgrades(status: 429 | 503 | number, durationMs: number, apiKey?: string): void;

  // introspection
  connections(): SimulatorConnectionInfo[];
  keyInfo(apiKey: string): SimulatorKeyInfo;
  instruments(): readonly SimulatorInstrument[];
}
