import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECONNECT_POLICY,
  resolveReconnectPolicy,
  resolveTickerOptions,
} from '../../src/connection/options.js';
import type { KiteTickerOptions } from '../../src/connection/types.js';
import { buildConnectUrl, describeUrl } from '../../src/connection/url.js';
import { PACKAGE_VERSION, USER_AGENT } from '../../src/connection/version.js';
import { InvalidArgumentError } from '../../src/errors.js';

const base = { apiKey: 'key', accessToken: 'SECRET_TOKEN_abc' };

function bad(options: Record<string, unknown>): unknown {
  try {
    resolveTickerOptions({ ...base, ...options } as unknown as KiteTickerOptions);
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('connection options', () => {
  it('options - fills every default', () => {
    const o = resolveTickerOptions(base);
    expect(o.url).toBe('wss://ws.kite.trade');
    expect(o.connectTimeoutMs).toBe(10_000);
    expect(o.livenessTimeoutMs).toBe(5_000);
    expect(o.maxTokensPerMessage).toBe(1000);
    expect(o.reconnect).toEqual(DEFAULT_RECONNECT_POLICY);
    expect(o.reconnect.maxAttempts).toBe(Number.POSITIVE_INFINITY);
  });

  it('options - partial reconnect policy overrides only what it names', () => {
    expect(resolveReconnectPolicy({ initialDelayMs: 20, jitter: 'none', maxAttempts: 3 })).toEqual({
      ...DEFAULT_RECONNECT_POLICY,
      initialDelayMs: 20,
      jitter: 'none',
      maxAttempts: 3,
    });
  });

  it.each([
    [{ apiKey: '' }, /apiKey/],
    [{ apiKey: 5 }, /apiKey/],
    [{ accessToken: '' }, /accessToken/],
    [{ accessToken: 'has space' }, /accessToken/],
    [{ url: 'http://x' }, /ws:\/\/ or wss:\/\//],
    [{ url: 'not a url' }, /not a valid URL/],
    [{ url: 'wss://x/?access_token=zzz' }, /must not carry/],
    [{ connectTimeoutMs: 0 }, /connectTimeoutMs/],
    [{ livenessTimeoutMs: Number.NaN }, /livenessTimeoutMs/],
    [{ livenessTimeoutMs: -1 }, /livenessTimeoutMs/],
    [{ maxTokensPerMessage: 1.5 }, /maxTokensPerMessage/],
    [{ maxTokensPerMessage: 0 }, /maxTokensPerMessage/],
    [{ reconnect: { enabled: 'yes' } }, /reconnect.enabled/],
    [{ reconnect: { multiplier: 0.5 } }, /reconnect.multiplier/],
    [{ reconnect: { initialDelayMs: -1 } }, /reconnect.initialDelayMs/],
    [{ reconnect: { maxDelayMs: Number.POSITIVE_INFINITY } }, /reconnect.maxDelayMs/],
    [{ reconnect: { jitter: 'half' } }, /reconnect.jitter/],
    [{ reconnect: { maxAttempts: -1 } }, /reconnect.maxAttempts/],
    [{ reconnect: { maxAttempts: 2.5 } }, /reconnect.maxAttempts/],
    [{ reconnect: { resetAfterMs: -5 } }, /reconnect.resetAfterMs/],
    [{ reconnect: 7 }, /reconnect must be an object/],
    [{ logger: { info() {} } }, /logger/],
  ])('options - rejects %j with InvalidArgumentError', (options, message) => {
    const err = bad(options);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).code).toBe('ERR_INVALID_ARGUMENT');
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('SECRET_TOKEN');
  });

  it('options - an access token with whitespace is refused without echoing it', () => {
    const err = bad({ accessToken: 'SECRET_TOKEN x' });
    expect((err as Error).message).not.toContain('SECRET_TOKEN');
  });

  it('options - accepts maxAttempts Infinity and 0', () => {
    expect(resolveReconnectPolicy({ maxAttempts: 0 }).maxAttempts).toBe(0);
    expect(resolveReconnectPolicy({ maxAttempts: Number.POSITIVE_INFINITY }).maxAttempts).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
});

describe('connection url', () => {
  it('url - appends credentials to a bare endpoint', () => {
    expect(buildConnectUrl('wss://ws.kite.trade', 'k1', 't1')).toBe(
      'wss://ws.kite.trade/?api_key=k1&access_token=t1',
    );
  });

  it('url - keeps an existing path and query', () => {
    const u = new URL(buildConnectUrl('ws://127.0.0.1:9000/feed?x=1', 'k', 't'));
    expect(u.pathname).toBe('/feed');
    expect(u.searchParams.get('x')).toBe('1');
    expect(u.searchParams.get('api_key')).toBe('k');
    expect(u.searchParams.get('access_token')).toBe('t');
  });

  it('url - the loggable form has no query string', () => {
    expect(describeUrl('ws://127.0.0.1:9000/feed?access_token=zzz')).toBe('ws://127.0.0.1:9000/feed');
  });

  it('url - the User-Agent carries the package version', () => {
    expect(PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(PACKAGE_VERSION).not.toBe('0.0.0');
    expect(USER_AGENT).toBe(`kiteticker-manager/${PACKAGE_VERSION}`);
  });
});
