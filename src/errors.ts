/**
 * Every error this library throws or reports is a `KiteTickerError` with a stable `code`, made here
 * and nowhere else, so callers can branch on `instanceof` or on `error.code` alike: each code has
 * exactly one class (test/unit/errors-model.test.ts holds that, and that docs/errors.md lists every
 * code). Other files construct the subclasses, never the base. Messages never contain access tokens
 * (see `redact`).
 */

export const ErrorCode = {
  /** An argument or option is invalid (bad number, unknown mode, not a whole-number token...). */
  InvalidArgument: 'ERR_INVALID_ARGUMENT',
  /** An instrument token is not a whole number in 0..2^32-1. */
  InvalidToken: 'ERR_INVALID_TOKEN',
  /** Not enough free capacity for every new token of a call; nothing of that call was placed. */
  Capacity: 'ERR_CAPACITY',
  /** An API key id that the manager does not know. */
  ApiKeyNotFound: 'ERR_API_KEY_NOT_FOUND',
  /** An API key id added twice to a builder, or one apiKey under two ids. */
  DuplicateApiKey: 'ERR_DUPLICATE_API_KEY',
  /** `subscribeSymbols` under the Manual distribution strategy. */
  ManualDistribution: 'ERR_MANUAL_DISTRIBUTION',
  /** HTTP 403 at the upgrade: the API key / access token pair was refused. */
  AuthFailed: 'ERR_AUTH_FAILED',
  /** The connection attempt did not complete within the connect timeout. */
  ConnectTimeout: 'ERR_CONNECT_TIMEOUT',
  /** A pending operation was aborted by an AbortSignal. */
  Aborted: 'ERR_ABORTED',
  /** The object was closed/stopped; the call cannot proceed. */
  Closed: 'ERR_CLOSED',
  /** The manager was not started. */
  NotStarted: 'ERR_NOT_STARTED',
  /** A network fault or an upgrade refused with a retryable status (429, 5xx). */
  Connection: 'ERR_CONNECTION',
  /** The reconnect policy's max attempts were used up. */
  ReconnectExhausted: 'ERR_RECONNECT_EXHAUSTED',
  /** An `EXCHANGE:TRADINGSYMBOL` (or underlying) that the instrument list does not know. */
  UnknownInstrument: 'ERR_UNKNOWN_INSTRUMENT',
  /** A derivative whose expiry date has passed. */
  ExpiredInstrument: 'ERR_EXPIRED_INSTRUMENT',
  /** The instruments list could not be downloaded (HTTP error, truncated or unreadable body). */
  InstrumentsDownload: 'ERR_INSTRUMENTS_DOWNLOAD',
  /** A NATS tick message whose payload is not a valid envelope (binary or JSON). */
  MalformedEnvelope: 'ERR_MALFORMED_ENVELOPE',
  /** Code the library called (a factory, a listener) threw a value that is not an Error. */
  Unexpected: 'ERR_UNEXPECTED',
  /** An access-token provider threw, timed out, or returned something that is not a token. */
  TokenProvider: 'ERR_TOKEN_PROVIDER',
  /** The REST login (`POST /session/token`) failed: refused, unreachable, or answered nonsense. */
  Login: 'ERR_LOGIN',
  /** An entry of a high-availability bucket (lease, member, want) that cannot be read: reported, ignored. */
  HaEntry: 'ERR_HA_ENTRY',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The base of every error of the library. Catch it to catch them all; construct a subclass (one per
 * code) rather than this class.
 */
export class KiteTickerError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KiteTickerError';
    this.code = code;
  }
}

export class InvalidArgumentError extends KiteTickerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.InvalidArgument, message, options);
    this.name = 'InvalidArgumentError';
  }
}

export class InvalidTokenError extends KiteTickerError {
  /** The offending value, as given. */
  readonly value: unknown;
  constructor(value: unknown) {
    super(
      ErrorCode.InvalidToken,
      `invalid instrument token ${describeValue(value)}: expected a whole number from 0 to 4294967295`,
    );
    this.name = 'InvalidTokenError';
    this.value = value;
  }
}

