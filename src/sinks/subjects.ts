/**
 * Subject naming: `<prefix>.tick.<EXCHANGE>.<token>` and `<prefix>.status.<apiKeyId>`. One subject per
 * instrument lets consumers pick one instrument, one exchange (`kite.tick.NSE.*`) or everything
 * (`kite.tick.>`) with plain NATS wildcards, and lets JetStream keep the last tick per instrument.
 */
import { InvalidArgumentError, InvalidTokenError } from '../errors.js';
import { EXCHANGE_BY_SEGMENT, MAX_TOKEN } from '../protocol/constants.js';
import type { TickFilter } from './types.js';

export const DEFAULT_SUBJECT_PREFIX = 'kite';

/** A prefix is one or more dot-separated tokens without wildcards or whitespace. */
export function validatePrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(prefix)) {
    throw new InvalidArgumentError(
      `subjectPrefix must be dot-separated tokens of letters, digits, '_' or '-', got ${JSON.stringify(prefix)}`,
    );
  }
  return prefix;
}

export function tickSubject(prefix: string, exchange: string, token: number): string {
  return `${prefix}.tick.${exchange}.${token}`;
}

/** Subject token for an API key id: anything NATS would read as a separator or wildcard becomes '_'. */
export function subjectToken(text: string): string {
  const cleaned = text.replace(/[\s.*>]/g, '_');
  return cleaned.length > 0 ? cleaned : '_';
}

export function statusSubject(prefix: string, apiKeyId: string): string {
  return `${prefix}.status.${subjectToken(apiKeyId)}`;
}

/** The NATS subject pattern of a filter. */
export function filterSubject(prefix: string, filter: TickFilter): string {
  if (typeof filter === 'string') {
    if (filter.length === 0 || /\s/.test(filter)) {
      throw new InvalidArgumentError(
        `a subject filter must be non-empty without spaces, got ${JSON.stringify(filter)}`,
      );
    }
    return filter;
  }
  const { exchange, token } = filter;
  if (token !== undefined) {
    if (!Number.isInteger(token) || token < 0 || token > MAX_TOKEN) throw new InvalidTokenError(token);
    return tickSubject(prefix, exchange ?? EXCHANGE_BY_SEGMENT[token & 0xff]!, token);
  }
  if (exchange !== undefined) {
    if (!/^[A-Z]+$/.test(exchange)) {
      throw new InvalidArgumentError(
        `exchange must be upper-case letters (NSE, NFO...), got ${JSON.stringify(exchange)}`,
      );
    }
    return `${prefix}.tick.${exchange}.*`;
  }
  return `${prefix}.tick.>`;
}

/**
 * Parses a command-line filter: `all`, `*` or `>` (everything), `NSE` (an exchange), `408065` (an
 * instrument), `NSE:408065` / `NSE.408065` (an instrument on a named exchange), or a raw subject that
 * contains a dot after the prefix (`kite.tick.NFO.*`).
 */
export function parseTickFilter(text: string, prefix: string = DEFAULT_SUBJECT_PREFIX): TickFilter {
  const t = text.trim();
  if (t === '' || t === 'all' || t === '*' || t === '>') return {};
  if (/^\d+$/.test(t)) return { token: Number(t) };
  const pair = /^([A-Za-z]+)[:.](\d+)$/.exec(t);
  if (pair) return { exchange: pair[1]!.toUpperCase() as never, token: Number(pair[2]) };
  if (/^[A-Za-z]+$/.test(t)) return { exchange: t.toUpperCase() as never };
  if (t.startsWith(`${prefix}.`)) return t;
  throw new InvalidArgumentError(
    `cannot read filter ${JSON.stringify(text)}: use all, an exchange (NSE), a token (408065), NSE:408065 or a subject`,
  );
}
