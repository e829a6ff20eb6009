/**
 * Deliberately malformed frames for `corruptConnection`: each breaks one rule a robust decoder must
 * survive (kite-protocol.md 4.1, 4.3): a count that lies, a packet that runs past the end of the frame,
 * a packet of a length no layout has, text that is not JSON, and random bytes.
 */
import type { Mode } from '../protocol/constants.js';
import type { Market } from './market.js';
import type { Rng } from './random.js';
import type { CorruptionKind } from './types.js';

export const CORRUPTION_KINDS: readonly CorruptionKind[] = [
  'lying_count',
  'truncated_packet',
  'unknown_length',
  'garbage_text',
  'garbage_binary',
];

/** One valid packet (with its length prefix) of instrument `index` in `mode`. */
function packet(market: Market, index: number, mode: Mode): Buffer {
  const body = Buffer.alloc(184);
  const n = market.write(new DataView(body.buffer, body.byteOffset, body.byteLength), 0, index, mode);
  const out = Buffer.alloc(2 + n);
  out.writeUInt16BE(n, 0);
  body.copy(out, 2, 0, n);
  return out;
}

function randomBytes(rng: Rng, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextU32() & 0xff;
  return out;
}

/**
 * Builds the bad frame of `kind`. `index`/`mode` choose a real instrument whose valid packets surround
 * the bad part, so a decoder that recovers correctly still delivers them.
 */
export function corruptFrame(
  kind: CorruptionKind,
  market: Market,
  index: number,
  mode: Mode,
  rng: Rng,
): Uint8Array | string {
  switch (kind) {
    case 'lying_count': {
      // Header says 3 more packets than the frame holds.
      const p = packet(market, index, mode);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(1 + 3, 0);
      return Buffer.concat([head, p]);
    }
    case 'truncated_packet': {
      // A valid packet, then a length prefix of 184 followed by only 40 bytes.
      const p = packet(market, index, mode);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(2, 0);
      const bad = Buffer.alloc(2 + 40);
      bad.writeUInt16BE(184, 0);
      randomBytes(rng, 40).copy(bad, 2);
      return Buffer.concat([head, p, bad]);
    }
    case 'unknown_length': {
      // A 13-byte packet (no layout has 13 bytes) between two valid ones.
      const p = packet(market, index, mode);
      const head = Buffer.alloc(2);
      head.writeUInt16BE(3, 0);
      const bad = Buffer.alloc(2 + 13);
      bad.writeUInt16BE(13, 0);
      randomBytes(rng, 13).copy(bad, 2);
      return Buffer.concat([head, p, bad, p]);
    }
    case 'garbage_text':
      return `{"type":"order","data":${rng.nextU32().toString(36)}\u0000 not json`;
    case 'garbage_binary':
      // At least 2 bytes so it cannot pass for a heartbeat.
      return randomBytes(rng, 2 + (rng.nextU32() % 62));
  }
}
