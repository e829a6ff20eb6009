/**
 * Manager defaults in one place, and validation that names the bad option. Reconnect settings are
 * passed through to each connection, which validates them itself.
 */
import { resolveReconnectPolicy, validateAccessToken as validateTickerToken } from '../connection/options.js';
import { InvalidArgumentError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { DEFAULT_KITE_URL, isMode, KITE_LIMITS } from '../protocol/constants.js';
import { DEFAULT_CHANNEL_CAPACITY } from '../stream/bounded-channel.js';
import type { KiteTickerManagerConfig } from './types.js';

export const MANAGER_DEFAULTS: Readonly<KiteTickerManagerConfig> = Object.freeze({
  maxConnections: KITE_LIMITS.maxConnectionsPerApiKey,
  maxSymbolsPerConnection: KITE_LIMITS.maxInstrumentsPerConnection,
  defaultMode: 'quote',
  connectionTimeoutMs: 30_000,
  healthCheckIntervalMs: 10_000,
  reconnect: {},
  livenessTimeoutMs: 5_000,
  url: DEFAULT_KITE_URL,
  channelCapacity: DEFAULT_CHANNEL_CAPACITY,
  overflow: 'drop-oldest',
  maxTokensPerMessage: 1000,
  logger: silentLogger,
});

function wholeInRange(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(`${name} must be a whole number ${range}, got ${describe(value)}`);
  }
  return value;
}

function positiveMs(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(
      `${name} must be a positive number of milliseconds, got ${describe(value)}`,
    );
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

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
  validateAccessToken(accessToken);
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
  wholeInRange('maxConnections', c.maxConnections, 1, KITE_LIMITS.maxConnectionsPerApiKey);
  wholeInRange(
    'maxSymbolsPerConnection',
    c.maxSymbolsPerConnection,
    1,
    KITE_LIMITS.maxInstrumentsPerConnection,
  );
  if (!isMode(c.defaultMode)) {
    throw new InvalidArgumentError(
      `defaultMode must be 'ltp', 'quote' or 'full', got ${describe(c.defaultMode)}`,
    );
  }
  positiveMs('connectionTimeoutMs', c.connectionTimeoutMs);
  positiveMs('healthCheckIntervalMs', c.healthCheckIntervalMs);
  positiveMs('livenessTimeoutMs', c.livenessTimeoutMs);
  if (typeof c.reconnect !== 'object' || c.reconnect === null) {
    throw new InvalidArgumentError(`reconnect must be an object, got ${describe(c.reconnect)}`);
  }
  // Each field too, now rather than at the first connect.
  resolveReconnectPolicy(c.reconnect);
  if (typeof c.url !== 'string' || !/^wss?:\/\/[^\s]+$/.test(c.url)) {
    throw new InvalidArgumentError(`url must be a ws:// or wss:// URL, got ${describe(c.url)}`);
  }
  wholeInRange('channelCapacity', c.channelCapacity, 1, Number.MAX_SAFE_INTEGER);
  if (c.overflow !== 'drop-oldest' && c.overflow !== 'drop-newest') {
    throw new InvalidArgumentError(
      `overflow must be 'drop-oldest' or 'drop-newest', got ${describe(c.overflow)}`,
    );
  }
  wholeInRange('maxTokensPerMessage', c.maxTokensPerMessage, 1, Number.MAX_SAFE_INTEGER);
  if (!isLogger(c.logger)) {
    throw new InvalidArgumentError('logger must have debug, info, warn and error methods');
  }
  return { ...c, reconnect: { ...c.reconnect } };
}
