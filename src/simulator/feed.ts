/**
 * The market as the front end's frame source: which instruments are subscribed where, when each moves,
 * and each connection's frame per batch. One timer drives it: every `batchIntervalMs` it advances the
 * instruments due in this step and builds each connection one binary frame of its due tokens, sent at
 * once or at the connection's stagger offset (stagger.ts). Blast mode replaces the frames (blast.ts).
 */
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { KiteFrameSender, KiteFrameSource, SubscriptionChange } from '../kite-server/types.js';
import type { Mode } from '../protocol/constants.js';
import { Blast } from './blast.js';
import { FeedConnection } from './connection.js';
import { FrameBuilder } from './frames.js';
import type { Market } from './market.js';
import type { ResolvedSimulatorOptions } from './options.js';
import { hash4 } from './random.js';
import { staggerOffsetMs } from './stagger.js';

export class MarketFeed implements KiteFrameSource {
  readonly #market: Market;
  readonly #o: ResolvedSimulatorOptions;
  readonly #front: KiteFrameSender;
  readonly #blast: Blast | undefined;
  readonly #feeds = new Map<number, FeedConnection>();

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
  #stepTimer: NodeJS.Timeout | undefined;
  readonly #builderPool: FrameBuilder[] = [];
  readonly #builderPairs: Array<[FeedConnection, FrameBuilder]> = [];

  constructor(market: Market, options: ResolvedSimulatorOptions, front: KiteFrameSender) {
    this.#market = market;
    this.#front = front;
    this.#o = options;
    const perBatch = (options.ticksPerSecond * options.batchMs) / 1000;
    this.#phases = perBatch >= 1 ? 1 : Math.min(0xffff, Math.max(1, Math.round(1 / perBatch)));
    this.#perBatch = Math.max(perBatch, 1);
    const n = market.size;
    this.#refs = new Uint32Array(n);
    this.#phaseOf = new Uint16Array(n);
    for (let i = 0; i < n; i++)
      this.#phaseOf[i] = hash4(options.seed, market.token[i]!, 0, 99) % this.#phases;
    this.#active = Array.from({ length: this.#phases }, () => new Set<number>());
    this.#blast =
      options.blastPacketsPerFrame > 0 ? new Blast(market, front, options.blastPacketsPerFrame) : undefined;
  }

