/**
 * The payload of a tick message. Binary (default), big-endian like the Kite wire. Two versions; the sink
 * writes version 2, decoders read both (a consumer upgraded first keeps reading old publishers).
 *
 * Version 2 (a publishing instance and a per-API-key sequence, for continuity across failover):
 *
 *   offset  size  field
 *   0       1     version = 2
 *   1       1     K = byte length of the API key id
 *   2       1     I = byte length of the instance id
 *   3       1     reserved, 0 (a decoder ignores it)
 *   4       4     publisher id (uint32, random per sink instance)
 *   8       4     sequence (uint32, per subject per publisher, starts at 1, wraps)
 *   12      4     key sequence (uint32, per API key per publisher, starts at 1, wraps)
 *   16      8     receivedAt: epoch milliseconds (uint64: high 32 bits, then low 32 bits)
 *   24      K     API key id, UTF-8
 *   24+K    I     instance id, UTF-8 (a stable name of the publishing process, e.g. host:pid:random)
 *   24+K+I  2     N = 1          <- from here on the bytes are a Kite frame of one packet
 *   26+K+I  2     L = packet length (8, 28, 32, 44 or 184)
 *   28+K+I  L     the packet exactly as Kite sends it for the tick's mode
 *
 * Version 1 (no instance id, no key sequence):
 *
 *   0 version = 1 | 1 K | 2 publisher id (4) | 6 sequence (4) | 10 receivedAt (8) | 18 key id (K) |
 *   18+K N = 1 (2) | 20+K L (2) | 22+K packet (L)
 *
 * So any Kite decoder reads the tail (`payload.subarray(frameOffset(payload))`) as an ordinary frame,
 * without copying. JSON payloads are one object
 * `{"v":2,"publisherId","instanceId","sequence","keySequence","receivedAt","apiKeyId","tick"}` (version 1:
 * without instanceId and keySequence) and start with '{' (0x7b), which a binary payload never does (its
 * first byte is the version). A version 1 envelope decodes with `instanceId` = `v1:` + the publisher id
 * in hex and `keySequence` = 0 (unknown), so publisher changes are still visible.
 */
import { MalformedEnvelopeError } from '../errors.js';
import { decodeFrame } from '../protocol/decode.js';
import { encodedLength, writeTick } from '../protocol/encode.js';
import { isKnownPacketLength } from '../protocol/layout.js';
import type { Tick } from '../protocol/types.js';

/** The version the sink writes. */
export const ENVELOPE_VERSION = 2;
/** Bytes before the API key id in a version 1 envelope. */
export const FIXED_HEADER = 18;
/** Bytes before the API key id in a version 2 envelope. */
export const FIXED_HEADER_V2 = 24;
/** The frame-of-one header (N, L) between the ids and the packet. */
const FRAME_OF_ONE = 4;
const TWO_32 = 0x1_0000_0000;
const JSON_START = 0x7b;

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** UTF-8 bytes of an API key id, cut to the 255 bytes the header can carry. */
export function apiKeyIdBytes(apiKeyId: string): Uint8Array {
  const bytes = utf8.encode(apiKeyId);
  return bytes.byteLength > 255 ? bytes.subarray(0, 255) : bytes;
}

/** The per-message fields of a version 2 envelope. The sink reuses one object for every tick. */
export interface EnvelopeFields {
  publisherId: number;
  sequence: number;
  keySequence: number;
  receivedAt: number;
}

/**
 * Writes binary envelopes into large shared slabs, handing out a subarray per message: one small view
 * object per tick instead of an ArrayBuffer + DataView. A slab is never rewritten (the NATS client keeps
 * references to payloads until they are on the socket), a full one is simply left to the GC.
 */
export class EnvelopeWriter {
  private slab: Uint8Array;
  private view: DataView;
  private offset = 0;
  private readonly slabSize: number;

  constructor(slabSize = 64 * 1024) {
    this.slabSize = slabSize;
    this.slab = new Uint8Array(slabSize);
    this.view = new DataView(this.slab.buffer);
  }

  /**
   * A version 2 envelope. `instanceId` must be at most 255 bytes (the sink checks its option).
   * Throws InvalidArgumentError (from the codec) for a tick whose values do not fit the wire.
   */
  write(tick: Tick, apiKeyId: Uint8Array, instanceId: Uint8Array, fields: EnvelopeFields): Uint8Array {
    const k = apiKeyId.byteLength;
    const i = instanceId.byteLength;
    const frameStart = FIXED_HEADER_V2 + k + i;
    const start = this.packet(tick, frameStart);
    const v = this.view;
    v.setUint8(start, 2);
    v.setUint8(start + 1, k);
    v.setUint8(start + 2, i);
    v.setUint8(start + 3, 0);
    v.setUint32(start + 4, fields.publisherId >>> 0);
    v.setUint32(start + 8, fields.sequence >>> 0);
    v.setUint32(start + 12, fields.keySequence >>> 0);
    v.setUint32(start + 16, Math.floor(fields.receivedAt / TWO_32));
    v.setUint32(start + 20, fields.receivedAt >>> 0);
    this.slab.set(apiKeyId, start + FIXED_HEADER_V2);
    this.slab.set(instanceId, start + FIXED_HEADER_V2 + k);
    return this.slab.subarray(start, this.offset);
  }

