/**
 * The relay's frame source for the Kite front end (src/kite-server): it vets each applied client
 * command against the client's limits (instruments, modes), keeps the interest table and the upstream
 * in step, delivers dispatched frames through each session's outbox, and routes upstream text frames.
 * Nothing here throws into a socket callback: every entry point is called by the front end, which
 * already guards them, and errors of upstream calls come back as Kite error frames.
 */
import type { Duplex } from 'node:stream';
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { KiteFrameSender, KiteFrameSource, SubscriptionChange } from '../kite-server/types.js';
import type { Logger } from '../logger.js';
import type { ClientTable } from './clients.js';
import { Interest } from './interest.js';
import { modeOf, rankOf } from './modes.js';
import { type OutboxLimits, RelaySession } from './session.js';
import type { Upstream } from './upstream.js';

/** How often backlogged clients are drained and checked for the slow-client timeout. */
export const DRAIN_INTERVAL_MS = 10;

export interface RelaySourceOptions extends OutboxLimits {
  clients: ClientTable;
  logger: Logger;
  /** Closes a session's socket with a reason (the front end's detach). */
  disconnect(conn: KiteServerConnection, code: number, reason: string): void;
}

export class RelaySource implements KiteFrameSource {
  readonly #sender: KiteFrameSender;
  readonly #o: RelaySourceOptions;
  readonly interest = new Interest<RelaySession>();
  readonly sessions = new Map<number, RelaySession>();
  /** Instruments held per client id across its sockets. */
  readonly #usage = new Map<string, number>();
  readonly #backlog = new Set<RelaySession>();
  #drainTimer: NodeJS.Timeout | undefined;
  /** Sessions whose socket was corked this turn (uncorked together by #flush). */
  readonly #corked: RelaySession[] = [];
  #flushing: NodeJS.Immediate | undefined;
  readonly #flush = (): void => {
    if (this.#flushing) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    const corked = this.#corked;
    for (let i = 0; i < corked.length; i++) {
      const s = corked[i]!;
      s.corked = false;
      (s.conn.socket as Duplex).uncork();
    }
    corked.length = 0;
  };
  upstream: Upstream | undefined;
  /** Sessions closed for being too slow. */
  slowDisconnects = 0;
  /** Totals of sessions already closed, so relay totals never go down. */
  closedDroppedFrames = 0;

  constructor(sender: KiteFrameSender, options: RelaySourceOptions) {
    this.#sender = sender;
    this.#o = options;
  }

  attach(conn: KiteServerConnection): void {
    const client = this.#o.clients.get(conn.apiKey);
    if (!client) {
      // The table changed between the upgrade and now.
      this.#o.disconnect(conn, 1008, 'client credentials changed');
      return;
    }
    this.sessions.set(conn.id, new RelaySession(conn, client));
  }

  detach(conn: KiteServerConnection): void {
    const s = this.sessions.get(conn.id);
    if (!s) return;
    this.sessions.delete(conn.id);
    this.#backlog.delete(s);
    this.closedDroppedFrames += s.droppedFrames;
    s.clear();
    const tokens = [...s.modes.keys()];
    for (const t of tokens) this.interest.delete(t, s);
    this.#use(s.client.id, -tokens.length);
    s.modes.clear();
    void this.upstream?.sync(tokens);
  }

  busy(conn: KiteServerConnection): boolean {
    // A backlogged client has frames waiting: a heartbeat would only join the queue.
    return (this.sessions.get(conn.id)?.queuedFrames ?? 0) > 0;
  }