export class CapacityError extends KiteTickerError {
  /** New tokens the call asked to place. */
  readonly requested: number;
  /** How many of them would fit right now. */
  readonly available: number;
  constructor(requested: number, available: number, scope: string) {
    super(
      ErrorCode.Capacity,
      `not enough capacity on ${scope}: ${requested} new tokens requested, ${available} would fit; nothing was subscribed`,
    );
    this.name = 'CapacityError';
    this.requested = requested;
    this.available = available;
  }
}

export class ApiKeyNotFoundError extends KiteTickerError {
  readonly apiKeyId: string;
  constructor(apiKeyId: string) {
    super(ErrorCode.ApiKeyNotFound, `API key not found: ${JSON.stringify(apiKeyId)}`);
    this.name = 'ApiKeyNotFoundError';
    this.apiKeyId = apiKeyId;
  }
}

/**
 * Two entries (ids) with the same `apiKey`. Kite allows 3 sockets per API key, not per entry: two
 * pools for one key would together exceed it and fail later with a misleading connect timeout.
 * Names the ids only; the apiKey is not repeated and the access tokens never are.
 * `firstId === duplicateId` means one id was added twice: the same code, since either way two entries
 * collide.
 */
export class DuplicateApiKeyError extends KiteTickerError {
  /** The id that came first and the one that repeats its apiKey (the same id when it was added twice). */
  readonly firstId: string;
  readonly duplicateId: string;
  constructor(firstId: string, duplicateId: string, where = '') {
    super(
      ErrorCode.DuplicateApiKey,
      firstId === duplicateId
        ? `${where}duplicate API key id ${JSON.stringify(firstId)}: each addApiKey() needs a unique id`
        : `${where}API key ids ${JSON.stringify(firstId)} and ${JSON.stringify(duplicateId)} have the same apiKey: Kite allows 3 connections per API key (not per id), so give each apiKey once`,
    );
    this.name = 'DuplicateApiKeyError';
    this.firstId = firstId;
    this.duplicateId = duplicateId;
  }
}

/** `subscribeSymbols` under `DistributionStrategy.Manual`, which never places tokens by itself. */
export class ManualDistributionError extends KiteTickerError {
  constructor() {
    super(
      ErrorCode.ManualDistribution,
      'subscribeSymbols cannot auto-distribute under DistributionStrategy.Manual: use subscribeSymbolsToApi(apiKeyId, tokens, mode)',
    );
    this.name = 'ManualDistributionError';
  }
}

export class AuthFailedError extends KiteTickerError {
  /** HTTP status of the refused upgrade (403). */
  readonly status: number;
  /**
   * @param status the refused upgrade's HTTP status; 0 when no upgrade was tried (no token yet).
   * @param advice what happens next (default: call updateAccessToken()).
   */
  constructor(status: number, apiKey?: string, advice?: string) {
    super(
      ErrorCode.AuthFailed,
      `authentication failed (${status === 0 ? 'no access token yet' : `HTTP ${status}`})${apiKey ? ` for api_key ${apiKey}` : ''}: ${advice ?? 'the access token is invalid or expired; call updateAccessToken() with a fresh one'}`,
    );
    this.name = 'AuthFailedError';
    this.status = status;
  }
}

export class ConnectionError extends KiteTickerError {
  /** HTTP status of a refused upgrade, when there was one. */
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(ErrorCode.Connection, message, options);
    this.name = 'ConnectionError';
    this.status = options?.status;
  }
}

/** The connection (or the set of connections) did not open within its connect timeout. */
export class ConnectTimeoutError extends KiteTickerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ConnectTimeout, message, options);
    this.name = 'ConnectTimeoutError';
  }
}

/** The reconnect policy gave up (or reconnect is off); `cause` is the last failure. */
export class ReconnectExhaustedError extends KiteTickerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.ReconnectExhausted, message, options);
    this.name = 'ReconnectExhaustedError';
  }
}

/** A pending operation was aborted through its AbortSignal; `cause` is the signal's reason. */
export class AbortedError extends KiteTickerError {
  constructor(reason?: unknown) {
    super(ErrorCode.Aborted, 'the operation was aborted', { cause: reason });
    this.name = 'AbortedError';
  }
}

