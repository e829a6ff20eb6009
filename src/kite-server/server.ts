/**
 * KiteProtocolServer: the server side of Kite's ticker protocol, with the market (or upstream) plugged in.
 *
 * A `node:http` server owns the port; its 'upgrade' handler applies Kite's rules (the authoriser's 403,
 * the per-key socket limit) before `ws` (noServer, no compression) takes the socket, so refusals are real
 * HTTP statuses as clients see them from Kite. It keeps each connection's subscriptions, parses and applies
 * client commands (a hostile frame never throws, the command log is bounded in bytes), sends 1-byte
 * heartbeats to idle sockets, and gives its frame source the send methods it needs. Plain HTTP requests
 * go to the registered routes. See types.ts for the pluggable pieces.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import { redact } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { parseClientCommand } from '../protocol/commands.js';
import { HEARTBEAT } from '../protocol/encode.js';
import { applyCommand, maxTokensMessage } from './commands.js';
import { KiteServerConnection } from './connection.js';
import { type KeyStats, KeyTable } from './keys.js';
import type { CloseHow, HttpRoute, KiteFrameSender, KiteFrameSource, KiteServerOptions } from './types.js';
import { decideUpgrade, refuseUpgrade } from './upgrade.js';

/**
 * A socket with more than this queued (a client that stopped reading) gets no tick frames until it
 * drains: ticks are snapshots, so skipping them loses nothing but keeps server memory bounded.
 */
export const SLOW_CLIENT_BYTES = 8 * 1024 * 1024;
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

/** A connection id, or every connection of an API key. */
export type ConnectionTarget = number | { apiKey: string };

export class KiteProtocolServer<S extends KiteFrameSource = KiteFrameSource> implements KiteFrameSender {
  readonly #o: KiteServerOptions<S>;
  /** The frame source built by `options.source`. */
  readonly source: S;
  readonly #log: Logger;
  readonly #routes: HttpRoute[];
  readonly #keys: KeyTable;
  readonly #connections = new Map<number, KiteServerConnection>();
  readonly #wss: WebSocketServer;
  readonly #rawSockets = new Set<Socket>();
  #nextConnectionId = 1;
  #server: Server | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #host = '127.0.0.1';
  #port = 0;
  #shutDown = false;