  /** Starts the step timer; without market ticks (a replay server) there is nothing to step. */
  start(): void {
    if (!this.#o.marketTicks || this.#stepTimer) return;
    this.#stepTimer = setInterval(() => this.#step(), this.#o.batchMs);
    this.#stepTimer.unref();
  }

  stop(): void {
    if (this.#stepTimer) clearInterval(this.#stepTimer);
    this.#stepTimer = undefined;
  }

  // ---------------------------------------------------------------- KiteFrameSource

  attach(conn: KiteServerConnection): void {
    const o = this.#o;
    const fc = new FeedConnection(
      conn,
      this.#phases,
      staggerOffsetMs(o.stagger, o.seed, conn.id, o.batchMs),
      (c) => this.#blast?.pump(c),
      (c) => this.#flushDeferred(c),
    );
    this.#feeds.set(conn.id, fc);
  }

  changed(conn: KiteServerConnection, change: SubscriptionChange): void {
    const fc = this.#feeds.get(conn.id);
    if (!fc) return;
    const market = this.#market;
    for (const token of change.tokens) {
      const i = market.indexOf(token);
      if (i < 0) continue; // Kite does not validate tokens: unknown ones just never tick
      const bucket = fc.buckets[this.#phaseOf[i]!]!;
      if (change.action === 'unsubscribe') {
        bucket.delete(i);
        fc.pending.delete(i);
        this.#unref(i);
      } else {
        bucket.set(i, change.mode);
        fc.pending.set(i, change.mode);
        if (change.action === 'subscribe') this.#ref(i);
      }
    }
    this.#blast?.changed(fc);
  }

  detach(conn: KiteServerConnection): void {
    const fc = this.#feeds.get(conn.id);
    if (!fc) return;
    this.#feeds.delete(conn.id);
    for (const bucket of fc.buckets) for (const i of bucket.keys()) this.#unref(i);
    fc.clear();
  }

  busy(conn: KiteServerConnection): boolean {
    const fc = this.#blast ? this.#feeds.get(conn.id) : undefined;
    return fc !== undefined && this.#blast!.busy(fc);
  }

  /** The first instrument (index, mode) the connection subscribes, by phase; [0, 'ltp'] for none. */
  firstSubscribed(conn: KiteServerConnection): [number, Mode] {
    const fc = this.#feeds.get(conn.id);
    for (const bucket of fc?.buckets ?? []) {
      const first = bucket.entries().next();
      if (!first.done) return first.value;
    }
    return [0, 'ltp'];
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

  // ---------------------------------------------------------------- the step

  /** One batch: advance the instruments due now, then send each connection its due tokens. */
  #step(): void {
    const front = this.#front;
    // Frames of the last step still wait only when their timers ran late (a slow step, a busy machine):
    // they go out before the market moves, so a frame always carries the state as of its sending (what
    // `snapshot()` says) and each socket's frames stay in step order.
    if (this.#o.stagger === 'spread')
      for (const fc of this.#feeds.values()) if (fc.deferTimer) this.#flushDeferred(fc);
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
    const builders = this.#builders(front, now);
    const fresh = this.#fresh;
    for (let r = 0; r < repeats; r++) {
      if (r === 0 && fresh.size > 0) {
        for (const i of due) if (!fresh.has(i)) market.advance(i, nowSec);
      } else {
        for (const i of due) market.advance(i, nowSec);
      }
      for (const [fc, builder] of builders) {
        const bucket = fc.buckets[phase]!;
        for (const [i, mode] of bucket) builder.append(market, i, mode);
      }
    }
    for (const [fc, builder] of builders) {
      // Snapshots of newly subscribed / re-moded tokens that did not tick in this step anyway.
      if (fc.pending.size > 0) {
        for (const [i, mode] of fc.pending) if (this.#phaseOf[i] !== phase) builder.append(market, i, mode);
        fc.pending.clear();
      }
      const packets = builder.packets;
      if (packets === 0) continue;
      const frames = builder.take();
      if (fc.staggerMs > 0) {
        // Built now (the market moves once per interval for everyone), sent at the connection's offset.
        fc.deferred = frames;
        fc.deferredPackets = packets;
        fc.deferTimer = setTimeout(fc.onDeferredDue, fc.staggerMs);
        fc.deferTimer.unref();
      } else {
        front.sendTicks(fc.conn, frames, packets, now);
      }
    }
    fresh.clear();
  }

  /** Sends a connection's deferred frames now (its offset came, or the next step needs the slot). */
  #flushDeferred(fc: FeedConnection): void {
    if (fc.deferTimer) clearTimeout(fc.deferTimer);
    fc.deferTimer = undefined;
    const frames = fc.deferred;
    const packets = fc.deferredPackets;
    fc.deferred = [];
    fc.deferredPackets = 0;
    if (frames.length === 0) return;
    const front = this.#front;
    const now = Date.now();
    // A socket that closed, stalled or backed up meanwhile skips this step: ticks are snapshots.
    if (!front.canSend(fc.conn, now) || front.isSlow(fc.conn)) return;
    front.sendTicks(fc.conn, frames, packets, now);
  }

  /** Reused (connection, builder) pairs for the connections that can receive ticks now. */
  #builders(front: KiteFrameSender, now: number): Array<[FeedConnection, FrameBuilder]> {
    const pairs = this.#builderPairs;
    pairs.length = 0;
    if (this.#blast) return pairs;
    let n = 0;
    for (const fc of this.#feeds.values()) {
      if (!front.canSend(fc.conn, now) || front.isSlow(fc.conn)) continue;
      let b = this.#builderPool[n];
      if (!b) {
        b = new FrameBuilder();
        this.#builderPool.push(b);
      }
      pairs.push([fc, b]);
      n++;
    }
    return pairs;
  }
}