  /** A version 1 envelope (what publishers before version 2 sent; kept for tests and tools). */
  writeV1(
    tick: Tick,
    apiKeyId: Uint8Array,
    publisherId: number,
    sequence: number,
    receivedAt: number,
  ): Uint8Array {
    const k = apiKeyId.byteLength;
    const start = this.packet(tick, FIXED_HEADER + k);
    const v = this.view;
    v.setUint8(start, 1);
    v.setUint8(start + 1, k);
    v.setUint32(start + 2, publisherId >>> 0);
    v.setUint32(start + 6, sequence >>> 0);
    v.setUint32(start + 10, Math.floor(receivedAt / TWO_32));
    v.setUint32(start + 14, receivedAt >>> 0);
    this.slab.set(apiKeyId, start + FIXED_HEADER);
    return this.slab.subarray(start, this.offset);
  }

  /**
   * Reserves room for a message whose frame starts at `frameStart`, writes the frame of one packet and
   * returns where the message starts. The packet first: if the tick cannot be encoded nothing else was
   * written and the slab is unchanged.
   */
  private packet(tick: Tick, frameStart: number): number {
    const packetLength = encodedLength(tick);
    const total = frameStart + FRAME_OF_ONE + packetLength;
    if (this.offset + total > this.slab.byteLength) {
      this.slab = new Uint8Array(Math.max(this.slabSize, total));
      this.view = new DataView(this.slab.buffer);
      this.offset = 0;
    }
    const start = this.offset;
    writeTick(this.view, start + frameStart + FRAME_OF_ONE, tick);
    this.view.setUint16(start + frameStart, 1);
    this.view.setUint16(start + frameStart + 2, packetLength);
    this.offset = start + total;
    return start;
  }
}

export function encodeJsonEnvelope(
  tick: Tick,
  apiKeyId: string,
  instanceId: string,
  fields: EnvelopeFields,
): string {
  return JSON.stringify({
    v: 2,
    publisherId: fields.publisherId,
    instanceId,
    sequence: fields.sequence,
    keySequence: fields.keySequence,
    receivedAt: fields.receivedAt,
    apiKeyId,
    tick,
  });
}

/** A decoded envelope (without the consumer-side `gap`). */
export interface Envelope {
  tick: Tick;
  apiKeyId: string;
  receivedAt: number;
  sequence: number;
  publisherId: number;
  /** The publishing instance (version 1: `v1:` + the publisher id in hex). */
  instanceId: string;
  /** Per API key per publisher, from 1 (version 1: 0, unknown). */
  keySequence: number;
}

/** Reads a binary or JSON envelope. Throws MalformedEnvelopeError with a reason for anything malformed. */
export function decodeEnvelope(data: Uint8Array): Envelope {
  if (data.byteLength === 0) throw new MalformedEnvelopeError('empty payload');
  return data[0] === JSON_START ? decodeJson(data) : decodeBinary(data);
}

/**
 * Where the Kite frame of one packet starts in a binary envelope (either version), so a consumer with its
 * own Kite decoder can read `payload.subarray(frameOffset(payload))`. Throws MalformedEnvelopeError.
 */
export function frameOffset(data: Uint8Array): number {
  if (data.byteLength < 2) throw new MalformedEnvelopeError(`payload too short (${data.byteLength} bytes)`);
  const version = data[0];
  if (version === 1) return FIXED_HEADER + data[1]!;
  if (version === 2) {
    if (data.byteLength < 3) throw new MalformedEnvelopeError(`payload too short (${data.byteLength} bytes)`);
    return FIXED_HEADER_V2 + data[1]! + data[2]!;
  }
  throw new MalformedEnvelopeError(`unknown envelope version ${version}`);
}

/**
 * Why the frame of one packet at `frameStart` is malformed, or undefined when it is sound. Checked
 * here, before decoding, so that a sound frame decodes to exactly one tick with no error callback (and
 * no state shared between calls to carry the callback's report out).
 */
function frameOfOneProblem(data: Uint8Array, frameStart: number): string | undefined {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = v.getUint16(frameStart);
  if (count !== 1) return `${count} packets, expected 1`;
  const length = v.getUint16(frameStart + 2);
  if (!isKnownPacketLength(length)) return `unknown packet length ${length}`;
  const size = data.byteLength - frameStart - FRAME_OF_ONE;
  if (size !== length) return `packet length ${length} but ${size} bytes follow`;
  return undefined;
}

