import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCredentials, parseKeysFile } from '../../src/cli/credentials.js';
import { ExitCode, exitCodeOf, UsageError } from '../../src/cli/exit-codes.js';
import {
  parseInteger,
  parseMode,
  parseNumber,
  parsePort,
  parseWsUrl,
  splitList,
} from '../../src/cli/parse.js';
import { runCli } from '../../src/cli/program.js';
import { resolveStreamConfig } from '../../src/cli/stream-config.js';
import { AuthFailedError, InvalidTokenError } from '../../src/errors.js';
import { memoryIo } from '../helpers/memory-io.js';

describe('cli flag parsing', () => {
  it('cli parse - numbers in range pass, anything else names the flag', () => {
    expect(parseInteger('--n', ' 42 ', 1, 100)).toBe(42);
    expect(() => parseInteger('--n', '4.5', 1, 100)).toThrow(
      /--n: expected a whole number from 1 to 100, got "4.5"/,
    );
    expect(() => parseInteger('--n', '101', 1, 100)).toThrow(UsageError);
    expect(() => parseInteger('--n', '', 1, 100)).toThrow(UsageError);
    expect(parseNumber('--d', '1.5', 0, 10)).toBe(1.5);
    expect(() => parseNumber('--d', 'abc', 0, 10)).toThrow(/--d: expected a number/);
    expect(() => parseNumber('--d', 'Infinity', 0, 10)).toThrow(UsageError);
    expect(parsePort('--p', '0')).toBe(0);
    expect(() => parsePort('--p', '65536')).toThrow(UsageError);
  });

  it('cli parse - modes are case-insensitive, unknown ones rejected', () => {
    expect(parseMode('--mode', 'FULL')).toBe('full');
    expect(() => parseMode('--mode', 'fast')).toThrow(/expected ltp, quote or full, got "fast"/);
  });

  it('cli parse - urls must be ws or wss; lists split on commas only (symbols may hold spaces)', () => {
    expect(parseWsUrl('--url', 'ws://127.0.0.1:1')).toBe('ws://127.0.0.1:1');
    expect(() => parseWsUrl('--url', 'http://x')).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => parseWsUrl('--url', 'nope')).toThrow(/not a valid URL/);
    expect(splitList('NSE:INFY, 256265 ,NSE:TCS,,')).toEqual(['NSE:INFY', '256265', 'NSE:TCS']);
    expect(splitList('NSE:NIFTY 50,NSE:NIFTY BANK, NSE:INDIA VIX')).toEqual([
      'NSE:NIFTY 50',
      'NSE:NIFTY BANK',
      'NSE:INDIA VIX',
    ]);
  });

  it('cli parse - usage errors map to exit 2, runtime errors to exit 1', () => {
    expect(exitCodeOf(new UsageError('x'))).toBe(ExitCode.Usage);
    expect(exitCodeOf(new InvalidTokenError('x'))).toBe(ExitCode.Usage);
    expect(exitCodeOf(new AuthFailedError(403))).toBe(ExitCode.Runtime);
    expect(exitCodeOf(new Error('boom'))).toBe(ExitCode.Runtime);
  });
});

describe('cli credentials', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kt-cred-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cli credentials - numbered variables win over the single pair, gaps allowed', () => {
    const env = {
      KITE_API_KEY: 'single',
      KITE_ACCESS_TOKEN: 'single_tok',
      KITE_API_KEY_1: 'k1',
      KITE_ACCESS_TOKEN_1: 't1',
      KITE_API_KEY_3: 'k3',
      KITE_ACCESS_TOKEN_3: 't3',
      KITE_API_KEY_ID_3: 'backup',
    };
    expect(loadCredentials(env)).toEqual({
      source: 'env-numbered',
      keys: [
        { id: 'key1', apiKey: 'k1', accessToken: 't1' },
        { id: 'backup', apiKey: 'k3', accessToken: 't3' },
      ],
    });
  });

  it('cli credentials - the single pair, or none at all (simulator)', () => {
    expect(loadCredentials({ KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't' }).keys).toEqual([
      { id: 'main', apiKey: 'k', accessToken: 't' },
    ]);
    expect(loadCredentials({})).toEqual({ source: 'none', keys: [] });
  });

  it('cli credentials - half a pair is an error that never shows the token', () => {
    const secret = 'tok_VERY_SECRET_123';
    for (const env of [{ KITE_ACCESS_TOKEN: secret }, { KITE_ACCESS_TOKEN_2: secret }]) {
      let message = '';
      try {
        loadCredentials(env);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        message = (error as Error).message;
      }
      expect(message).toMatch(/KITE_API_KEY(_2)? is not/);
      expect(message).not.toContain(secret);
    }
  });

  it('cli credentials - keys file: camelCase or snake_case entries, errors name the entry', async () => {
    expect(
      parseKeysFile(
        '[{"id":"a","apiKey":"k","accessToken":"t"},{"api_key":"k2","access_token":"t2"}]',
        'f.json',
      ),
    ).toEqual([
      { id: 'a', apiKey: 'k', accessToken: 't' },
      { id: 'key2', apiKey: 'k2', accessToken: 't2' },
    ]);
    expect(() => parseKeysFile('[{"apiKey":"k"}]', 'f.json')).toThrow(
      /f.json: entry 0 \("key1"\) has no accessToken/,
    );
    expect(() => parseKeysFile('{}', 'f.json')).toThrow(/non-empty JSON array/);
    expect(() => parseKeysFile('nope', 'f.json')).toThrow(/not valid JSON/);
    expect(() =>
      parseKeysFile(
        '[{"id":"a","apiKey":"k","accessToken":"t"},{"id":"a","apiKey":"k","accessToken":"t"}]',
        'f',
      ),
    ).toThrow(/appears twice/);
    const path = join(dir, 'keys.json');
    await writeFile(path, '[{"id":"x","apiKey":"k","accessToken":"t"}]');
    expect(loadCredentials({ KITE_API_KEY: 'ignored', KITE_ACCESS_TOKEN: 'ignored' }, path).keys[0]!.id).toBe(
      'x',
    );
    expect(() => loadCredentials({}, join(dir, 'missing.json'))).toThrow(/--keys-file: cannot read .*ENOENT/);
  });
});

