/**
 * Blast mode (benchmarks): each subscribed socket is kept fed with pre-encoded full frames of its
 * instruments, cycled, as fast as it drains, bounded by queued bytes and by frames awaiting their write
 * callback. The frames are shared by every send, so they go out unstamped and unchanged.
 */
import type { KiteFrameSender } from '../kite-server/types.js';
import type { FeedConnection } from './connection.js';
import { FrameBuilder } from './frames.js';
import type { Market } from './market.js';

/** Blast mode keeps at most this many bytes queued per socket... */
const BLAST_HIGH_WATER = 4 * 1024 * 1024;
/** ...and at most this many frames awaiting their write callback. */
const BLAST_MAX_INFLIGHT = 64;
/** Distinct pre-encoded frames per connection in blast mode (they are cycled). */
const BLAST_MAX_FRAMES = 64;

export class Blast {
  readonly #market: Market;
  readonly #front: KiteFrameSender;
  readonly #packetsPerFrame: number;

  constructor(market: Market, front: KiteFrameSender, packetsPerFrame: number) {
    this.#market = market;
    this.#front = front;
    this.#packetsPerFrame = packetsPerFrame;
  }

  /** Keeps the socket fed, up to the bounds. */
  pump(fc: FeedConnection): void {
    const front = this.#front;
    const conn = fc.conn;
    const now = Date.now();
    if (!front.canSend(conn, now)) return;
    const frames = fc.blastFrames ?? this.#build(fc);
    if (frames.length === 0) return;
    const ws = conn.ws;
    while (fc.blastInflight < BLAST_MAX_INFLIGHT && ws.bufferedAmount < BLAST_HIGH_WATER) {
      const k = fc.blastNext;
      fc.blastNext = k + 1 >= frames.length ? 0 : k + 1;
      fc.blastInflight++;
      front.sendShared(conn, frames[k]!, now, fc.onBlastWritten);
      conn.framesSent++;
      conn.ticksSent += fc.blastPackets[k]!;
    }
  }

  /** The subscriptions changed: the frames are rebuilt and the socket fed. */
  changed(fc: FeedConnection): void {
    fc.blastFrames = undefined;
    this.pump(fc);
  }

  /** On each heartbeat check: a subscribed socket is never idle, and one whose writes all finished is fed. */
  busy(fc: FeedConnection): boolean {
    if (fc.conn.subscriptions.size === 0) return false;
    if (fc.blastInflight === 0 && !fc.blastScheduled) this.pump(fc);
    return true;
  }

  #build(fc: FeedConnection): Buffer[] {
    const indices: number[] = [];
    for (const bucket of fc.buckets) for (const i of bucket.keys()) indices.push(i);
    const frames: Buffer[] = [];
    fc.blastPackets = [];
    fc.blastNext = 0;
    if (indices.length > 0) {
      const per = this.#packetsPerFrame;
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
          fc.blastPackets.push(frame.readUInt16BE(0));
        }
      }
    }
    fc.blastFrames = frames;
    return frames;
  }
}
