import { describe, expect, it } from 'vitest';
import { loginUrl, requestTokenOf, resolveLoginConfig } from '../../src/cli/commands/login.js';
import { UsageError } from '../../src/cli/exit-codes.js';

describe('cli login config', () => {
  it('cli login config - a request token is taken bare or from a redirected URL, nothing else', () => {
    expect(requestTokenOf('  abcDEF123456 ')).toBe('abcDEF123456');
    expect(
      requestTokenOf('http://127.0.0.1:5010/?request_token=abcdef123456&action=login&status=success'),
    ).toBe('abcdef123456');
    expect(requestTokenOf('/?action=login&request_token=abcdef123456')).toBe('abcdef123456');
    expect(requestTokenOf('http://x/?request_token=abcdef123456&status=cancelled')).toBeUndefined();
    expect(requestTokenOf('http://x/?request_token=a b')).toBeUndefined();
    expect(requestTokenOf('hello world')).toBeUndefined();
    expect(requestTokenOf('')).toBeUndefined();
  });

  it("cli login config - the login URL is Kite's for Kite's API and the API root's otherwise", () => {
    expect(loginUrl('https://api.kite.trade', 'k1')).toBe(
      'https://kite.zerodha.com/connect/login?v=3&api_key=k1',
    );
    expect(loginUrl('http://127.0.0.1:4000', 'sim_key_1')).toBe(
      'http://127.0.0.1:4000/connect/login?v=3&api_key=sim_key_1',
    );
  });

  it('cli login config - the secret comes from the flag or KITE_API_SECRET; bad flags are usage errors', () => {
    const env = { XDG_CONFIG_HOME: '/cfg' };
    const c = resolveLoginConfig({ apiKey: 'k', apiSecret: 's' }, env);
    expect(c).toMatchObject({ apiSecret: 's', keysFile: '/cfg/kiteticker/keys.json', port: 5010 });
    expect(resolveLoginConfig({ apiKey: 'k' }, { KITE_API_SECRET: 'e' }).apiSecret).toBe('e');
    expect(() => resolveLoginConfig({ apiKey: 'k' }, {})).toThrow(UsageError);
    expect(() => resolveLoginConfig({ apiSecret: 's' }, {})).toThrow(/--api-key/);
    expect(() => resolveLoginConfig({ apiKey: 'k', apiSecret: 's', apiUrl: 'ftp://x' }, {})).toThrow(
      /--api-url/,
    );
    expect(() => resolveLoginConfig({ apiKey: 'k', apiSecret: 's', port: '70000' }, {})).toThrow(/--port/);
    expect(() => resolveLoginConfig({ apiKey: 'k', apiSecret: 's', requestToken: 'a b' }, {})).toThrow(
      /--request-token/,
    );
    expect(() => resolveLoginConfig({ apiKey: 'k', apiSecret: 's', timeout: '-1' }, {})).toThrow(/--timeout/);
  });
});

describe('cli simulate trading clock', () => {
  it('cli simulate trading clock - --token-expiry and --clock-speed turn the clock on; neither leaves it off', async () => {
    const { resolveSimulateConfig } = await import('../../src/cli/commands/simulate.js');
    expect(resolveSimulateConfig({}).tradingClock).toBeUndefined();
    expect(resolveSimulateConfig({ clockSpeed: '3600' }).tradingClock).toEqual({ speed: 3600 });
    expect(resolveSimulateConfig({ tokenExpiry: '05:45', clockSpeed: '60' }).tradingClock).toEqual({
      expiresAt: '05:45',
      speed: 60,
    });
    expect(() => resolveSimulateConfig({ tokenExpiry: '25:00' })).toThrow(UsageError);
  });
});
