/**
 * Mode arithmetic of the relay: modes ranked (ltp < quote < full), the mode a packet of a given length
 * carries, and the length it has once cut down to a lower mode. Cutting is exact because Kite's packets
 * nest: an ltp packet is the first 8 bytes of a quote packet, a quote packet (44, index 28) the first
 * bytes of a full one (184, index 32), field for field (docs/protocol.md, src/protocol/layout.ts).
 */
import type { Mode } from '../protocol/constants.js';

export type ModeRank = 0 | 1 | 2;

export const MODES: readonly Mode[] = ['ltp', 'quote', 'full'];

export function rankOf(mode: Mode): ModeRank {
  return mode === 'ltp' ? 0 : mode === 'quote' ? 1 : 2;
}

export function modeOf(rank: number): Mode {
  return rank <= 0 ? 'ltp' : rank === 1 ? 'quote' : 'full';
}

/** The mode rank a packet of `length` bytes carries, or -1 for a length the protocol does not define. */
export function packetRank(length: number): number {
  if (length === 184 || length === 32) return 2;
  if (length === 44 || length === 28) return 1;
  if (length === 8) return 0;
  return -1;
}

/**
 * Length of a `length`-byte packet cut to mode `rank` (never longer: a packet is not padded up to a
 * mode it does not carry; the client gets what the upstream has until the upstream mode rises).
 */
export function cutLength(length: number, rank: number): number {
  if (rank <= 0) return 8;
  if (rank === 1) {
    if (length === 184) return 44;
    if (length === 32) return 28;
  }
  return length;
}
