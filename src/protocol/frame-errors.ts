/**
 * ProtocolErrorInfo builders for malformed binary frames, shared by decodeFrame and FrameView. Only
 * reached on bad input, so they may allocate freely. Internal: not re-exported.
 */
import type { ProtocolErrorInfo } from './types.js';

export function truncatedLength(pos: number, i: number, count: number, size: number): ProtocolErrorInfo {
  return {
    kind: 'truncated_length' as const,
    offset: pos,
    detail: `frame announces ${count} packets but ends (${size} bytes) before the length of packet ${i + 1}`,
  };
}

export function truncatedPacket(
  pos: number,
  i: number,
  count: number,
  length: number,
  size: number,
): ProtocolErrorInfo {
  return {
    kind: 'truncated_packet' as const,
    offset: pos,
    detail: `packet ${i + 1} of ${count} declares ${length} bytes at offset ${pos + 2} but the frame has ${size} bytes; the rest of the frame is skipped`,
  };
}

export function unknownLength(pos: number, i: number, length: number): ProtocolErrorInfo {
  return {
    kind: 'unknown_packet_length' as const,
    offset: pos,
    detail: `packet ${i + 1} has unknown length ${length} (expected 8, 28, 32, 44 or 184); skipped`,
  };
}

export function trailingBytes(pos: number, count: number, size: number): ProtocolErrorInfo {
  return {
    kind: 'trailing_bytes' as const,
    offset: pos,
    detail: `${size - pos} bytes left after the ${count} announced packets; ignored`,
  };
}
