/**
 * Frame assembly for the simulator: a growable scratch buffer per builder that packets are written into
 * with the codec's writeTick (via Market.write), then copied out to an exact-size Buffer per frame.
 *
 * Why copy: `ws` hands the Buffer given to `send` to the socket without copying, and a socket that is
 * backed up keeps a reference until it drains, so a reused buffer could be overwritten before it is
 * sent. One memcpy per frame is cheap; one object per tick is not.
 */
import type { Mode } from '../protocol/constants.js';
import type { Market } from './market.js';

/** The protocol's N is a uint16: more packets than this are split over several frames. */
export const MAX_PACKETS_PER_FRAME = 0xffff;
/** 2-byte length prefix + the largest packet (184). */
const MAX_PACKET_BYTES = 186;

export class FrameBuilder {
  #buf: Buffer;
  #view: DataView;
  #pos = 2;
  #count = 0;
  #done: Buffer[] = [];
  #packets = 0;

  constructor(initialBytes = 64 * 1024) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
    this.#view = new DataView(this.#buf.buffer, this.#buf.byteOffset, this.#buf.byteLength);
  }

  /** Packets appended since the last `take()`. */
  get packets(): number {
    return this.#packets;
  }

  append(market: Market, index: number, mode: Mode): void {
    if (this.#count === MAX_PACKETS_PER_FRAME) this.#seal();
    if (this.#pos + MAX_PACKET_BYTES > this.#buf.byteLength) this.#grow(this.#pos + MAX_PACKET_BYTES);
    const written = market.write(this.#view, this.#pos + 2, index, mode);
    this.#view.setUint16(this.#pos, written);
    this.#pos += 2 + written;
    this.#count++;
    this.#packets++;
  }

  /** The finished frames (fresh Buffers), resetting the builder; empty when nothing was appended. */
  take(): Buffer[] {
    this.#seal();
    const out = this.#done;
    this.#done = [];
    this.#packets = 0;
    return out;
  }

  #seal(): void {
    if (this.#count === 0) return;
    this.#view.setUint16(0, this.#count);
    this.#done.push(Buffer.from(this.#buf.subarray(0, this.#pos)));
    this.#pos = 2;
    this.#count = 0;
  }

  #grow(needed: number): void {
    const next = Buffer.allocUnsafe(Math.max(needed, this.#buf.byteLength * 2));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }
}
