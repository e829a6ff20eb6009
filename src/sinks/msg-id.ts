/**
 * The JetStream de-duplication id (`Nats-Msg-Id`) of a tick, derived from its CONTENT only: while two
 * instances overlap during a handover they publish the same Kite packets with different envelopes
 * (instance id, sequences, receivedAt), and the stream must store each tick once. So the id is
 *
 *   <API key id, URI-encoded> : <token> : <mode> : <exchange timestamp, epoch s, or '-'> : <64-bit hash of the packet>
 *
 * Trade-off: two genuinely different ticks with identical packets inside the stream's duplicate window
 * get the same id and the second is not stored. With an exchange timestamp (full mode, index full) that
 * means the same packet within one exchange second; without one (ltp, quote, index quote) it means the
 * same values again, e.g. an unchanged ltp. The stream keeps the last tick per instrument, and the
 * dropped tick carries the same values as the stored one, so the store's content is unaffected; a
 * JetStream consumer that counts ticks sees one fewer. Core NATS subscribers are not affected at all.
 */
import type { Tick } from '../protocol/types.js';

/** The header JetStream reads. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/** The msg id of `tick` (whose Kite packet is `packet`) received by the connection of `apiKeyId`. */
export function tickMsgId(apiKeyId: string, tick: Tick, packet: Uint8Array): string {
  return msgIdFromKeyPart(msgIdKeyPart(apiKeyId), tick, packet);
}

/** `keyPart` is msgIdKeyPart(apiKeyId), which the sink caches per key. */
export function msgIdFromKeyPart(keyPart: string, tick: Tick, packet: Uint8Array): string {
  const ts = 'exchange_timestamp' in tick ? tick.exchange_timestamp : undefined;
  const seconds = ts instanceof Date ? String(Math.floor(ts.getTime() / 1000)) : '-';
  return `${keyPart}:${tick.instrument_token}:${tick.mode}:${seconds}:${packetHash(packet)}`;
}

/** 64 bits as 16 hex digits: two 32-bit FNV-1a passes with different offset bases. */
export function packetHash(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x01000193) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

/** The part of a msg id naming the key: URI-encoded (':' too), so no header-breaking or separator characters. */
export function msgIdKeyPart(apiKeyId: string): string {
  return encodeURIComponent(apiKeyId);
}
