/** First-hour details of the CLI that need no process: messages, prefixes, numbers. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadCredentials, parseKeysFile } from '../../src/cli/credentials.js';
import { ExitCode, exitCodeOf } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import { DuplicateApiKeyError, ErrorCode, KiteTickerError } from '../../src/errors.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return {
    io: { stdout, stderr, env, onStopSignal: () => () => undefined },
    out: () => out,
    err: () => err,
  };
}

describe('cli usage errors', () => {
  it("cli program - commander's own errors carry the documented 'kiteticker: error:' prefix and exit 2", async () => {
    for (const [argv, message] of [
      [['stream', '--bogus'], /^kiteticker: error: unknown option '--bogus'$/m],
      [['nope'], /^kiteticker: error: unknown command 'nope'$/m],
      [['replay'], /^kiteticker: error: missing required argument 'file'$/m],
      [['record'], /^kiteticker: error: required option '-o, --out <file>' not specified$/m],
      [['stream', '--mode'], /^kiteticker: error: option '-m, --mode <mode>' argument missing$/m],
    ] as const) {
      const t = io();
      expect(await runCli(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err(), argv.join(' ')).toMatch(message);
      expect(t.err()).not.toMatch(/^error:/m);
    }
  });
});

describe('one apiKey under two ids', () => {
  it('multi builder - the same apiKey under two ids is refused at build time with a typed error naming the ids', () => {
    const build = () =>
      MultiApiKiteTickerManager.builder()
        .addApiKey('primary', 'same_api_key', 'secret-token-one')
        .addApiKey('backup', 'same_api_key', 'secret-token-two')
        .build();
    let error: unknown;
    try {
      build();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DuplicateApiKeyError);
    expect(error).toBeInstanceOf(KiteTickerError);
    const e = error as DuplicateApiKeyError;
    expect(e.code).toBe(ErrorCode.DuplicateApiKey);
    expect(e.firstId).toBe('primary');
    expect(e.duplicateId).toBe('backup');
    expect(e.message).toMatch(/"primary" and "backup" have the same apiKey/);
    expect(e.message).toMatch(/3 connections per API key/);
    expect(e.message).not.toMatch(/secret-token/);
    expect(e.message).not.toContain('same_api_key');
  });

  it('cli credentials - a keys file or numbered variables with one apiKey twice is a usage error naming the ids', async () => {
    const text = JSON.stringify([
      { id: 'a', apiKey: 'dup', accessToken: 'secret-a' },
      { id: 'b', apiKey: 'other', accessToken: 'secret-b' },
      { id: 'c', apiKey: 'dup', accessToken: 'secret-c' },
    ]);
    let error: unknown;
    try {
      parseKeysFile(text, 'keys.json');
    } catch (e) {
      error = e;
    }
    expect(exitCodeOf(error)).toBe(ExitCode.Usage);
    expect((error as Error).message).toMatch(/^keys\.json: API key ids "a" and "c" have the same apiKey/);
    expect((error as Error).message).not.toMatch(/secret-/);

    const env = {
      KITE_API_KEY_1: 'dup',
      KITE_ACCESS_TOKEN_1: 'secret-1',
      KITE_API_KEY_2: 'dup',
      KITE_ACCESS_TOKEN_2: 'secret-2',
    };
    expect(() => loadCredentials(env)).toThrow(/"key1" and "key2" have the same apiKey/);
    const t = io(env);
    expect(await runCli(['stream', '--format', 'none', '-d', '1'], t.io)).toBe(2);
    expect(t.err()).toMatch(
      /^kiteticker: error: environment: API key ids "key1" and "key2" have the same apiKey/m,
    );
    expect(t.err()).not.toMatch(/secret-/);
  });
});
