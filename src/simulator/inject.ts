/**
 * Support for `KiteSimulator.injectFrame`: splitting a ready-made binary frame (for instance one read
 * from a recording) into its packets once, then, per connection, keeping only the packets of the tokens
 * that connection subscribes, as Kite would. The packet index is reused from frame to frame, so a frame
 * that every target subscribes in full is forwarded without any allocation.
 */
import { InvalidArgumentError } from '../errors.js';
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { KiteProtocolServer } from '../kite-server/server.js';
import type { Mode } from '../protocol/constants.js';

/** Where a frame should go: a connection id, every socket of one API key, or every socket. */
export type InjectTarget = number | { apiKey: string } | 'all';

export interface InjectFrameOptions {
  /**
   * Binary frames only: send each connection only the packets of tokens it subscribes (a new frame when
   * some packets are left out; nothing when none is left). A frame that cannot be parsed in full keeps
   * the packets before the damage. Default false: the bytes are sent exactly as given.
   */
  subscribedOnly?: boolean;
}

/** Offsets of the packets of one frame; valid until the next `index()`. */
export class FramePacketIndex {
  /** Per packet: offset of its 2-byte length prefix in the frame. */
  private offsets = new Uint32Array(64);
  private lengths = new Uint16Array(64);
  private tokens = new Uint32Array(64);
  count = 0;
  private frame: Uint8Array = new Uint8Array(0);

  /**
   * Reads `N + (length, packet)*`. Packets after a length running past the end, or shorter than a token
   * (4 bytes), are ignored: they could not be decoded by a client either.
   */
  index(frame: Uint8Array): this {
    this.frame = frame;
    this.count = 0;
    if (frame.byteLength < 2) return this;
    const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const declared = view.getUint16(0);
    this.ensure(declared);
    let at = 2;
    for (let i = 0; i < declared; i++) {
      if (at + 2 > frame.byteLength) break;
      const length = view.getUint16(at);
      if (length < 4 || at + 2 + length > frame.byteLength) break;
      this.offsets[this.count] = at;
      this.lengths[this.count] = length;
      this.tokens[this.count] = view.getUint32(at + 2);
      this.count++;
      at += 2 + length;
    }
    return this;
  }

  /**
   * The frame restricted to tokens in `subscriptions`: the original bytes when every packet is kept
   * (and the frame had no unreadable part), undefined when none is, else a new frame. `kept` reports the
   * packet count.
   */
  select(subscriptions: ReadonlyMap<number, Mode>, kept: { packets: number }): Uint8Array | undefined {
    let n = 0;
    let bytes = 2;
    for (let i = 0; i < this.count; i++) {
      if (subscriptions.has(this.tokens[i]!)) {
        n++;
        bytes += 2 + this.lengths[i]!;
      }
    }
    kept.packets = n;
    if (n === 0) return undefined;
    const frame = this.frame;
    if (n === this.count && bytes === frame.byteLength) return frame;
    const out = new Uint8Array(bytes);
    out[0] = n >>> 8;
    out[1] = n & 0xff;
    let at = 2;
    for (let i = 0; i < this.count; i++) {
      if (!subscriptions.has(this.tokens[i]!)) continue;
      const start = this.offsets[i]!;
      const end = start + 2 + this.lengths[i]!;
      out.set(frame.subarray(start, end), at);
      at += end - start;
    }
    return out;
  }

  private ensure(n: number): void {
    if (this.offsets.length >= n) return;
    let size = this.offsets.length;
    while (size < n) size *= 2;
    this.offsets = new Uint32Array(size);
    this.lengths = new Uint16Array(size);
    this.tokens = new Uint32Array(size);
  }
}

/** `KiteSimulator.injectFrame`: sends ready-made frames through the front end. */
export class FrameInjector {
  readonly #front: KiteProtocolServer;
  readonly #index = new FramePacketIndex();
  readonly #kept = { packets: 0 };
  readonly #textDecoder = new TextDecoder();

  constructor(front: KiteProtocolServer) {
    this.#front = front;
  }

  /** See KiteSimulator.injectFrame. Returns the number of sockets the frame was handed to. */
  inject(
    target: InjectTarget,
    frame: Uint8Array,
    kind: 'binary' | 'text',
    options: InjectFrameOptions,
  ): number {
    if (!(frame instanceof Uint8Array))
      throw new InvalidArgumentError('injectFrame: frame must be a Uint8Array');
    if (kind !== 'binary' && kind !== 'text') {
      throw new InvalidArgumentError(`injectFrame: kind must be 'binary' or 'text', got ${String(kind)}`);
    }
    const front = this.#front;
    // 'all' iterates the live map (no copy per frame): sending never adds or removes connections.
    const targets: Iterable<KiteServerConnection> =
      target === 'all' ? front.connections() : front.find(target);
    if (kind === 'text') {
      const text = this.#textDecoder.decode(frame);
      let sent = 0;
      for (const conn of targets) {
        if (!front.canSend(conn, Date.now())) continue;
        front.sendText(conn, text);
        sent++;
      }
      return sent;
    }
    const now = Date.now();
    const filter = options.subscribedOnly === true && frame.byteLength >= 2;
    const index = filter ? this.#index.index(frame) : undefined;
    const declared = frame.byteLength >= 2 ? (frame[0]! << 8) | frame[1]! : 0;
    let sent = 0;
    for (const conn of targets) {
      if (!front.canSend(conn, now) || front.isSlow(conn)) continue;
      let out: Uint8Array | undefined = frame;
      let packets = declared;
      if (index) {
        out = index.select(conn.subscriptions, this.#kept);
        packets = this.#kept.packets;
        if (out === undefined) continue;
      }
      // Shared, not sendBinary: an injected frame may go to several sockets, so it is never stamped.
      front.sendShared(conn, out, now);
      if (packets > 0) {
        conn.framesSent++;
        conn.ticksSent += packets;
      } else if (out.byteLength < 2) {
        conn.heartbeatsSent++;
      }
      sent++;
    }
    return sent;
  }
}
