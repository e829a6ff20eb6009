/**
 * Manager defaults in one place, and validation that names the bad option. Reconnect settings are
 * passed through to each connection, which validates them itself.
 */
import { CHANNEL_CAPACITY, TIMEOUT } from '../config/limits.js';
import { count, describe, duration } from '../config/validate.js';
import { resolveReconnectPolicy, validateAccessToken as validateTickerToken } from '../connection/options.js';
import { DEFAULT_CHANNEL_CAPACITY } from '../delivery/bounded-channel.js';
import { InvalidArgumentError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { DEFAULT_KITE_URL, isMode, KITE_LIMITS } from '../protocol/constants.js';
import type { KiteTickerManagerConfig } from './types.js';

export const MANAGER_DEFAULTS: Readonly<KiteTickerManagerConfig> = Object.freeze({
  maxConnections: KITE_LIMITS.maxConnectionsPerApiKey,
  maxSymbolsPerConnection: KITE_LIMITS.maxInstrumentsPerConnection,
  defaultMode: 'quote',
  connectionTimeoutMs: 30_000,
  healthCheckIntervalMs: 10_000,
  reconnect: {},
  livenessTimeoutMs: 5_000,
  tokenRefreshIntervalMs: 5_000,
  tokenProviderTimeoutMs: 10_000,
  url: DEFAULT_KITE_URL,
  channelCapacity: DEFAULT_CHANNEL_CAPACITY,
  overflow: 'drop-oldest',
  maxTokensPerMessage: 1000,
  logger: silentLogger,
  placement: 'fill',
});

function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const l = value as Record<string, unknown>;
  return (
    typeof l.debug === 'function' &&
    typeof l.info === 'function' &&
    typeof l.warn === 'function' &&
    typeof l.error === 'function'
  );
}

/** Checks the credentials' shape; messages never include their values. */
export function validateCredentials(apiKey: unknown, accessToken: unknown): void {
  if (typeof apiKey !== 'string' || apiKey.length === 0) {
    throw new InvalidArgumentError('apiKey must be a non-empty string');
  }
  // A provider (connection/token-provider.ts) is checked by the connections, per call.
  if (typeof accessToken !== 'function') validateAccessToken(accessToken);
}

export function validateAccessToken(accessToken: unknown): void {
  // The connection's rule (non-empty, no whitespace), checked before anything is stored: a token the
  // connections would refuse must never become the one new sockets are opened with.
  validateTickerToken(accessToken);
}

/** Applies defaults and validates; throws InvalidArgumentError naming the first bad option. */
export function resolveManagerConfig(
  options: Partial<KiteTickerManagerConfig> = {},
): KiteTickerManagerConfig {
  const merged = { ...MANAGER_DEFAULTS };
  for (const [key, value] of Object.entries(options)) {
    // An explicit `undefined` means "use the default", as with an absent key.
    if (value !== undefined && key in MANAGER_DEFAULTS) (merged as Record<string, unknown>)[key] = value;
  }
  const c = merged as KiteTickerManagerConfig;
  count(c.maxConnections, 'maxConnections', { min: 1, max: KITE_LIMITS.maxConnectionsPerApiKey });
  count(c.maxSymbolsPerConnection, 'maxSymbolsPerConnection', {
    min: 1,
    max: KITE_LIMITS.maxInstrumentsPerConnection,
  });
  if (!isMode(c.defaultMode)) {
    throw new InvalidArgumentError(
      `defaultMode must be 'ltp', 'quote' or 'full', got ${describe(c.defaultMode)}`,
    );
  }
  duration(c.connectionTimeoutMs, 'connectionTimeoutMs', TIMEOUT);
  duration(c.healthCheckIntervalMs, 'healthCheckIntervalMs', TIMEOUT);
  duration(c.livenessTimeoutMs, 'livenessTimeoutMs', TIMEOUT);
  duration(c.tokenRefreshIntervalMs, 'tokenRefreshIntervalMs', TIMEOUT);
  duration(c.tokenProviderTimeoutMs, 'tokenProviderTimeoutMs', TIMEOUT);
  if (typeof c.reconnect !== 'object' || c.reconnect === null) {
    throw new InvalidArgumentError(`reconnect must be an object, got ${describe(c.reconnect)}`);
  }
  // Each field too, now rather than at the first connect.
  resolveReconnectPolicy(c.reconnect);
  if (typeof c.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(c.url)) {
    throw new InvalidArgumentError(`url must be a ws:// or wss:// URL, got ${describe(c.url)}`);
  }
  count(c.channelCapacity, 'channelCapacity', CHANNEL_CAPACITY);
  if (c.overflow !== 'drop-oldest' && c.overflow !== 'drop-newest') {
    throw new InvalidArgumentError(
      `overflow must be 'drop-oldest' or 'drop-newest', got ${describe(c.overflow)}`,
    );
  }
  count(c.maxTokensPerMessage, 'maxTokensPerMessage', { min: 1 });
  if (c.placement !== 'fill' && c.placement !== 'spread') {
    throw new InvalidArgumentError(`placement must be 'fill' or 'spread', got ${describe(c.placement)}`);
  }
  if (!isLogger(c.logger)) {
    throw new InvalidArgumentError('logger must have debug, info, warn and error methods');
  }
  return { ...c, reconnect: { ...c.reconnect } };
}
