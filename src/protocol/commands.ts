/**
 * Client -> server text commands (kite-protocol.md 3): `{"a":"subscribe","v":[...]}`,
 * `{"a":"unsubscribe","v":[...]}`, `{"a":"mode","v":["full",[...]]}`. Tokens are sent as JSON numbers
 * (string tokens reportedly yield no data). `parseClientCommand` is the server side, for the simulator.
 */
import { InvalidArgumentError, InvalidTokenError } from '../errors.js';
import { isMode, MAX_TOKEN, type Mode } from './constants.js';

/** Default number of tokens per command message. Kite documents no limit; this keeps messages ~10 KB. */
export const DEFAULT_MAX_TOKENS_PER_MESSAGE = 1000;

export type ClientCommand =
  | { action: 'subscribe' | 'unsubscribe'; tokens: number[] }
  | { action: 'mode'; mode: Mode; tokens: number[] };

/** Characters of a bad value quoted in an error text. */
const DESCRIBE_CHARS = 40;

export type ParseClientCommandResult = { ok: true; command: ClientCommand } | { ok: false; error: string };

function isToken(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN;
}

/**
 * Checks that every element is a whole number in 0..2^32-1 and returns them as a new number[].
 * @throws InvalidTokenError naming the first bad value; InvalidArgumentError if `tokens` is not an array.
 */
export function validateTokens(tokens: readonly unknown[]): number[] {
  if (!Array.isArray(tokens)) throw new InvalidArgumentError('tokens must be an array of instrument tokens');
  const out: number[] = new Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const t: unknown = tokens[i];
    if (!isToken(t)) throw new InvalidTokenError(t);
    out[i] = t;
  }
  return out;
}

function checkMax(maxPerMessage: number): void {
  if (!Number.isInteger(maxPerMessage) || maxPerMessage < 1) {
    throw new InvalidArgumentError(`maxPerMessage must be a whole number >= 1, got ${String(maxPerMessage)}`);
  }
}

/** Splits validated tokens into chunks and renders each with `render`. Empty list -> no messages. */
function chunked(tokens: readonly number[], maxPerMessage: number, prefix: string, suffix: string): string[] {
  checkMax(maxPerMessage);
  const valid = validateTokens(tokens);
  const out: string[] = [];
  for (let i = 0; i < valid.length; i += maxPerMessage) {
    // Tokens are validated integers, so join(',') is exactly their JSON rendering.
    out.push(`${prefix}[${valid.slice(i, i + maxPerMessage).join(',')}]${suffix}`);
  }
  return out;
}

/**
 * `{"a":"subscribe","v":[...]}` messages of at most `maxPerMessage` tokens each (default 1000).
 * @throws InvalidTokenError, InvalidArgumentError
 */
export function encodeSubscribe(
  tokens: readonly number[],
  maxPerMessage: number = DEFAULT_MAX_TOKENS_PER_MESSAGE,
): string[] {
  return chunked(tokens, maxPerMessage, '{"a":"subscribe","v":', '}');
}

/** `{"a":"unsubscribe","v":[...]}` messages, chunked like encodeSubscribe. */
export function encodeUnsubscribe(
  tokens: readonly number[],
  maxPerMessage: number = DEFAULT_MAX_TOKENS_PER_MESSAGE,
): string[] {
  return chunked(tokens, maxPerMessage, '{"a":"unsubscribe","v":', '}');
}

/** `{"a":"mode","v":["full",[...]]}` messages, chunked like encodeSubscribe. */
export function encodeMode(
  mode: Mode,
  tokens: readonly number[],
  maxPerMessage: number = DEFAULT_MAX_TOKENS_PER_MESSAGE,
): string[] {
  if (!isMode(mode)) {
    throw new InvalidArgumentError(`unknown mode ${JSON.stringify(mode)}: expected "ltp", "quote" or "full"`);
  }
  return chunked(tokens, maxPerMessage, `{"a":"mode","v":["${mode}",`, ']}');
}

/**
 * Server side: parses and strictly validates a client text message. Never throws.
 * Accepts exactly the shapes above (keys `a` and `v` only, tokens as whole JSON numbers).
 */
export function parseClientCommand(text: string): ParseClientCommandResult {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return fail('message is not valid JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    return fail('message must be a JSON object with keys "a" and "v"');
  }
  const record = msg as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (key !== 'a' && key !== 'v') return fail(`unexpected key ${describe(key)}`);
  }
  const action = record.a;
  const value = record.v;
  if (action === 'subscribe' || action === 'unsubscribe') {
    const tokens = tokenList(value, '"v"');
    if (typeof tokens === 'string') return fail(tokens);
    return { ok: true, command: { action, tokens } };
  }
  if (action === 'mode') {
    if (!Array.isArray(value) || value.length !== 2) {
      return fail('"v" of a mode message must be [mode, [tokens...]]');
    }
    const mode: unknown = value[0];
    if (!isMode(mode)) {
      return fail(`unknown mode ${describe(mode)}: expected "ltp", "quote" or "full"`);
    }
    const tokens = tokenList(value[1], 'the token list of a mode message');
    if (typeof tokens === 'string') return fail(tokens);
    return { ok: true, command: { action: 'mode', mode, tokens } };
  }
  if (action === undefined) return fail('missing action "a"');
  return fail(`unknown action ${describe(action)}: expected "subscribe", "unsubscribe" or "mode"`);
}

/** The token list, or an error string. */
function tokenList(value: unknown, what: string): number[] | string {
  if (!Array.isArray(value)) return `${what} must be an array of instrument tokens`;
  const out: number[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const t: unknown = value[i];
    if (!isToken(t)) {
      return `${what}: element ${i} is ${describe(t)}, expected a whole number from 0 to 4294967295`;
    }
    out[i] = t;
  }
  return out;
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

/**
 * A short rendering of a client-supplied value for an error text. Never recurses and never renders more
 * than 43 characters: a hostile command may nest arrays 20,000 deep (JSON.stringify would throw
 * RangeError) or carry a megabyte-long string.
 */
function describe(value: unknown): string {
  if (typeof value === 'string') {
    // Quoted and escaped (no raw control character goes back), then cut: escapes make it longer.
    const cut = value.length > DESCRIBE_CHARS;
    const json = JSON.stringify(cut ? value.slice(0, DESCRIBE_CHARS) : value);
    return cut || json.length > DESCRIBE_CHARS + 2 ? `${json.slice(0, DESCRIBE_CHARS)}...` : json;
  }
  if (Array.isArray(value)) return `an array of ${value.length} element(s)`;
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  // Numbers and booleans (all JSON.parse can give besides the above) render short.
  return String(value);
}
