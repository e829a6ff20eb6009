/**
 * Defaults and validation of `KiteTickerOptions`. Everything is checked once, at construction, so a
 * bad option fails loudly where it was written instead of misbehaving at the first reconnect.
 * Messages never echo the access token.
 */
import { DELAY, TIMEOUT } from '../config/limits.js';
import { count, describe, duration, finiteNumber } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { DEFAULT_KITE_URL } from '../protocol/constants.js';
import type { AccessTokenProvider } from './token-provider.js';
import type { KiteTickerOptions, ReconnectPolicy } from './types.js';

export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  enabled: true,
  initialDelayMs: 500,
  multiplier: 2,
  maxDelayMs: 30_000,
  jitter: 'full',
  maxAttempts: Number.POSITIVE_INFINITY,
  resetAfterMs: 30_000,
});

export const DEFAULT_TICKER_OPTIONS = Object.freeze({
  url: DEFAULT_KITE_URL,
  connectTimeoutMs: 10_000,
  livenessTimeoutMs: 5_000,
  maxTokensPerMessage: 1000,
  tokenRefreshIntervalMs: 5_000,
  tokenProviderTimeoutMs: 10_000,
});

/** Options with every default filled in. */
export interface ResolvedTickerOptions {
  apiKey: string;
  /** The token given, or '' when a provider gives it. */
  accessToken: string;
  tokenProvider: AccessTokenProvider | undefined;
  tokenRefreshIntervalMs: number;
  tokenProviderTimeoutMs: number;
  url: string;
  connectTimeoutMs: number;
  reconnect: ReconnectPolicy;
  livenessTimeoutMs: number;
  maxTokensPerMessage: number;
  logger: Logger;
}

/** Validates `options` and fills in defaults; throws InvalidArgumentError naming the first bad option. */
export function resolveTickerOptions(options: KiteTickerOptions): ResolvedTickerOptions {
  if (options === null || typeof options !== 'object') {
    throw new InvalidArgumentError('KiteTicker options must be an object');
  }
  const apiKey = requireString(options.apiKey, 'apiKey');
  const tokenProvider = typeof options.accessToken === 'function' ? options.accessToken : undefined;
  const accessToken = tokenProvider ? '' : validateAccessToken(options.accessToken);
  const tokenRefreshIntervalMs = duration(options.tokenRefreshIntervalMs, 'tokenRefreshIntervalMs', {
    ...TIMEOUT,
    default: DEFAULT_TICKER_OPTIONS.tokenRefreshIntervalMs,
  });
  const tokenProviderTimeoutMs = duration(options.tokenProviderTimeoutMs, 'tokenProviderTimeoutMs', {
    ...TIMEOUT,
    default: DEFAULT_TICKER_OPTIONS.tokenProviderTimeoutMs,
  });
  const url = validateUrl(options.url ?? DEFAULT_TICKER_OPTIONS.url);
  const connectTimeoutMs = duration(options.connectTimeoutMs, 'connectTimeoutMs', {
    ...TIMEOUT,
    default: DEFAULT_TICKER_OPTIONS.connectTimeoutMs,
  });
  const livenessTimeoutMs = duration(options.livenessTimeoutMs, 'livenessTimeoutMs', {
    ...TIMEOUT,
    default: DEFAULT_TICKER_OPTIONS.livenessTimeoutMs,
  });
  const maxTokensPerMessage = count(options.maxTokensPerMessage, 'maxTokensPerMessage', {
    min: 1,
    default: DEFAULT_TICKER_OPTIONS.maxTokensPerMessage,
  });
  const reconnect = resolveReconnectPolicy(options.reconnect);
  const logger = validateLogger(options.logger);
  return {
    apiKey,
    accessToken,
    tokenProvider,
    tokenRefreshIntervalMs,
    tokenProviderTimeoutMs,
    url,
    connectTimeoutMs,
    reconnect,
    livenessTimeoutMs,
    maxTokensPerMessage,
    logger,
  };
}

export function resolveReconnectPolicy(policy: Partial<ReconnectPolicy> | undefined): ReconnectPolicy {
  if (policy === undefined) return { ...DEFAULT_RECONNECT_POLICY };
  if (policy === null || typeof policy !== 'object') {
    throw new InvalidArgumentError('reconnect must be an object of ReconnectPolicy fields');
  }
  const d = DEFAULT_RECONNECT_POLICY;
  const enabled = policy.enabled ?? d.enabled;
  if (typeof enabled !== 'boolean') throw new InvalidArgumentError('reconnect.enabled must be a boolean');
  const initialDelayMs = duration(policy.initialDelayMs, 'reconnect.initialDelayMs', {
    ...DELAY,
    default: d.initialDelayMs,
  });
  const multiplier = finiteNumber(policy.multiplier, 'reconnect.multiplier', {
    min: 1,
    default: d.multiplier,
  });
  const maxDelayMs = duration(policy.maxDelayMs, 'reconnect.maxDelayMs', { ...DELAY, default: d.maxDelayMs });
  const jitter = policy.jitter ?? d.jitter;
  if (jitter !== 'full' && jitter !== 'none') {
    throw new InvalidArgumentError(`reconnect.jitter must be 'full' or 'none', got ${describe(jitter)}`);
  }
  const maxAttempts = count(policy.maxAttempts, 'reconnect.maxAttempts', {
    min: 0,
    infinite: true,
    default: d.maxAttempts,
  });
  const resetAfterMs = duration(policy.resetAfterMs, 'reconnect.resetAfterMs', {
    ...DELAY,
    default: d.resetAfterMs,
  });
  return { enabled, initialDelayMs, multiplier, maxDelayMs, jitter, maxAttempts, resetAfterMs };
}

/** Access tokens are opaque, but never empty and never contain whitespace (they go in a URL). */
export function validateAccessToken(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || /\s/.test(value)) {
    // Deliberately not echoing the value: it may be a real token with a stray character.
    throw new InvalidArgumentError('accessToken must be a non-empty string without whitespace');
  }
  return value;
}

function validateUrl(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError('url must be a non-empty ws:// or wss:// URL');
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidArgumentError(`url is not a valid URL: ${JSON.stringify(value)}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new InvalidArgumentError(`url must use ws:// or wss://, got ${JSON.stringify(parsed.protocol)}`);
  }
  if (parsed.searchParams.has('access_token')) {
    // The token belongs in `accessToken` so that it can be replaced and kept out of logs.
    throw new InvalidArgumentError('url must not carry an access_token; pass accessToken instead');
  }
  return value;
}

function validateLogger(value: unknown): Logger {
  if (value === undefined) return silentLogger;
  const l = value as Partial<Record<keyof Logger, unknown>> | null;
  if (
    l === null ||
    typeof l !== 'object' ||
    typeof l.debug !== 'function' ||
    typeof l.info !== 'function' ||
    typeof l.warn !== 'function' ||
    typeof l.error !== 'function'
  ) {
    throw new InvalidArgumentError('logger must have debug, info, warn and error methods');
  }
  return value as Logger;
}

function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string`);
  }
  return value;
}