  changed(conn: KiteServerConnection, change: SubscriptionChange): void {
    const s = this.sessions.get(conn.id);
    if (!s || change.tokens.length === 0) return;
    const client = s.client;
    const subs = conn.subscriptions;
    if (change.action === 'unsubscribe') {
      for (const t of change.tokens) {
        s.modes.delete(t);
        this.interest.delete(t, s);
      }
      this.#use(client.id, -change.tokens.length);
      void this.upstream?.sync(change.tokens);
      return;
    }
    if (change.action === 'mode') {
      if (!client.modes.has(change.mode)) {
        // Undo what the front end applied: the client keeps its previous modes.
        for (const t of change.tokens) subs.set(t, modeOf(s.modes.get(t) ?? rankOf(client.subscribeMode)));
        this.#refuse(
          s,
          `mode ${change.mode} is not allowed for this client (allowed: ${[...client.modes].join(', ')})`,
        );
        return;
      }
      const rank = rankOf(change.mode);
      for (const t of change.tokens) {
        s.modes.set(t, rank);
        this.interest.set(t, s, rank);
      }
      void this.upstream?.sync(change.tokens);
      return;
    }
    // subscribe: within the client's instrument limit, in its subscribe mode.
    const used = this.#usage.get(client.id) ?? 0;
    const room = Math.max(0, client.maxInstruments - used);
    const taken = change.tokens.length <= room ? change.tokens : change.tokens.slice(0, room);
    for (let i = taken.length; i < change.tokens.length; i++) subs.delete(change.tokens[i]!);
    if (taken.length < change.tokens.length) {
      this.#refuse(
        s,
        `max tokens exceeded: ${change.tokens.length - taken.length} token(s) not subscribed (${refusedList(change.tokens.slice(taken.length, taken.length + MAX_LISTED), change.tokens.length - taken.length)}), this client can subscribe at most ${client.maxInstruments} instruments`,
      );
    }
    const rank = rankOf(client.subscribeMode);
    for (const t of taken) {
      if (client.subscribeMode !== 'quote') subs.set(t, client.subscribeMode);
      s.modes.set(t, rank);
      this.interest.set(t, s, rank);
    }
    this.#use(client.id, taken.length);
    void this.upstream?.sync(taken);
  }

  /** The upstream refused a subscribe: the tokens leave every session that wanted them, each told why. */
  refused(tokens: readonly number[], error: Error): void {
    const told = new Map<RelaySession, { n: number; first: number[] }>();
    for (const t of tokens) {
      const subs = this.interest.subscribers(t);
      if (!subs) continue;
      for (const s of [...subs.keys()]) {
        s.modes.delete(t);
        s.conn.subscriptions.delete(t);
        this.interest.delete(t, s);
        this.#use(s.client.id, -1);
        const seen = told.get(s) ?? { n: 0, first: [] };
        seen.n++;
        if (seen.first.length < MAX_LISTED) seen.first.push(t); // the message stays bounded
        told.set(s, seen);
      }
    }
    for (const [s, { n, first }] of told) {
      this.#refuse(
        s,
        `${n} token(s) not subscribed (${refusedList(first, n)}): the relay's upstream refused them (${error.message})`,
      );
    }
  }

  #refuse(s: RelaySession, message: string): void {
    s.refusedCommands++;
    this.#sender.sendError(s.conn, message);
  }

  #use(id: string, delta: number): void {
    const n = (this.#usage.get(id) ?? 0) + delta;
    if (n <= 0) this.#usage.delete(id);
    else this.#usage.set(id, n);
  }

  // ---------------------------------------------------------------- delivery (the outbox)

  /** One dispatched frame for one session: sent now, queued, or (past the limits) dropped. */
  deliver(s: RelaySession, frame: Uint8Array, packets: number): void {
    const now = Date.now();
    const conn = s.conn;
    if (!this.#sender.canSend(conn, now)) return;
    const buffered = conn.ws.bufferedAmount;
    if (buffered > this.#o.hardBytes) {
      this.#slow(s, `send buffer over ${this.#o.hardBytes} bytes`);
      return;
    }
    if (s.queuedFrames === 0 && buffered < this.#o.softBytes / 2) {
      this.#send(s, frame, packets, now);
      return;
    }
    s.enqueue(frame, packets, now, this.#o.softBytes);
    this.#backlog.add(s);
    this.#armDrain();
  }

  #send(s: RelaySession, frame: Uint8Array, packets: number, now: number): void {
    this.#cork(s);
    this.#sender.sendShared(s.conn, frame, now);
    s.conn.framesSent++;
    s.conn.ticksSent += packets;
    s.framesSent++;
    s.ticksSent += packets;
  }

  /**
   * A client's frames of one event-loop turn leave in one socket write: its socket stays corked until
   * the turn's I/O is done (setImmediate runs after the poll phase, so frames of every upstream
   * socket read in this turn are included). Each frame is still its own WebSocket message; only the
   * syscalls are shared (one write per frame per client was a third of the relay's busy time).
   * bufferedAmount still counts the corked bytes, so the outbox limits see them.
   */
  #cork(s: RelaySession): void {
    const socket = s.conn.socket;
    if (socket === undefined || s.corked) return;
    s.corked = true;
    socket.cork();
    this.#corked.push(s);
    this.#flushing ??= setImmediate(this.#flush);
  }

  #slow(s: RelaySession, why: string): void {
    this.slowDisconnects++;
    this.#backlog.delete(s);
    this.#o.logger.warn(
      { connectionId: s.conn.id, client: s.client.id, why },
      'relay: slow client disconnected',
    );
    // 1008 policy violation: the close reason says which limit (at most 123 bytes).
    this.#o.disconnect(s.conn, 1008, `too slow: ${why}`.slice(0, 120));
  }

  #armDrain(): void {
    if (this.#drainTimer) return;
    this.#drainTimer = setInterval(() => this.#drainAll(), DRAIN_INTERVAL_MS);
    this.#drainTimer.unref?.();
  }

  #drainAll(): void {
    const now = Date.now();
    const lowWater = this.#o.softBytes / 2;
    for (const s of [...this.#backlog]) {
      if (!s.conn.open) {
        this.#backlog.delete(s);
        continue;
      }
      if (s.drain(lowWater, (f, p) => this.#send(s, f, p, now))) {
        this.#backlog.delete(s);
      } else if (now - s.backlogSince > this.#o.slowClientTimeoutMs) {
        this.#slow(s, `backlogged for over ${this.#o.slowClientTimeoutMs} ms`);
      } else if (s.conn.ws.bufferedAmount > this.#o.hardBytes) {
        this.#slow(s, `send buffer over ${this.#o.hardBytes} bytes`);
      }
    }
    if (this.#backlog.size === 0 && this.#drainTimer) {
      clearInterval(this.#drainTimer);
      this.#drainTimer = undefined;
    }
  }

  // ---------------------------------------------------------------- text frames

  /** An upstream order postback (or broker message) to every session entitled to `apiKeyId`. */
  sendText(kind: 'order' | 'message', data: unknown, apiKeyId: string): void {
    const text = JSON.stringify({ type: kind, data });
    for (const s of this.sessions.values()) {
      const orders = s.client.orders;
      if (orders === undefined || orders.has(apiKeyId)) this.#sender.sendText(s.conn, text);
    }
  }

  /** Stops the drain timer; nothing waiting is sent any more. */
  stop(): void {
    this.#flush();
    if (this.#drainTimer) clearInterval(this.#drainTimer);
    this.#drainTimer = undefined;
    for (const s of this.#backlog) s.clear();
    this.#backlog.clear();
  }
}

/** Refused tokens named in an error frame: the first ones, then a count, so the frame stays small. */
const MAX_LISTED = 50;

/** `first` (at most MAX_LISTED shown) of `total` refused tokens: "1, 2, 3" or "1, 2, ... and 7 more". */
export function refusedList(first: readonly number[], total: number): string {
  const shown = first.slice(0, MAX_LISTED);
  return total > shown.length ? `${shown.join(', ')} and ${total - shown.length} more` : shown.join(', ');
}
