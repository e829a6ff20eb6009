/**
 * The three records of a high-availability bucket, as JSON (format v1, docs/high-availability.md):
 *
 *   lease.<k>          {"v":1,"instance","apiKeyId","acquiredAt","renewedAt","ttlMs"}
 *   member.<instance>  {"v":1,"instance","startedAt","renewedAt","ttlMs"}
 *   want.<k>           {"v":1,"apiKeyId","by","updatedAt","modes":{"ltp":[...],"quote":[...],"full":[...]}}
 *
 * Anything can be written to a bucket, so decoding never throws: a value that is too large, not JSON,
 * nested past the parser, or of the wrong shape gives an HaEntryError to report, and the caller
 * ignores the entry. The size is checked before parsing, so a huge value costs no parse.
 */

import { HaEntryError } from '../errors.js';
import { MODES, type Mode } from '../protocol/constants.js';
import { MAX_TTL_MS } from './timings.js';

/** Lease and member records are a few hundred bytes; anything past this is not ours. */
export const MAX_RECORD_BYTES = 4_096;
/** 3 sockets x 3000 instruments, about 8 bytes each as JSON, with room to spare. */
export const MAX_WANT_BYTES = 256 * 1024;
/** Kite's ceiling per key: 3 sockets x 3000 instruments. */
export const MAX_WANT_TOKENS = 9_000;

export interface LeaseRecord {
  v: 1;
  instance: string;
  apiKeyId: string;
  /** Epoch ms this holder took the lease (kept across renewals). */
  acquiredAt: number;
  /** Epoch ms of the last renewal (informational: nobody compares wall clocks across machines). */
  renewedAt: number;
  /** The holder's TTL: a standby waits this long, by its own clock, after the last change it saw. */
  ttlMs: number;
}

export interface MemberRecord {
  v: 1;
  instance: string;
  startedAt: number;
  renewedAt: number;
  ttlMs: number;
}

export interface WantRecord {
  v: 1;
  apiKeyId: string;
  /** The instance that wrote it. */
  by: string;
  updatedAt: number;
  /** token -> mode. */
  instruments: Map<number, Mode>;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: HaEntryError };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeLease(record: LeaseRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

export function encodeMember(record: MemberRecord): Uint8Array {
  return encoder.encode(JSON.stringify(record));
}

export function encodeWant(record: WantRecord): Uint8Array {
  const modes: Record<Mode, number[]> = { ltp: [], quote: [], full: [] };
  for (const [token, mode] of record.instruments) modes[mode].push(token);
  const { instruments: _, ...rest } = record;
  return encoder.encode(JSON.stringify({ ...rest, modes }));
}

export function decodeLease(data: Uint8Array, where: string): Decoded<LeaseRecord> {
  const parsed = parse(data, MAX_RECORD_BYTES, where);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const bad =
    badString(o.instance, 'instance') ??
    badString(o.apiKeyId, 'apiKeyId') ??
    badTime(o.acquiredAt, 'acquiredAt') ??
    badTime(o.renewedAt, 'renewedAt') ??
    badTtl(o.ttlMs);
  if (bad) return fail(where, bad);
  return {
    ok: true,
    value: {
      v: 1,
      instance: o.instance as string,
      apiKeyId: o.apiKeyId as string,
      acquiredAt: o.acquiredAt as number,
      renewedAt: o.renewedAt as number,
      ttlMs: o.ttlMs as number,
    },
  };
}

export function decodeMember(data: Uint8Array, where: string): Decoded<MemberRecord> {
  const parsed = parse(data, MAX_RECORD_BYTES, where);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const bad =
    badString(o.instance, 'instance') ??
    badTime(o.startedAt, 'startedAt') ??
    badTime(o.renewedAt, 'renewedAt') ??
    badTtl(o.ttlMs);
  if (bad) return fail(where, bad);
  return {
    ok: true,
    value: {
      v: 1,
      instance: o.instance as string,
      startedAt: o.startedAt as number,
      renewedAt: o.renewedAt as number,
      ttlMs: o.ttlMs as number,
    },
  };
}

export function decodeWant(data: Uint8Array, where: string): Decoded<WantRecord> {
  const parsed = parse(data, MAX_WANT_BYTES, where);
  if (!parsed.ok) return parsed;
  const o = parsed.value;
  const bad = badString(o.apiKeyId, 'apiKeyId') ?? badString(o.by, 'by') ?? badTime(o.updatedAt, 'updatedAt');
  if (bad) return fail(where, bad);
  const modes = o.modes;
  if (typeof modes !== 'object' || modes === null || Array.isArray(modes)) {
    return fail(where, 'modes is not an object');
  }
  const instruments = new Map<number, Mode>();
  for (const mode of MODES) {
    const list = (modes as Record<string, unknown>)[mode];
    if (list === undefined) continue;
    if (!Array.isArray(list)) return fail(where, `modes.${mode} is not an array`);
    for (const token of list) {
      if (!Number.isInteger(token) || token < 0 || token > 0xffff_ffff) {
        return fail(where, `modes.${mode} holds something that is not an instrument token`);
      }
      if (instruments.has(token)) return fail(where, `token ${token} is listed twice`);
      instruments.set(token, mode);
    }
    if (instruments.size > MAX_WANT_TOKENS) {
      return fail(where, `more than ${MAX_WANT_TOKENS} instruments`);
    }
  }
  return {
    ok: true,
    value: {
      v: 1,
      apiKeyId: o.apiKeyId as string,
      by: o.by as string,
      updatedAt: o.updatedAt as number,
      instruments,
    },
  };
}

// ---------------------------------------------------------------- internals

function parse(data: Uint8Array, maxBytes: number, where: string): Decoded<Record<string, unknown>> {
  if (data.byteLength > maxBytes) {
    return fail(where, `${data.byteLength} bytes, more than the ${maxBytes} a record may have`);
  }
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch (cause) {
    // Bad UTF-8, bad JSON, or nesting past the parser's stack (a RangeError): all just "not ours".
    return fail(where, 'not JSON', cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(where, 'not a JSON object');
  }
  const o = value as Record<string, unknown>;
  if (o.v !== 1) return fail(where, 'unknown format version (v is not 1)');
  return { ok: true, value: o };
}

function badString(value: unknown, name: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) {
    return `${name} is not a string of 1 to 256 characters`;
  }
  return undefined;
}

function badTime(value: unknown, name: string): string | undefined {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    return `${name} is not a time in epoch milliseconds`;
  }
  return undefined;
}

function badTtl(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TTL_MS) {
    return `ttlMs is not a whole number of milliseconds from 1 to ${MAX_TTL_MS}`;
  }
  return undefined;
}

function fail<T>(where: string, why: string, cause?: unknown): Decoded<T> {
  return {
    ok: false,
    error: new HaEntryError(
      `ha bucket entry ${where} ignored: ${why}`,
      cause === undefined ? undefined : { cause },
    ),
  };
}