/** The object was closed or stopped for good; create a new one. */
export class ClosedError extends KiteTickerError {
  constructor(message: string) {
    super(ErrorCode.Closed, message);
    this.name = 'ClosedError';
  }
}

/** A call that needs a started object (`await start()` first). */
export class NotStartedError extends KiteTickerError {
  constructor(message: string) {
    super(ErrorCode.NotStarted, message);
    this.name = 'NotStartedError';
  }
}

export class UnknownInstrumentError extends KiteTickerError {
  /** The symbol as given. */
  readonly symbol: string;
  /** The closest known symbols (`EXCHANGE:TRADINGSYMBOL`), best first; may be empty. */
  readonly suggestions: readonly string[];
  constructor(symbol: string, suggestions: readonly string[], what = 'instrument symbol') {
    super(
      ErrorCode.UnknownInstrument,
      `unknown ${what}: ${JSON.stringify(symbol)}${suggestions.length > 0 ? `; closest: ${suggestions.join(', ')}` : ''}`,
    );
    this.name = 'UnknownInstrumentError';
    this.symbol = symbol;
    this.suggestions = suggestions;
  }
}

export class ExpiredInstrumentError extends KiteTickerError {
  readonly symbol: string;
  /** The derivative's expiry, `YYYY-MM-DD`. */
  readonly expiry: string;
  constructor(symbol: string, expiry: string, today: string) {
    super(
      ErrorCode.ExpiredInstrument,
      `${symbol} expired on ${expiry} (today is ${today} in Asia/Kolkata); the instrument list may be stale or the contract rolled over`,
    );
    this.name = 'ExpiredInstrumentError';
    this.symbol = symbol;
    this.expiry = expiry;
  }
}

export class InstrumentsDownloadError extends KiteTickerError {
  /** HTTP status, when the server answered. */
  readonly status: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number }) {
    super(ErrorCode.InstrumentsDownload, message, options);
    this.name = 'InstrumentsDownloadError';
    this.status = options?.status;
  }
}

/**
 * A NATS tick message that cannot be read as an envelope: the consumer counts it and skips it.
 * `cause` is the JSON parser's error for an unparsable JSON payload.
 */
export class MalformedEnvelopeError extends KiteTickerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.MalformedEnvelope, message, options);
    this.name = 'MalformedEnvelopeError';
  }
}

/**
 * A value that is not an Error (a string, an object) thrown by code the library called: a factory
 * or a listener. Reported so that 'error' listeners always receive an Error; the message is the
 * value as text, redacted, and the value itself is not kept (it could hold a secret).
 */
export class UnexpectedError extends KiteTickerError {
  constructor(message: string) {
    super(ErrorCode.Unexpected, message);
    this.name = 'UnexpectedError';
  }
}

/**
 * An entry of a high-availability bucket (`KITE_HA_<GROUP>`) that is not a lease, member or want record
 * this library wrote: too large, not JSON, nested, the wrong types. Reported on the controller's
 * 'error' event and otherwise ignored (a lease that cannot be read lapses like any other).
 */
export class HaEntryError extends KiteTickerError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCode.HaEntry, message, options);
    this.name = 'HaEntryError';
  }
}

/** `<what> is closed`: the one wording of ERR_CLOSED for closed objects. */
export function closedError(what: string): ClosedError {
  return new ClosedError(`${what} is closed`);
}

export function abortedError(reason?: unknown): AbortedError {
  return new AbortedError(reason);
}

function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  return Object.prototype.toString.call(value);
}

/** The library's one redaction routine lives in redact.ts; re-exported here for existing imports. */
export { redact } from './redact.js';

/** An access-token provider threw, did not answer in time, or returned something that is not a token. */
/** `kiteticker login`'s token exchange failed; the message says why (never the secret or a token). */
export class LoginError extends KiteTickerError {
  constructor(message: string) {
    super(ErrorCode.Login, message);
    this.name = 'LoginError';
  }
}

export class TokenProviderError extends KiteTickerError {
  constructor(message: string) {
    super(ErrorCode.TokenProvider, message);
    this.name = 'TokenProviderError';
  }
}