describe('cli stream config', () => {
  it('cli config - defaults: simulator, quote mode, view on a terminal, ndjson when piped', () => {
    const tty = resolveStreamConfig([], {}, {}, true);
    expect(tty).toMatchObject({
      simulator: true,
      mode: 'quote',
      format: 'view',
      instrumentsCount: 500,
      quotes: 20,
    });
    expect(tty.durationMs).toBeUndefined();
    expect(resolveStreamConfig([], {}, {}, false).format).toBe('ndjson');
    expect(resolveStreamConfig([], {}, {}, false, 'none').format).toBe('none');
    expect(resolveStreamConfig([], { format: 'ndjson' }, {}, true).format).toBe('ndjson');
  });

  it('cli config - instruments come from arguments and repeated --symbols, in order', () => {
    const c = resolveStreamConfig(
      ['256265', 'NSE:INFY'],
      { symbols: ['NSE:TCS,408065', 'NFO:X'] },
      {},
      false,
    );
    expect(c.instrumentSpecs).toEqual(['256265', 'NSE:INFY', 'NSE:TCS', '408065', 'NFO:X']);
  });

  it('cli config - capacity is keys x connections x instruments per connection', () => {
    expect(resolveStreamConfig([], { instrumentsCount: '27000' }, {}, false).instrumentsCount).toBe(27000);
    expect(() => resolveStreamConfig([], { instrumentsCount: '27001' }, {}, false)).toThrow(
      /from 1 to 27000/,
    );
    expect(() =>
      resolveStreamConfig(
        [],
        { instrumentsCount: '10', connectionsPerKey: '1', symbolsPerConnection: '3' },
        { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't' },
        false,
      ),
    ).toThrow(/from 1 to 3/);
  });

  it('cli config - --url without credentials is a usage error; duration is in seconds', () => {
    expect(() => resolveStreamConfig([], { url: 'ws://127.0.0.1:9' }, {}, false)).toThrow(
      /--url needs credentials/,
    );
    const c = resolveStreamConfig(
      [],
      { url: 'ws://127.0.0.1:9', duration: '2.5' },
      { KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 't' },
      false,
    );
    expect(c).toMatchObject({ simulator: false, url: 'ws://127.0.0.1:9', durationMs: 2500 });
    expect(() => resolveStreamConfig([], { duration: '0' }, {}, false)).toThrow(/--duration/);
    expect(() => resolveStreamConfig([], { format: 'xml' }, {}, false)).toThrow(/--format: expected one of/);
  });
});

describe('cli program', () => {
  const io = () => memoryIo();

  it('cli program - --help on every command exits 0 and lists its flags', async () => {
    for (const [cmd, flag] of [
      ['stream', '--instruments-count'],
      ['record', '--out'],
      ['replay', '--speed'],
      ['simulate', '--chaos'],
    ] as const) {
      const t = io();
      expect(await runCli([cmd, '--help'], t.io)).toBe(0);
      expect(t.out()).toContain(flag);
    }
    const t = io();
    expect(await runCli(['--help'], t.io)).toBe(0);
    expect(t.out()).toMatch(/Exit codes: 0 success, 1 runtime failure .*, 2 usage error/);
  });

  it('cli program - unknown commands, options and missing arguments exit 2', async () => {
    for (const argv of [
      ['nope'],
      ['stream', '--nope'],
      ['replay'],
      ['record'],
      ['simulate', '--port', 'x'],
      ['simulate', '--token-expiry', '6am'],
      ['simulate', '--clock-speed', '0'],
      ['simulate', '--clock-speed', '1e9'],
    ]) {
      const t = io();
      expect(await runCli(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err()).toMatch(/error|expected/);
    }
  });
});
