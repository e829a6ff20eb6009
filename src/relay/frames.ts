/**
 * Splits one upstream binary frame into its packets (offsets only, nothing copied) and assembles a
 * client's frame from a chosen subset of them, each cut to the client's mode. Assembly copies packet
 * bytes once into one buffer per frame; a client taking the whole frame unchanged gets the upstream
 * buffer itself.
 */
import { cutLength, packetRank } from './modes.js';

/** The packets of one frame, as parallel arrays reused from frame to frame (no allocation per packet). */
export class PacketIndex {
  count = 0;
  /** Offset of each packet body (after its length prefix) in the frame. */
  body: Int32Array = new Int32Array(64);
  length: Int32Array = new Int32Array(64);
  token: Float64Array = new Float64Array(64);
  /** Mode rank each packet carries (-1: unknown length, passed through only whole). */
  rank: Int8Array = new Int8Array(64);

  /**
   * Reads `frame`'s packet table. Returns false (and indexes nothing) for a heartbeat or a frame whose
   * table runs past its end: such frames are never forwarded.
   */
  read(frame: Uint8Array): boolean {
    this.count = 0;
    if (frame.byteLength < 2) return false;
    const n = (frame[0]! << 8) | frame[1]!;
    this.#ensure(n);
    let off = 2;
    for (let i = 0; i < n; i++) {
      if (off + 2 > frame.byteLength) return false;
      const len = (frame[off]! << 8) | frame[off + 1]!;
      const body = off + 2;
      if (len < 4 || body + len > frame.byteLength) return false;
      this.body[i] = body;
      this.length[i] = len;
      this.token[i] =
        frame[body]! * 0x1000000 + ((frame[body + 1]! << 16) | (frame[body + 2]! << 8) | frame[body + 3]!);
      this.rank[i] = packetRank(len);
      off = body + len;
    }
    this.count = n;
    return true;
  }

  #ensure(n: number): void {
    if (this.body.length >= n) return;
    const size = Math.max(n, this.body.length * 2);
    this.body = new Int32Array(size);
    this.length = new Int32Array(size);
    this.token = new Float64Array(size);
    this.rank = new Int8Array(size);
  }
}

/**
 * Builds a frame of the packets `picks[0..count)` (indexes into `index`), each cut to `ranks[i]`.
 * `bytes` is the sum of the cut lengths plus their 2-byte prefixes.
 */
export function assembleFrame(
  frame: Uint8Array,
  index: PacketIndex,
  picks: ArrayLike<number>,
  ranks: ArrayLike<number>,
  count: number,
  bytes: number,
): Buffer {
  const out = Buffer.allocUnsafe(2 + bytes);
  out[0] = count >>> 8;
  out[1] = count & 0xff;
  let off = 2;
  for (let i = 0; i < count; i++) {
    const p = picks[i]!;
    const body = index.body[p]!;
    const len = index.rank[p]! < 0 ? index.length[p]! : cutLength(index.length[p]!, ranks[i]!);
    out[off] = len >>> 8;
    out[off + 1] = len & 0xff;
    out.set(frame.subarray(body, body + len), off + 2);
    off += 2 + len;
  }
  return out;
}

/** The whole frame with every packet cut to `rank`, or `frame` itself when nothing needs cutting. */
export function frameAtRank(frame: Uint8Array, index: PacketIndex, rank: number): Uint8Array {
  let bytes = 0;
  let cut = false;
  const picks = new Int32Array(index.count);
  const ranks = new Int8Array(index.count).fill(rank);
  for (let i = 0; i < index.count; i++) {
    picks[i] = i;
    const len = index.length[i]!;
    const c = index.rank[i]! < 0 ? len : cutLength(len, rank);
    if (c !== len) cut = true;
    bytes += 2 + c;
  }
  return cut ? assembleFrame(frame, index, picks, ranks, index.count, bytes) : frame;
}
