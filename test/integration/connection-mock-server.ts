/**
 * A minimal Kite-like WebSocket server for protocol-level connection tests: it records upgrades and
 * client commands, refuses upgrades with a chosen status, sends crafted frames, and can go silent.
 * (The full simulator lives in src/simulator; this one exists so the connection can be tested byte by
 * byte without it.)
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { HEARTBEAT } from '../../src/protocol/index.js';

export interface UpgradeRecord {
  url: URL;
  headers: IncomingMessage['headers'];
  accepted: boolean;
  status?: number;
}

export interface MockConnection {
  socket: WebSocket;
  url: URL;
  /** Text messages received, in order. */
  commands: string[];
}

export class MockKiteServer {
  readonly upgrades: UpgradeRecord[] = [];
  readonly connections: MockConnection[] = [];
  /** Refuse upgrades with this HTTP status (undefined: accept). */
  refuseWith: number | undefined;
  /** Only this token is accepted (undefined: any). Others get 403. */
  validToken: string | undefined;
  /** Do not answer upgrades at all (for connect timeouts). */
  hang = false;
  #http: Server;
  #wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  #heartbeat: NodeJS.Timeout | undefined;
  #sockets = new Set<Socket>();

  constructor() {
    this.#http = createServer((_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    this.#http.on('connection', (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    this.#http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const url = new URL(req.url ?? '/', 'ws://127.0.0.1');
      const record: UpgradeRecord = { url, headers: req.headers, accepted: false };
      this.upgrades.push(record);
      if (this.hang) return;
      let status = this.refuseWith;
      if (status === undefined && this.validToken !== undefined) {
        if (url.searchParams.get('access_token') !== this.validToken) status = 403;
      }
      if (status !== undefined) {
        record.status = status;
        socket.end(`HTTP/1.1 ${status} Refused\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
        return;
      }
      record.accepted = true;
      this.#wss.handleUpgrade(req, socket, head, (ws) => {
        const conn: MockConnection = { socket: ws, url, commands: [] };
        this.connections.push(conn);
        ws.on('message', (data, isBinary) => {
          if (!isBinary) conn.commands.push(data.toString());
        });
        ws.on('error', () => {});
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#http.listen(0, '127.0.0.1', resolve));
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port;
  }

  get url(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Sockets currently open. */
  open(): MockConnection[] {
    return this.connections.filter((c) => c.socket.readyState === c.socket.OPEN);
  }

  last(): MockConnection {
    const c = this.connections.at(-1);
    if (!c) throw new Error('no connection yet');
    return c;
  }

  /** Heartbeats to every open socket every `ms`. */
  heartbeats(ms: number): void {
    this.stopHeartbeats();
    this.#heartbeat = setInterval(() => this.broadcast(HEARTBEAT), ms);
  }

  stopHeartbeats(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  broadcast(data: Uint8Array | string): void {
    for (const c of this.open()) c.socket.send(data, { binary: typeof data !== 'string' });
  }

  /** Cuts every open socket without a close frame. */
  dropAll(): void {
    for (const c of this.open()) c.socket.terminate();
  }

  async stop(): Promise<void> {
    this.stopHeartbeats();
    for (const c of this.connections) c.socket.terminate();
    for (const s of this.#sockets) s.destroy();
    this.#wss.close();
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }
}

/** Polls `predicate` every 5 ms until it holds or `timeoutMs` passes (then throws). A throw counts as false. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const holds = (): boolean => {
    try {
      return predicate();
    } catch {
      return false;
    }
  };
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
