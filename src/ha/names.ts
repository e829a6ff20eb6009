/**
 * Names in a high-availability group's bucket. The format is shared by every instance of a group (and
 * by `kiteticker ha status`), so it is fixed and documented in docs/high-availability.md:
 *
 *   bucket   KITE_HA_<GROUP>             GROUP: [A-Za-z0-9_-]{1,64}
 *   lease.<k>   who holds API key k      k: base64url (no padding) of the key id's UTF-8 bytes
 *   want.<k>    what key k subscribes
 *   member.<instance>   an instance's presence   instance: [A-Za-z0-9_-]{1,64}
 *
 * A key id may hold any character (the keys file names them freely) but a KV key may not, hence the
 * encoding of k; base64url's alphabet is inside the KV key alphabet and never contains '.'.
 */
import { hostname } from 'node:os';
import { InvalidArgumentError } from '../errors.js';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** A key id encodes to at most 4/3 of this many bytes: KV keys stay far below subject limits. */
export const MAX_API_KEY_ID_BYTES = 256;

export function validateGroup(group: unknown): string {
  if (typeof group !== 'string' || !NAME.test(group)) {
    throw new InvalidArgumentError(
      `ha group: expected 1 to 64 letters, digits, '_' or '-', got ${describeName(group)}`,
    );
  }
  return group;
}

export function validateInstance(instance: unknown): string {
  if (typeof instance !== 'string' || !NAME.test(instance)) {
    throw new InvalidArgumentError(
      `ha instance: expected 1 to 64 letters, digits, '_' or '-', got ${describeName(instance)}`,
    );
  }
  return instance;
}

/** `<host>-<pid>` with every character outside the name alphabet replaced: unique per process on a host. */
export function defaultInstanceId(): string {
  const host =
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '_')
      .slice(0, 48) || 'host';
  return `${host}-${process.pid}`;
}

export function bucketName(group: string): string {
  return `KITE_HA_${validateGroup(group)}`;
}

/** The KV-safe form of a key id. Throws InvalidArgumentError for an empty or over-long id. */
export function encodeKeyId(apiKeyId: string): string {
  const bytes = Buffer.from(apiKeyId, 'utf8');
  if (bytes.length === 0 || bytes.length > MAX_API_KEY_ID_BYTES) {
    throw new InvalidArgumentError(
      `ha: an API key id must be 1 to ${MAX_API_KEY_ID_BYTES} bytes, got ${bytes.length}`,
    );
  }
  return bytes.toString('base64url');
}

/** The key id back from its KV form; undefined for text that is not one (a foreign entry). */
export function decodeKeyId(encoded: string): string | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(encoded)) return undefined;
  const id = Buffer.from(encoded, 'base64url').toString('utf8');
  // Round trip: rejects non-canonical forms and bytes that are not UTF-8.
  return id !== '' && Buffer.from(id, 'utf8').toString('base64url') === encoded ? id : undefined;
}

export const leaseKey = (apiKeyId: string): string => `lease.${encodeKeyId(apiKeyId)}`;
export const wantKey = (apiKeyId: string): string => `want.${encodeKeyId(apiKeyId)}`;
export const memberKey = (instance: string): string => `member.${validateInstance(instance)}`;

function describeName(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return JSON.stringify(value.length > 70 ? `${value.slice(0, 70)}...` : value);
}