  constructor(options: KiteServerOptions<S>) {
    this.#o = options;
    this.source = options.source(this);
    this.#log = options.logger ?? silentLogger;
    this.#routes = [...(options.routes ?? [])];
    this.#keys = new KeyTable(options.commandLogLimit, options.commandLogBytes);
    this.#wss = new WebSocketServer({
      noServer: true,
      perMessageDeflate: false,
      clientTracking: false,
      maxPayload: Math.min(
        MAX_MAX_COMMAND_BYTES,
        Math.max(MIN_MAX_COMMAND_BYTES, options.maxInstrumentsPerConnection * 32),
      ),
    });
  }

  /** Adds a plain HTTP route (asked after the ones already there). */
  addRoute(route: HttpRoute): void {
    this.#routes.push(route);
  }

  get port(): number {
    return this.#port;
  }

  get host(): string {
    return this.#host;
  }

  // ---------------------------------------------------------------- listener

  /** Listens and starts the heartbeat timer. */
  listen(port: number, host: string): Promise<void> {
    this.#host = host;
    // With `tls`, the same server over HTTPS (wss://): the relay exposed beyond the machine.
    const tls = this.#o.tls;
    const server: Server = tls ? createTlsServer({ cert: tls.cert, key: tls.key }) : createServer();
    server.on('connection', (socket: Socket) => {
      this.#rawSockets.add(socket);
      socket.once('close', () => this.#rawSockets.delete(socket));
    });
    server.on('request', (req, res) => {
      for (const route of this.#routes) if (route.handle(req, res)) return;
      res.writeHead(426, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end(this.#o.upgradeRequiredText ?? 'this is a Kite ticker server: connect with a WebSocket\n');
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
        server.on('error', (e) => this.#log.error({ err: e.message }, 'listener error'));
        const address = server.address();
        if (address && typeof address === 'object') this.#port = address.port;
        this.#log.info({ host: this.#host, port: this.#port }, 'listening');
        this.#startHeartbeats();
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen(port, host);
    });
  }

  /** Drops every socket (abruptly), stops the heartbeats and closes the listener; `listen` may follow. */
  async unlisten(): Promise<void> {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    for (const conn of [...this.#connections.values()]) this.detach(conn, 'terminate');
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

  /** `unlisten` for good. Idempotent. */
  async shutdown(): Promise<void> {
    this.#shutDown = true;
    await this.unlisten();
    this.#wss.close();
  }

  #startHeartbeats(): void {
    const ms = this.#o.heartbeatIntervalMs;
    this.#heartbeatTimer = setInterval(() => this.#heartbeatCheck(), Math.max(5, ms / 4));
    this.#heartbeatTimer.unref();
  }

  // ---------------------------------------------------------------- upgrades

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
    const known = apiKey !== undefined && this.#o.authoriser.knows?.(apiKey) === true;
    this.#keys.refused(apiKey, status, known);
    this.#log.info({ status, apiKey, reason }, 'upgrade refused');
    this.#o.observer?.refused?.({ status, apiKey, reason });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const decision = decideUpgrade(req.url, Date.now(), this.#o.authoriser, {
      openConnections: (k) => this.#keys.open(k),
      maxConnectionsPerKey: this.#o.maxConnectionsPerKey,
      connectionLimitStatus: this.#o.connectionLimitStatus,
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
      this.#onConnection(ws, apiKey, socket);
    });
    if (!completed) this.#refused(apiKey, 400, 'malformed WebSocket upgrade request (or client gone)');
  }

  #onConnection(ws: WebSocket, apiKey: string, socket: Duplex): void {
    if (this.#shutDown || !this.#server) {
      ws.terminate();
      return;
    }
    this.#keys.opened(apiKey);
    const id = this.#nextConnectionId++;
    const conn = new KiteServerConnection(id, apiKey, ws, Date.now(), socket);
    this.#connections.set(id, conn);
    this.source.attach(conn);
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
      if (err.code?.startsWith('WS_ERR_')) this.#keys.get(apiKey).badFrames++;
      this.#log.debug({ connectionId: id, err: redact(err.message, []) }, 'socket error');
    });
    ws.on('close', () => this.detach(conn, 'none'));
    this.#log.info({ connectionId: id, apiKey }, 'connection opened');
    this.#o.observer?.connection?.({ id, apiKey });
  }

  /** Forgets a connection (once; its source hears first) and closes its socket as asked. */
  detach(conn: KiteServerConnection, how: CloseHow): void {
    if (conn.open) {
      conn.open = false;
      this.#connections.delete(conn.id);
      this.#keys.closed(conn.apiKey);
      this.source.detach(conn);
      this.#log.info({ connectionId: conn.id, apiKey: conn.apiKey }, 'connection closed');
      this.#o.observer?.disconnect?.({ id: conn.id, apiKey: conn.apiKey });
    }
    if (how === 'terminate') conn.ws.terminate();
    else if (how !== 'none') conn.ws.close(how.code, how.reason);
  }

  // ---------------------------------------------------------------- commands

  #onMessage(conn: KiteServerConnection, data: Buffer, isBinary: boolean): void {
    if (!conn.open) return;
    this.#keys.get(conn.apiKey).commands.add(Date.now(), conn.id, data, isBinary);
    if (isBinary) {
      this.#invalid(conn, 'binary messages are not accepted: send JSON text commands');
      return;
    }
    const parsed = parseClientCommand(data.toString('utf8'));
    if (!parsed.ok) {
      this.#invalid(conn, `invalid message: ${parsed.error}`);
      return;
    }
    const max = this.#o.maxInstrumentsPerConnection;
    const { change, refused } = applyCommand(conn.subscriptions, parsed.command, max);
    if (refused > 0) this.sendError(conn, maxTokensMessage(refused, max));
    this.source.changed(conn, change);
  }

  /** A client frame refused: counted, and answered with a Kite-style error text frame. */
  #invalid(conn: KiteServerConnection, message: string): void {
    this.#keys.get(conn.apiKey).invalidCommands++;
    this.sendError(conn, message);
  }

  // ---------------------------------------------------------------- heartbeats

  #heartbeatCheck(): void {
    const now = Date.now();
    const source = this.source;
    for (const conn of this.#connections.values()) {
      if (!this.canSend(conn, now)) continue;
      if (source.busy?.(conn, now)) continue;
      if (now - conn.lastSentAt >= this.#o.heartbeatIntervalMs) {
        this.sendBinary(conn, HEARTBEAT, now);
        conn.heartbeatsSent++;
      }
    }
  }

  // ---------------------------------------------------------------- sending

  /** Open, not closing, not stalled. */
  canSend(conn: KiteServerConnection, now: number): boolean {
    return conn.open && conn.ws.readyState === 1 && !conn.isStalled(now);
  }

  /** More queued than a tick frame may join (the client stopped reading). */
  isSlow(conn: KiteServerConnection): boolean {
    return conn.ws.bufferedAmount > SLOW_CLIENT_BYTES;
  }

  /** Sends a binary frame made for this socket (`beforeBinary` may change it in place). */
  sendBinary(conn: KiteServerConnection, frame: Uint8Array, now: number): void {
    this.#o.beforeBinary?.(frame);
    this.sendShared(conn, frame, now);
  }

  /** Sends a binary frame that other sockets may share: never changed. */
  sendShared(conn: KiteServerConnection, frame: Uint8Array, now: number, onWritten?: () => void): void {
    conn.ws.send(frame, onWritten);
    conn.lastSentAt = now;
    this.#o.onFrameSent?.(conn.id, frame);
  }

  /** Sends one batch of tick frames (`packets` in all) and counts them. */
  sendTicks(conn: KiteServerConnection, frames: readonly Buffer[], packets: number, now: number): void {
    for (const frame of frames) {
      this.sendBinary(conn, frame, now);
      conn.framesSent++;
    }
    conn.ticksSent += packets;
  }

  /** Sends a text frame unless the socket cannot take it now (closed, stalled). */
  sendText(conn: KiteServerConnection, text: string): void {
    const now = Date.now();
    if (!this.canSend(conn, now)) return;
    conn.ws.send(text);
    conn.lastSentAt = now;
    this.#o.onFrameSent?.(conn.id, text);
  }

  /** `{"type":"error","data":message}`, skipped for a socket with a backlog. */
  sendError(conn: KiteServerConnection, message: string): void {
    if (conn.ws.bufferedAmount > SLOW_CLIENT_ERROR_BYTES) return;
    this.sendText(conn, JSON.stringify({ type: 'error', data: message }));
  }

  /** `{"type":"order","data":order}` to every socket of the key. */
  sendOrderUpdate(apiKey: string, order: unknown): void {
    const text = JSON.stringify({ type: 'order', data: order });
    for (const conn of this.find({ apiKey })) this.sendText(conn, text);
  }

  /** `{"type":"message","data":data}` to every socket of the key. */
  sendMessage(apiKey: string, data: unknown): void {
    const text = JSON.stringify({ type: 'message', data });
    for (const conn of this.find({ apiKey })) this.sendText(conn, text);
  }

  // ---------------------------------------------------------------- lookups

  /** The open connections, live (do not add or remove while iterating). */
  connections(): IterableIterator<KiteServerConnection> {
    return this.#connections.values();
  }

  connection(id: number): KiteServerConnection | undefined {
    return this.#connections.get(id);
  }

  connectionIds(): number[] {
    return [...this.#connections.keys()];
  }

  /** The connections a target names (a copy: safe to close them while iterating). */
  find(target: ConnectionTarget): KiteServerConnection[] {
    if (typeof target === 'number') {
      const c = this.#connections.get(target);
      return c ? [c] : [];
    }
    return [...this.#connections.values()].filter((c) => c.apiKey === target.apiKey);
  }

  /** The key's counters, if it ever connected or was refused (and remembered). */
  keyStats(apiKey: string): Readonly<KeyStats> | undefined {
    return this.#keys.find(apiKey);
  }
}
