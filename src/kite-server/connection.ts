/**
 * Front-end state of one client socket: who it is, what it subscribes (token -> mode, Kite's rules
 * applied), and what was sent to it. Whatever a frame source keeps per connection lives in the source.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { Mode } from '../protocol/constants.js';

export class KiteServerConnection {
  readonly id: number;
  readonly apiKey: string;
  readonly ws: WebSocket;
  /** The socket under `ws` (the upgrade's), for senders that batch writes with cork/uncork. */
  readonly socket: Duplex | undefined;
  readonly openedAt: number;
  /** token -> mode, every subscribed token (the front end does not know which tokens exist). */
  readonly subscriptions = new Map<number, Mode>();
  open = true;
  framesSent = 0;
  ticksSent = 0;
  heartbeatsSent = 0;
  /** Epoch ms of the last frame of any kind handed to the socket. */
  lastSentAt: number;
  /** Epoch ms until which nothing at all is sent (Infinity: until the socket closes). */
  stalledUntil = 0;

  constructor(id: number, apiKey: string, ws: WebSocket, now: number, socket?: Duplex) {
    this.id = id;
    this.apiKey = apiKey;
    this.ws = ws;
    this.socket = socket;
    this.openedAt = now;
    this.lastSentAt = now;
  }

  isStalled(now: number): boolean {
    return now < this.stalledUntil;
  }
}
