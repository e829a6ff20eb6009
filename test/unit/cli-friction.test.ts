/** First-hour details of the CLI that need no process: messages, prefixes, numbers. */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCredentials, parseKeysFile, tokenSourceOf } from '../../src/cli/credentials.js';
import { ExitCode, exitCodeOf } from '../../src/cli/exit-codes.js';
import { runCli } from '../../src/cli/program.js';
import { selectionNotes } from '../../src/cli/selection.js';
import { renderSummary } from '../../src/cli/summary.js';
import { plural } from '../../src/cli/view.js';
import { DuplicateApiKeyError, ErrorCode, KiteTickerError } from '../../src/errors.js';
import { InstrumentIndex } from '../../src/instruments/index.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { memoryIo } from '../helpers/memory-io.js';

const io = memoryIo;

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

describe('cli selection notes', () => {
  const index = new InstrumentIndex([
    { instrument_token: 256265, exchange: 'NSE', tradingsymbol: 'NIFTY 50' },
    { instrument_token: 408065, exchange: 'NSE', tradingsymbol: 'INFY' },
  ]);

  it('cli selection - a default set smaller than -n says so, naming where the list came from', () => {
    expect(
      selectionNotes([1, 2, 3, 4, 5, 6, 7, 8, 9], {
        named: false,
        requestedCount: 500,
        index: undefined,
        source: { kind: 'well-known' },
      }),
    ).toEqual([
      'note: -n 500: only 9 instruments are available in the built-in list of well-known instruments (give --instruments FILE for more); streaming 9',
    ]);
    expect(
      selectionNotes([256265], {
        named: false,
        requestedCount: 2000,
        index,
        source: { kind: 'file', path: 'x.csv' },
      }),
    ).toEqual(['note: -n 2,000: only 1 instrument is available in x.csv; streaming 1']);
    // Exactly what was asked for: nothing to say.
    expect(
      selectionNotes([256265, 408065], {
        named: false,
        requestedCount: 2,
        index,
        source: { kind: 'simulator' },
      }),
    ).toEqual([]);
  });

  it('cli selection - named tokens missing from the instrument list in use are warned about, known ones are not', () => {
    expect(
      selectionNotes([256265, 99999999], {
        named: true,
        requestedCount: 500,
        index,
        source: { kind: 'simulator' },
      }),
    ).toEqual([
      "warning: token 99999999 not in the built-in simulator's list: subscribed anyway, but an unknown token streams nothing",
    ]);
    const many = Array.from({ length: 12 }, (_, i) => 90_000_000 + i);
    const [line] = selectionNotes(many, {
      named: true,
      requestedCount: 1,
      index,
      source: { kind: 'file', path: 'i.csv' },
    });
    expect(line).toMatch(/^warning: tokens 90000000, .*, 90000009 and 2 more not in i\.csv/);
    expect(
      selectionNotes([256265, 408065], {
        named: true,
        requestedCount: 1,
        index,
        source: { kind: 'simulator' },
      }),
    ).toEqual([]);
    // No list at all (real endpoint, no --instruments): nothing to compare with, nothing said.
    expect(
      selectionNotes([99999999], {
        named: true,
        requestedCount: 1,
        index: undefined,
        source: { kind: 'well-known' },
      }),
    ).toEqual([]);
  });

  it('cli format - counts are pluralised and grouped the same way everywhere', () => {
    expect(plural(1, 'instrument')).toBe('1 instrument');
    expect(plural(27000, 'instrument')).toBe('27,000 instruments');
    expect(plural(0, 'key')).toBe('0 keys');
  });
});

describe('cli wording', () => {
  it('cli help - names the full reference by a path that works from any directory, not a relative one', async () => {
    const t = io();
    expect(await runCli(['--help'], t.io)).toBe(0);
    expect(t.out()).not.toMatch(/Docs: docs\/cli\.md/);
    const m = /^Full reference: (.+)$/m.exec(t.out());
    expect(m).not.toBeNull();
    expect(isAbsolute(m![1]!)).toBe(true);
    expect(m![1]!.endsWith('cli.md')).toBe(true);
    expect(existsSync(m![1]!)).toBe(true);
  });

  it('cli summary - a replay summary says once that its times are recorded time', () => {
    const text = renderSummary({ at: 0, uptimeMs: 3000, apiKeys: [] }, 3000, {
      title: 'kiteticker replay summary',
      reason: 'end of recording',
      clock: 'recorded',
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('kiteticker replay summary (stopped: end of recording)');
    expect(lines[1]).toBe('  duration     3.0s of recorded time');
    expect(renderSummary({ at: 0, uptimeMs: 1, apiKeys: [] }, 3000).split('\n')[1]).toBe(
      '  duration     3.0s',
    );
  });
});

describe('cli refused token', () => {
  it('cli credentials - a refused key is told where its token came from (variable or file entry), never the token', () => {
    const env = {
      KITE_API_KEY_1: 'k1',
      KITE_ACCESS_TOKEN_1: 'secret1',
      KITE_API_KEY_4: 'k4',
      KITE_ACCESS_TOKEN_4: 'secret4',
      KITE_API_KEY_ID_4: 'backup',
    };
    const numbered = loadCredentials(env);
    expect(tokenSourceOf('backup', numbered, env)).toBe('KITE_ACCESS_TOKEN_4');
    expect(tokenSourceOf('key1', numbered, env)).toBe('KITE_ACCESS_TOKEN_1');
    const single = loadCredentials({ KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 'secret' });
    expect(tokenSourceOf('main', single, {})).toBe('KITE_ACCESS_TOKEN');
    const file = {
      source: 'keys-file' as const,
      file: 'keys.json',
      keys: parseKeysFile('[{"id":"p","apiKey":"a","accessToken":"secret"}]', 'keys.json'),
    };
    expect(tokenSourceOf('p', file, {})).toBe('the accessToken of "p" in keys.json');
  });
});
