/**
 * Frame material for fuzzing the binary decoder: valid frames built byte by byte (independently of the
 * project's encoder, so an encoder bug cannot hide a decoder bug), an independent reference walk that
 * says what a correct decoder must report for any byte string, and mutators that break valid frames the
 * ways a network or a buggy server does (flipped bytes, lying counts, truncation, extension, bad lengths).
 */
import type { ProtocolErrorKind } from '../../src/protocol/types.js';
import type { Rng } from './rng.js';

/** The five packet lengths of kite-protocol.md 4.3. */
export const KNOWN_LENGTHS = [8, 28, 32, 44, 184] as const;

function isKnownLength(length: number): boolean {
  return length === 8 || length === 28 || length === 32 || length === 44 || length === 184;
}

/** One random packet body of a known length; the token's low byte is a real segment most of the time. */
export function randomPacket(rng: Rng): Uint8Array {
  const length = rng.pick(KNOWN_LENGTHS);
  const body = new Uint8Array(length);
  for (let i = 0; i < length; i++) body[i] = rng.int(256);
  if (rng.chance(0.9)) body[3] = length === 28 || length === 32 ? 9 : rng.range(1, 8);
  return body;
}

/** N + (length, packet)* exactly as the wire carries it. */
export function frameOf(packets: readonly Uint8Array[]): Uint8Array {
  let size = 2;
  for (const p of packets) size += 2 + p.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, packets.length);
  let offset = 2;
  for (const p of packets) {
    view.setUint16(offset, p.length);
    out.set(p, offset + 2);
    offset += 2 + p.length;
  }
  return out;
}

/** A valid frame of 0..maxPackets random packets. */
export function randomValidFrame(rng: Rng, maxPackets = 12): Uint8Array {
  const count = rng.int(maxPackets + 1);
  const packets: Uint8Array[] = [];
  for (let i = 0; i < count; i++) packets.push(randomPacket(rng));
  return frameOf(packets);
}

/** What a correct decoder must make of a byte string. */
export interface FrameAudit {
  /** Exactly 1 byte: a heartbeat, ignored without error. */
  heartbeat: boolean;
  /** Structurally sound: every packet fits, every length is known, nothing trails. */
  valid: boolean;
  /** Tokens of the known-length packets that fit, in order, up to the first structural break. */
  tokens: number[];
  /** Problems in the order a single left-to-right pass meets them. */
  problems: ProtocolErrorKind[];
}

/** A plain left-to-right walk that trusts nothing: N, each length prefix and each body are bounds-checked. */
export function auditFrame(bytes: Uint8Array): FrameAudit {
  const audit: FrameAudit = { heartbeat: false, valid: true, tokens: [], problems: [] };
  if (bytes.length === 1) {
    audit.heartbeat = true;
    return audit;
  }
  if (bytes.length === 0) {
    // Kite's heartbeat is one byte; an empty binary frame is malformed ('frame_too_short').
    audit.valid = false;
    audit.problems.push('frame_too_short');
    return audit;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint16(0);
  let offset = 2;
  for (let i = 0; i < count; i++) {
    if (offset + 2 > bytes.length) {
      audit.problems.push('truncated_length');
      break;
    }
    const length = view.getUint16(offset);
    offset += 2;
    if (offset + length > bytes.length) {
      audit.problems.push('truncated_packet');
      break;
    }
    if (isKnownLength(length)) audit.tokens.push(view.getUint32(offset));
    else audit.problems.push('unknown_packet_length');
    offset += length;
  }
  if (audit.problems.length === 0 && offset < bytes.length) audit.problems.push('trailing_bytes');
  audit.valid = audit.problems.length === 0;
  return audit;
}

/** Offsets of each packet's length prefix in a valid frame. */
function lengthPrefixOffsets(frame: Uint8Array): number[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const offsets: number[] = [];
  if (frame.length < 2) return offsets;
  const count = view.getUint16(0);
  let offset = 2;
  for (let i = 0; i < count && offset + 2 <= frame.length; i++) {
    offsets.push(offset);
    offset += 2 + view.getUint16(offset);
  }
  return offsets;
}

export type MutationKind =
  | 'flip_bytes'
  | 'lying_count'
  | 'truncate'
  | 'extend'
  | 'bad_length'
  | 'random_bytes'
  | 'splice'
  | 'combined';

export const MUTATIONS: readonly MutationKind[] = [
  'flip_bytes',
  'lying_count',
  'truncate',
  'extend',
  'bad_length',
  'random_bytes',
  'splice',
  'combined',
];

function randomBytes(rng: Rng, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.int(256);
  return out;
}

/** Applies one mutation to a copy of `frame` (the input is never changed). */
export function mutate(rng: Rng, frame: Uint8Array, kind: MutationKind): Uint8Array {
  switch (kind) {
    case 'flip_bytes': {
      const out = frame.slice();
      if (out.length === 0) return randomBytes(rng, rng.range(1, 4));
      const flips = rng.range(1, 8);
      for (let i = 0; i < flips; i++) out[rng.int(out.length)]! ^= rng.range(1, 255);
      return out;
    }
    case 'lying_count': {
      const out = frame.length >= 2 ? frame.slice() : new Uint8Array(2);
      const view = new DataView(out.buffer);
      const actual = view.getUint16(0);
      const lie = rng.chance(0.5)
        ? actual + rng.range(1, 3)
        : rng.chance(0.5)
          ? actual - rng.range(1, 3)
          : rng.int(65536);
      view.setUint16(0, lie & 0xffff);
      return out;
    }
    case 'truncate':
      return frame.slice(0, rng.int(Math.max(1, frame.length)));
    case 'extend': {
      const tail = randomBytes(rng, rng.range(1, 64));
      const out = new Uint8Array(frame.length + tail.length);
      out.set(frame);
      out.set(tail, frame.length);
      return out;
    }
    case 'bad_length': {
      const out = frame.slice();
      const offsets = lengthPrefixOffsets(out);
      if (offsets.length === 0) return mutate(rng, frame, 'lying_count');
      const at = rng.pick(offsets);
      const view = new DataView(out.buffer);
      const current = view.getUint16(at);
      const next = rng.chance(0.5) ? current + rng.pick([-2, -1, 1, 2, 4, -4]) : rng.int(65536);
      view.setUint16(at, next & 0xffff);
      return out;
    }
    case 'random_bytes':
      return randomBytes(rng, rng.int(400));
    case 'splice': {
      const other = randomValidFrame(rng, 4);
      const out = new Uint8Array(frame.length + other.length);
      out.set(frame);
      out.set(other, frame.length);
      return out;
    }
    case 'combined': {
      let out = frame;
      const steps = rng.range(2, 3);
      for (let i = 0; i < steps; i++) out = mutate(rng, out, rng.pick(MUTATIONS.slice(0, 6)));
      return out;
    }
  }
}

/**
 * Hands the same bytes to the decoder the three ways it meets them in practice: a plain Uint8Array, a
 * view into a larger pooled buffer at a non-zero byteOffset (what `ws` delivers), or an ArrayBuffer.
 */
export function presentation(rng: Rng, bytes: Uint8Array): Uint8Array | ArrayBuffer {
  const r = rng.next();
  if (r < 0.5) return bytes;
  if (r < 0.8) {
    const before = rng.range(1, 37);
    const pool = randomBytes(rng, before + bytes.length + rng.range(1, 37));
    pool.set(bytes, before);
    return pool.subarray(before, before + bytes.length);
  }
  return bytes.slice().buffer;
}
