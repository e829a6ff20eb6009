/**
 * `keysFileTokenProvider(path, id)`: an access-token provider that reads one id's token from a keys file
 * (the CLI's format: `[{"id","apiKey","accessToken"}]`, see src/cli/credentials.ts) and re-reads it when
 * the file changes. Changes are seen two ways: `fs.watch` on the DIRECTORY (a file replaced by rename, as
 * `kiteticker login` writes it, is a new inode a watch on the file itself would miss), and a
 * stat (inode, size, mtime) on every call, for the events a watch can lose. A file that is too big,
 * malformed, lacks the id, is gone or is not a regular file (a FIFO would block the read) keeps the last
 * good token and is reported (never with a token).
 */
import { type FSWatcher, watch } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { parseKeysFile, permissionWarning } from '../cli/credentials.js';
import { count } from '../config/validate.js';
import { InvalidArgumentError, TokenProviderError } from '../errors.js';
import { readSecretFile } from '../secret-file.js';
import type { AccessTokenProvider } from './token-provider.js';

export interface KeysFileTokenProviderOptions {
  /** Called with each problem (malformed file, id missing, file gone, too open); never with a token. */
  onReport?: (message: string) => void;
  /** Largest file read, 1 to 64 MiB. Default 1 MiB (a keys file is a few hundred bytes). */
  maxBytes?: number;
}

/** The provider, plus what its owner needs to stop it. */
export interface KeysFileTokenProvider extends AccessTokenProvider {
  /** The id's token; rejects with TokenProviderError while there has never been a good one. */
  (): Promise<string>;
  /** Stops watching. The provider still answers (from a stat + read per call). */
  close(): void;
}

/** Events within this window are read once (an editor's save or a rename comes as several events). */
const DEBOUNCE_MS = 25;

/** @throws InvalidArgumentError for a bad path, id or option. */
export function keysFileTokenProvider(
  path: string,
  id: string,
  options: KeysFileTokenProviderOptions = {},
): KeysFileTokenProvider {
  if (typeof path !== 'string' || path === '')
    throw new InvalidArgumentError('path must be a non-empty string');
  if (typeof id !== 'string' || id === '') throw new InvalidArgumentError('id must be a non-empty string');
  const maxBytes = count(options.maxBytes, 'maxBytes', {
    min: 1,
    max: 64 * 1024 * 1024,
    default: 1024 * 1024,
  });
  const report = (message: string): void => {
    try {
      options.onReport?.(message);
    } catch {
      // A throwing reporter must not break the provider.
    }
  };

  let token: string | undefined;
  /** inode:size:mtime of the last file read (good or bad), '' before the first. */
  let seen = '';
  let lastProblem = '';
  let reading: Promise<void> | undefined;
  let watcher: FSWatcher | undefined;
  let debounce: NodeJS.Timeout | undefined;

  const problem = (message: string): void => {
    if (message === lastProblem) return; // one report per distinct problem, not one per call
    lastProblem = message;
    report(message);
  };

  const read = async (): Promise<void> => {
    // The stat is only the change check; the read itself opens without blocking and reads a regular
    // file only (a FIFO would block until some writer came, every later call queued behind it).
    let sig: string;
    try {
      const s = await stat(path);
      sig = `${s.ino}:${s.size}:${s.mtimeMs}`;
    } catch (err) {
      seen = '';
      problem(
        `${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'}); keeping the last token`,
      );
      return;
    }
    if (sig === seen) return;
    const got = await readSecretFile(path, maxBytes);
    if (!got.ok) {
      seen = got.problem === 'too large' ? sig : '';
      problem(
        got.problem === 'too large'
          ? `${path}: over the ${maxBytes}-byte limit; keeping the last token`
          : got.problem === 'not a regular file'
            ? `${path}: not a regular file; keeping the last token`
            : `${path}: cannot read (${got.code ?? 'error'}); keeping the last token`,
      );
      return;
    }
    seen = got.signature;
    const text = got.text;
    try {
      const entry = parseKeysFile(text, path).find((k) => k.id === id);
      if (!entry) {
        problem(`${path}: no entry with id ${JSON.stringify(id)}; keeping the last token`);
        return;
      }
      token = entry.accessToken;
      lastProblem = '';
      const warning = permissionWarning(path);
      if (warning) problem(warning);
    } catch (err) {
      // parseKeysFile's messages name the file and position, never a value.
      problem(`${(err as Error).message}; keeping the last token`);
    }
  };

  /** One read at a time; a call during a read waits for it. */
  const refresh = (): Promise<void> => {
    reading ??= read().finally(() => {
      reading = undefined;
    });
    return reading;
  };

  try {
    const name = basename(path);
    watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
      if (file !== null && file !== name) return;
      if (debounce) return;
      debounce = setTimeout(() => {
        debounce = undefined;
        void refresh();
      }, DEBOUNCE_MS);
      debounce.unref();
    });
    watcher.on('error', (err) => {
      problem(
        `${path}: watching stopped (${(err as NodeJS.ErrnoException).code ?? 'error'}); checking on each call`,
      );
      watcher?.close();
      watcher = undefined;
    });
  } catch (err) {
    problem(
      `${path}: cannot watch (${(err as NodeJS.ErrnoException).code ?? 'error'}); checking on each call`,
    );
  }

  const provider = (async (): Promise<string> => {
    await refresh();
    if (token === undefined) {
      throw new TokenProviderError(
        lastProblem === '' ? `${path}: no token for ${JSON.stringify(id)} yet` : lastProblem,
      );
    }
    return token;
  }) as KeysFileTokenProvider;
  provider.close = (): void => {
    if (debounce) clearTimeout(debounce);
    debounce = undefined;
    watcher?.close();
    watcher = undefined;
  };
  return provider;
}
