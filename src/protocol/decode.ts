/**
 * Binary frame decoder (kite-protocol.md 4.1-4.13). Never throws on bad input: every packet that fits
 * is decoded, everything else is skipped and reported once through `onError`. N (the packet count) is
 * never trusted: each length prefix and body is checked against the frame's real size.
 */

import { trailingBytes, truncatedLength, truncatedPacket, unknownLength } from './frame-errors.js';
import { baseOf, isKnownPacketLength, viewOf } from './layout.js';
import { readPacket } from './packet.js';
import type { ProtocolErrorHandler, Tick } from './types.js';

/** A binary frame shorter than 2 bytes carries no packet: the server's idle heartbeat (1 byte). */
export function isHeartbeat(data: Uint8Array | ArrayBuffer): boolean {
  return data.byteLength < 2;
}

/**
 * Decodes every packet of a binary frame into tick objects. A 1-byte frame (heartbeat) gives `[]`.
 * `data` may be a view into a larger buffer (a Node Buffer from `ws`): its byteOffset is honoured.
 */
export function decodeFrame(data: Uint8Array | ArrayBuffer, onError?: ProtocolErrorHandler): Tick[] {
  const size = data.byteLength;
  const ticks: Tick[] = [];
  if (size < 2) {
    if (size === 0) onError?.({ kind: 'frame_too_short', offset: 0, detail: 'empty binary frame' });
    return ticks;
  }
  const v = viewOf(data);
  // Offsets in error reports stay relative to the frame; reads add `base`.
  const base = baseOf(data);
  const count = v.getUint16(base);
  let pos = 2;
  for (let i = 0; i < count; i++) {
    if (pos + 2 > size) {
      onError?.(truncatedLength(pos, i, count, size));
      return ticks;
    }
    const length = v.getUint16(base + pos);
    const body = pos + 2;
    if (body + length > size) {
      onError?.(truncatedPacket(pos, i, count, length, size));
      return ticks;
    }
    if (isKnownPacketLength(length)) ticks.push(readPacket(v, base + body, length));
    else if (onError) onError(unknownLength(pos, i, length));
    pos = body + length;
  }
  if (pos < size && onError) onError(trailingBytes(pos, count, size));
  return ticks;
}
