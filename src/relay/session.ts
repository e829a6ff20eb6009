/**
 * One relay client socket: its client entry, what it subscribes (token -> mode rank; the front end's
 * `conn.subscriptions` mirrors it with mode names), the dispatcher's per-frame scratch, and its
 * outbox: the bounded queue that keeps a slow client from costing anyone else anything.
 *
 * Tick frames go straight to the socket while its `bufferedAmount` is under half the soft limit;
 * past that they wait here, and while the socket's buffer plus this queue exceed the soft limit the
 * oldest waiting tick frames are dropped (ticks are snapshots: a newer one replaces them). A client
 * whose socket buffer alone exceeds the hard limit, or that stays backlogged for the slow-client
 * timeout, is disconnected with a reason.
 */
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { RelayClient } from './clients.js';

export interface OutboxLimits {
  softBytes: number;
  hardBytes: number;
  slowClientTimeoutMs: number;
}

export class RelaySession {
  readonly conn: KiteServerConnection;
  client: RelayClient;
  /** token -> mode rank. */
  readonly modes = new Map<number, number>();

  // Dispatcher scratch, valid while `epoch` equals the dispatcher's.
  epoch = 0;
  picked = 0;
  bytes = 0;
  /** Requested rank shared by every picked packet, or -1 when they differ. */
  uniform = -1;
  picks: Int32Array = new Int32Array(16);
  ranks: Int8Array = new Int8Array(16);

  /** Its socket is corked until the end of this event-loop turn (RelaySource batches the writes). */
  corked = false;

  // Outbox.
  readonly #queue: Uint8Array[] = [];
  readonly #queuedAt: number[] = [];
  readonly #packets: number[] = [];
  #head = 0;
  queuedBytes = 0;
  /** Epoch ms since which the queue has not been empty (0: empty). */
  backlogSince = 0;

  // Stats.
  framesSent = 0;
  ticksSent = 0;
  droppedFrames = 0;
  droppedTicks = 0;
  refusedCommands = 0;

  constructor(conn: KiteServerConnection, client: RelayClient) {
    this.conn = conn;
    this.client = client;
  }

  /** Makes room for `n` picks in the scratch arrays. */
  reserve(n: number): void {
    if (this.picks.length >= n) return;
    const size = Math.max(n, this.picks.length * 2);
    this.picks = new Int32Array(size);
    this.ranks = new Int8Array(size);
  }

  get queuedFrames(): number {
    return this.#queue.length - this.#head;
  }

  /** Age in ms of the oldest frame waiting here (0 when none waits). */
  lagMs(now: number): number {
    return this.queuedFrames === 0 ? 0 : now - this.#queuedAt[this.#head]!;
  }

  /** Queues a tick frame, dropping the oldest waiting ones past the soft limit. */
  enqueue(frame: Uint8Array, packets: number, now: number, softBytes: number): void {
    this.#queue.push(frame);
    this.#queuedAt.push(now);
    this.#packets.push(packets);
    this.queuedBytes += frame.byteLength;
    if (this.queuedFrames === 1) this.backlogSince = now; // the queue was empty: the backlog starts
    const buffered = this.conn.ws.bufferedAmount;
    // The newest frame always stays: it is the freshest snapshot the client can get.
    while (this.queuedFrames > 1 && buffered + this.queuedBytes > softBytes) {
      const old = this.#shift()!;
      this.droppedFrames++;
      this.droppedTicks += old.packets;
    }
  }

  /** The oldest waiting frame, removed. */
  #shift(): { frame: Uint8Array; packets: number } | undefined {
    if (this.queuedFrames === 0) return undefined;
    const frame = this.#queue[this.#head]!;
    const packets = this.#packets[this.#head]!;
    this.#head++;
    this.queuedBytes -= frame.byteLength;
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#queuedAt.splice(0, this.#head);
      this.#packets.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.queuedFrames === 0) {
      this.#queue.length = 0;
      this.#queuedAt.length = 0;
      this.#packets.length = 0;
      this.#head = 0;
      this.backlogSince = 0;
    }
    return { frame, packets };
  }

  /** Hands waiting frames to `send` while the socket's buffer is under `lowWater`; true when empty. */
  drain(lowWater: number, send: (frame: Uint8Array, packets: number) => void): boolean {
    while (this.queuedFrames > 0 && this.conn.ws.bufferedAmount < lowWater) {
      const next = this.#shift()!;
      send(next.frame, next.packets);
    }
    return this.queuedFrames === 0;
  }

  /** Forgets every waiting frame (the socket closed). */
  clear(): void {
    this.#queue.length = 0;
    this.#queuedAt.length = 0;
    this.#packets.length = 0;
    this.#head = 0;
    this.queuedBytes = 0;
    this.backlogSince = 0;
  }
}
