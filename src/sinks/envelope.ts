/**
 * The payload of a tick message. Binary (default), big-endian like the Kite wire:
 *
 *   offset  size  field
 *   0       1     version = 1
 *   1       1     K = byte length of the API key id
 *   2       4     publisher id (uint32, random per sink instance)
 *   6       4     sequence (uint32, per subject per publisher, starts at 1, wraps)
 *   10      8     receivedAt: epoch milliseconds (uint64: high 32 bits, then low 32 bits)
 *   18      K     API key id, UTF-8
 *   18+K    2     N = 1          <- from here on the bytes are a Kite frame of one packet,
 *   20+K    2     L = packet length (8, 28, 32, 44 or 184)
 *   22+K    L     the packet exactly as Kite sends it for the tick's mode
 *
 * So any Kite decoder reads the tail (`payload.subarray(18 + K)`) as an ordinary frame, without copying.
 * JSON payloads are one object `{"v":1,"publisherId","sequence","receivedAt","apiKeyId","tick"}` and
 * start with '{' (0x7b), which a binary payload never does (its first byte is the version).
 */
import { MalformedEnvelopeError } from '../errors.js';
import { decodeFrame } from '../protocol/decode.js';
import { encodedLength, writeTick } from '../protocol/encode.js';
import { isKnownPacketLength } from '../protocol/layout.js';
import type { Tick } from '../protocol/types.js';

export const ENVELOPE_VERSION = 1;
/** Bytes before the API key id. */
export const FIXED_HEADER = 18;
/** The frame-of-one header (N, L) between the key id and the packet. */
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

  /** Throws InvalidArgumentError (from the codec) for a tick whose values do not fit the wire. */
  write(
    tick: Tick,
    apiKeyId: Uint8Array,
    publisherId: number,
    sequence: number,
    receivedAt: number,
  ): Uint8Array {
    const packetLength = encodedLength(tick);
    const k = apiKeyId.byteLength;
    const total = FIXED_HEADER + k + FRAME_OF_ONE + packetLength;
    if (this.offset + total > this.slab.byteLength) {
      this.slab = new Uint8Array(Math.max(this.slabSize, total));
      this.view = new DataView(this.slab.buffer);
      this.offset = 0;
    }
    const start = this.offset;
    const v = this.view;
    // The packet first: if the tick cannot be encoded nothing else was written and the slab is unchanged.
    writeTick(v, start + FIXED_HEADER + k + FRAME_OF_ONE, tick);
    v.setUint8(start, ENVELOPE_VERSION);
    v.setUint8(start + 1, k);
    v.setUint32(start + 2, publisherId >>> 0);
    v.setUint32(start + 6, sequence >>> 0);
    v.setUint32(start + 10, Math.floor(receivedAt / TWO_32));
    v.setUint32(start + 14, receivedAt >>> 0);
    this.slab.set(apiKeyId, start + FIXED_HEADER);
    v.setUint16(start + FIXED_HEADER + k, 1);
    v.setUint16(start + FIXED_HEADER + k + 2, packetLength);
    this.offset = start + total;
    return this.slab.subarray(start, start + total);
  }
}

export function encodeJsonEnvelope(
  tick: Tick,
  apiKeyId: string,
  publisherId: number,
  sequence: number,
  receivedAt: number,
): string {
  return JSON.stringify({ v: ENVELOPE_VERSION, publisherId, sequence, receivedAt, apiKeyId, tick });
}

/** A decoded envelope (without the consumer-side `gap`). */
export interface Envelope {
  tick: Tick;
  apiKeyId: string;
  receivedAt: number;
  sequence: number;
  publisherId: number;
}

/** Reads a binary or JSON envelope. Throws MalformedEnvelopeError with a reason for anything malformed. */
export function decodeEnvelope(data: Uint8Array): Envelope {
  if (data.byteLength === 0) throw new MalformedEnvelopeError('empty payload');
  return data[0] === JSON_START ? decodeJson(data) : decodeBinary(data);
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

let lastKeyBytes: Uint8Array | undefined;
let lastKey = '';

function decodeBinary(data: Uint8Array): Envelope {
  if (data.byteLength < FIXED_HEADER + FRAME_OF_ONE)
    throw new MalformedEnvelopeError(`payload too short (${data.byteLength} bytes)`);
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = v.getUint8(0);
  if (version !== ENVELOPE_VERSION) throw new MalformedEnvelopeError(`unknown envelope version ${version}`);
  const k = v.getUint8(1);
  const frameStart = FIXED_HEADER + k;
  if (data.byteLength < frameStart + FRAME_OF_ONE)
    throw new MalformedEnvelopeError('payload shorter than its header');
  const problem = frameOfOneProblem(data, frameStart);
  if (problem !== undefined) throw new MalformedEnvelopeError(`bad packet: ${problem}`);
  const tick = decodeFrame(data.subarray(frameStart))[0];
  // Unreachable after frameOfOneProblem; kept so a future layout change fails loudly, not silently.
  if (!tick) throw new MalformedEnvelopeError('bad packet: no tick');
  return {
    tick,
    apiKeyId: readKey(data, k),
    receivedAt: v.getUint32(10) * TWO_32 + v.getUint32(14),
    sequence: v.getUint32(6),
    publisherId: v.getUint32(2),
  };
}

/** Most streams carry one or a few key ids: reuse the last decoded string when the bytes match. */
function readKey(data: Uint8Array, k: number): string {
  const bytes = data.subarray(FIXED_HEADER, FIXED_HEADER + k);
  const last = lastKeyBytes;
  if (last && last.byteLength === k) {
    let same = true;
    for (let i = 0; i < k; i++) {
      if (last[i] !== bytes[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastKey;
  }
  lastKeyBytes = bytes.slice();
  lastKey = utf8Decoder.decode(bytes);
  return lastKey;
}

function decodeJson(data: Uint8Array): Envelope {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(utf8Decoder.decode(data)) as Record<string, unknown>;
  } catch (error) {
    throw new MalformedEnvelopeError('JSON envelope does not parse', { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object')
    throw new MalformedEnvelopeError('JSON envelope is not an object');
  if (parsed.v !== ENVELOPE_VERSION)
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
  // JSON turned Dates into ISO strings; give consumers the same shapes as the binary path.
  reviveDate(tick, 'last_trade_time');
  reviveDate(tick, 'exchange_timestamp');
  return {
    tick: tick as unknown as Tick,
    apiKeyId: parsed.apiKeyId,
    receivedAt: parsed.receivedAt,
    sequence: parsed.sequence,
    publisherId: parsed.publisherId,
  };
}

function reviveDate(tick: Record<string, unknown>, field: string): void {
  const value = tick[field];
  if (typeof value === 'string') tick[field] = new Date(value);
}