function decodeBinary(data: Uint8Array): Envelope {
  const version = data[0];
  const fixed = version === 2 ? FIXED_HEADER_V2 : FIXED_HEADER;
  if (data.byteLength < fixed + FRAME_OF_ONE)
    throw new MalformedEnvelopeError(`payload too short (${data.byteLength} bytes)`);
  const frameStart = frameOffset(data);
  if (data.byteLength < frameStart + FRAME_OF_ONE)
    throw new MalformedEnvelopeError('payload shorter than its header');
  const problem = frameOfOneProblem(data, frameStart);
  if (problem !== undefined) throw new MalformedEnvelopeError(`bad packet: ${problem}`);
  const tick = decodeFrame(data.subarray(frameStart))[0];
  // Unreachable after frameOfOneProblem; kept so a future layout change fails loudly, not silently.
  if (!tick) throw new MalformedEnvelopeError('bad packet: no tick');
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const k = data[1]!;
  if (version === 1) {
    const publisherId = v.getUint32(2);
    return {
      tick,
      apiKeyId: keyCache.read(data, FIXED_HEADER, k),
      receivedAt: v.getUint32(10) * TWO_32 + v.getUint32(14),
      sequence: v.getUint32(6),
      publisherId,
      instanceId: `v1:${publisherId.toString(16).padStart(8, '0')}`,
      keySequence: 0,
    };
  }
  return {
    tick,
    apiKeyId: keyCache.read(data, FIXED_HEADER_V2, k),
    receivedAt: v.getUint32(16) * TWO_32 + v.getUint32(20),
    sequence: v.getUint32(8),
    publisherId: v.getUint32(4),
    instanceId: instanceCache.read(data, FIXED_HEADER_V2 + k, data[2]!),
    keySequence: v.getUint32(12),
  };
}

/** Most streams carry one or a few ids: reuse the last decoded string when the bytes match. */
class LastString {
  private bytes: Uint8Array | undefined;
  private text = '';

  read(data: Uint8Array, from: number, length: number): string {
    const bytes = data.subarray(from, from + length);
    const last = this.bytes;
    if (last && last.byteLength === length) {
      let same = true;
      for (let i = 0; i < length; i++) {
        if (last[i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.text;
    }
    this.bytes = bytes.slice();
    this.text = utf8Decoder.decode(bytes);
    return this.text;
  }
}

const keyCache = new LastString();
const instanceCache = new LastString();

function decodeJson(data: Uint8Array): Envelope {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(utf8Decoder.decode(data)) as Record<string, unknown>;
  } catch (error) {
    throw new MalformedEnvelopeError('JSON envelope does not parse', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object')
    throw new MalformedEnvelopeError('JSON envelope is not an object');
  if (parsed.v !== 1 && parsed.v !== 2)
    throw new MalformedEnvelopeError(`unknown envelope version ${String(parsed.v)}`);
  const tick = parsed.tick as Record<string, unknown> | undefined;
  if (
    !tick ||
    typeof tick !== 'object' ||
    typeof tick.instrument_token !== 'number' ||
    typeof parsed.sequence !== 'number' ||
    typeof parsed.publisherId !== 'number' ||
    typeof parsed.receivedAt !== 'number' ||
    typeof parsed.apiKeyId !== 'string'
  ) {
    throw new MalformedEnvelopeError(
      'JSON envelope lacks tick, sequence, publisherId, receivedAt or apiKeyId',
    );
  }
  const v2 = parsed.v === 2;
  if (v2 && (typeof parsed.instanceId !== 'string' || typeof parsed.keySequence !== 'number')) {
    throw new MalformedEnvelopeError('JSON envelope version 2 lacks instanceId or keySequence');
  }
  // JSON turned Dates into ISO strings; give consumers the same shapes as the binary path.
  reviveDate(tick, 'last_trade_time');
  reviveDate(tick, 'exchange_timestamp');
  return {
    tick: tick as unknown as Tick,
    apiKeyId: parsed.apiKeyId,
    receivedAt: parsed.receivedAt,
    sequence: parsed.sequence,
    publisherId: parsed.publisherId,
    instanceId: v2
      ? (parsed.instanceId as string)
      : `v1:${(parsed.publisherId >>> 0).toString(16).padStart(8, '0')}`,
    keySequence: v2 ? (parsed.keySequence as number) : 0,
  };
}

function reviveDate(tick: Record<string, unknown>, field: string): void {
  const value = tick[field];
  if (typeof value === 'string') tick[field] = new Date(value);
}
