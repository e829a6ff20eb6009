/**
 * The interfaces of the Kite protocol server front end, before any implementation. The front end speaks
 * Kite's ticker protocol to clients (upgrade, commands, heartbeats, binary and text frames) and knows
 * nothing about where ticks come from or who may connect: both are plugged in.
 *
 * - A `KiteAuthoriser` decides who may connect (the simulator: its credential table, revocations and
 *   forced refusals; the relay: its clients file).
 * - A `KiteFrameSource` is told of each connection's life and subscription changes and hands frames to
 *   the front end's send methods (the simulator: the synthetic market; the relay: the upstream manager).
 * - A `KiteServerObserver` hears about connections and refusals (the simulator re-emits them as events).
 * - `HttpRoute`s answer plain HTTP requests on the same port (the simulator's `GET /instruments`).
 */
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { KiteServerConnection } from './connection.js';

/** What an upgrade request says about who is connecting (`?api_key=...&access_token=...`). */
export interface UpgradeRequest {
  /** The `api_key` query parameter, if any. */
  apiKey: string | undefined;
  /** The `access_token` query parameter, if any. Never log it. */
  accessToken: string | undefined;
  /** Epoch ms of the decision. */
  now: number;
}

/** An authoriser's answer: who connected (and their own limits), or an HTTP refusal. */
export type Authorisation =
  | {
      ok: true;
      /** The key the connection counts against (limits, counters, command log). */
      apiKey: string;
      /** This key's socket limit when it differs from the server's `maxConnectionsPerKey`. */
      maxConnections?: number;
    }
  | { ok: false; status: number; reason: string };

/** Decides who may connect. Must not throw: it runs inside the HTTP server's 'upgrade' callback. */
export interface KiteAuthoriser {
  authorise(request: UpgradeRequest): Authorisation;
  /**
   * Whether refusals of `apiKey` are always counted. Keys it does not know are counted only while the
   * server remembers fewer than its bound of keys, so a client inventing api_keys cannot grow memory.
   */
  knows?(apiKey: string): boolean;
}

/** A subscription change the front end applied to a connection (only tokens that actually changed). */
export type SubscriptionChange =
  | { action: 'subscribe'; tokens: readonly number[]; mode: Mode }
  | { action: 'unsubscribe'; tokens: readonly number[] }
  | { action: 'mode'; tokens: readonly number[]; mode: Mode };

/**
 * Produces the frames of each connection. The front end keeps each connection's subscriptions (token ->
 * mode) and applies Kite's rules to commands; the source learns what changed and sends frames with
 * `KiteProtocolServer.sendBinary`/`sendTicks` when it has them (a timer, an upstream frame...).
 */
export interface KiteFrameSource {
  /** A connection completed its upgrade. */
  attach(conn: KiteServerConnection): void;
  /** A valid command was applied; called for every valid command, even one that changed nothing. */
  changed(conn: KiteServerConnection, change: SubscriptionChange): void;
  /** The connection closed (either side); called once, before its socket is closed. */
  detach(conn: KiteServerConnection): void;
  /**
   * Called on each heartbeat check for a connection that may be sent to. Return true when the source
   * keeps this connection busy itself (so it needs no heartbeat), false for the usual idle heartbeat.
   */
  busy?(conn: KiteServerConnection, now: number): boolean;
}

/**
 * What a frame source may do with the front end's sockets (implemented by KiteProtocolServer; handed to
 * the source's factory, so a source never needs the server class itself).
 */
export interface KiteFrameSender {
  /** Open, not closing, not stalled. */
  canSend(conn: KiteServerConnection, now: number): boolean;
  /** More queued than a tick frame may join (the client stopped reading). */
  isSlow(conn: KiteServerConnection): boolean;
  /** A binary frame made for this socket (`beforeBinary` may change it in place). */
  sendBinary(conn: KiteServerConnection, frame: Uint8Array, now: number): void;
  /** A binary frame other sockets may share: never changed. */
  sendShared(conn: KiteServerConnection, frame: Uint8Array, now: number, onWritten?: () => void): void;
  /** One batch of tick frames (`packets` in all), counted in the connection's stats. */
  sendTicks(conn: KiteServerConnection, frames: readonly Buffer[], packets: number, now: number): void;
  sendText(conn: KiteServerConnection, text: string): void;
  /** A Kite error text frame, `{"type":"error","data":message}`. */
  sendError(conn: KiteServerConnection, message: string): void;
}

/** Hears about the front end's connections; every method is optional. */
export interface KiteServerObserver {
  connection?(event: { id: number; apiKey: string }): void;
  disconnect?(event: { id: number; apiKey: string }): void;
  refused?(event: { status: number; apiKey: string | undefined; reason: string }): void;
}

/**
 * A plain HTTP route on the ticker's port: answers `req` and returns true if it is its request, else
 * returns false and touches nothing (the shape of `InstrumentsEndpoint.handle`). Routes are asked in
 * the order they were added; a request none answers gets 426.
 */
export interface HttpRoute {
  handle(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): boolean;
}

/** How the front end closes a socket: not at all (already closed), abruptly, or with a close frame. */
export type CloseHow = 'none' | 'terminate' | { code: number; reason: string };

/** One client command as logged (see CommandLog). */
export interface CommandLogEntry {
  at: number;
  connectionId: number;
  /** The raw text as received (its first 64 KiB when `truncated`), or `<binary N bytes>`. */
  text: string;
  /** Size of the frame as received, in bytes. */
  bytes: number;
  /** True when `text` holds only the first 64 KiB of a longer command. */
  truncated: boolean;
}

/** Already-validated settings of a front end (the owner validates its own options). */
export interface KiteServerOptions<S extends KiteFrameSource = KiteFrameSource> {
  authoriser: KiteAuthoriser;
  /** Builds the frame source, given what it may send with (the server exposes it as `source`). */
  source: (sender: KiteFrameSender) => S;
  observer?: KiteServerObserver;
  routes?: readonly HttpRoute[];
  /** Sockets per key unless the authoriser says otherwise (Kite: 3). */
  maxConnectionsPerKey: number;
  /** HTTP status of an upgrade past the per-key limit (Kite's is undocumented; 429 by default). */
  connectionLimitStatus: number;
  /** Tokens one connection may subscribe (Kite: 3000). */
  maxInstrumentsPerConnection: number;
  /** A 1-byte heartbeat goes to a socket idle this long. */
  heartbeatIntervalMs: number;
  commandLogLimit: number;
  commandLogBytes: number;
  /** Serve wss:// (HTTPS) with this certificate and key (PEM) instead of plain ws://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Body of the 426 answer to a plain HTTP request no route takes. */
  upgradeRequiredText?: string;
  logger?: Logger;
  /** Runs on every binary frame sent with `sendBinary` just before it is handed to the socket. */
  beforeBinary?: (frame: Uint8Array) => void;
  /** Test/debug hook: every frame handed to a socket. */
  onFrameSent?: (connectionId: number, frame: Uint8Array | string) => void;
}
