/**
 * Watches the `--keys-file` of a running `stream`/`record`: `fs.watch` on the DIRECTORY (`kiteticker
 * login` and editors replace the file by rename, a new inode a watch on the file would miss), events
 * debounced, plus `reload()` for SIGHUP. Each read is bounded (MAX_KEYS_FILE_BYTES, fstat before read)
 * and parsed by the same parser as at start. A file that is missing, not a regular file (a FIFO is
 * refused without blocking), too big or malformed changes nothing and is reported once (a token is never
 * quoted); the next good read clears that. A file readable by others is used with a warning, as at start.
 */
import { type FSWatcher, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readSecretFile } from '../secret-file.js';
import {
  type ApiKeyCredential,
  MAX_KEYS_FILE_BYTES,
  parseKeysFile,
  permissionWarning,
} from './credentials.js';

export interface KeysFileWatchOptions {
  path: string;
  /** A good read (possibly unchanged); never called for a bad file. */
  onKeys(keys: ApiKeyCredential[]): void;
  /** One message per distinct problem; names the file, never a value from it. */
  onWarning(message: string): void;
  /** Events within this window are read once. Default 50 ms. */
  debounceMs?: number;
}

export class KeysFileWatcher {
  readonly #options: KeysFileWatchOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  /** Another read was asked for while one ran: run once more after it (a change must not be lost). */
  #again = false;
  #lastProblem = '';
  #closed = false;

  constructor(options: KeysFileWatchOptions) {
    this.#options = options;
  }

  /** Starts watching. A directory that cannot be watched is reported; SIGHUP still re-reads. */
  start(): void {
    const { path } = this.#options;
    const name = basename(path);
    try {
      this.#watcher = watch(dirname(path), { persistent: false }, (_event, file) => {
        if (file !== null && file !== name) return;
        this.#schedule();
      });
      this.#watcher.on('error', (error: NodeJS.ErrnoException) => {
        this.#problem(`${path}: watching stopped (${error.code ?? 'error'}); send SIGHUP to re-read it`);
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch (error) {
      this.#problem(
        `${path}: cannot watch (${(error as NodeJS.ErrnoException).code ?? 'error'}); send SIGHUP to re-read it`,
      );
    }
  }

  /** Reads the file now (SIGHUP); resolves once that read (and any it queued) is done. */
  reload(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#reading) {
      this.#again = true;
      return this.#reading;
    }
    this.#reading = this.#readLoop().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.reload();
    }, this.#options.debounceMs ?? 50);
    this.#timer.unref();
  }

  async #readLoop(): Promise<void> {
    do {
      this.#again = false;
      await this.#readOnce();
    } while (this.#again && !this.#closed);
  }

  async #readOnce(): Promise<void> {
    const { path } = this.#options;
    const keeping = 'the keys in use are kept';
    // Never blocks (a FIFO at the path is refused at once), so a bad state never stalls later reads.
    const read = await readSecretFile(path, MAX_KEYS_FILE_BYTES);
    if (!read.ok) {
      const why =
        read.problem === 'too large'
          ? `larger than ${MAX_KEYS_FILE_BYTES} bytes`
          : read.problem === 'not a regular file'
            ? 'not a regular file'
            : `cannot read (${read.code ?? 'error'})`;
      this.#problem(`${path}: ${why}; ${keeping}`);
      return;
    }
    let keys: ApiKeyCredential[];
    try {
      keys = parseKeysFile(read.text, path);
    } catch (error) {
      // parseKeysFile's messages name the file, entry and position, never a value.
      this.#problem(`${(error as Error).message}; ${keeping}`);
      return;
    }
    if (this.#closed) return;
    // Too open: used, with a warning (once per distinct problem), as at start and as the docs say.
    const tooOpen = permissionWarning(path);
    if (tooOpen !== undefined) this.#problem(tooOpen.replace(/^warning: /, ''));
    else this.#lastProblem = '';
    this.#options.onKeys(keys);
  }

  #problem(message: string): void {
    if (message === this.#lastProblem || this.#closed) return;
    this.#lastProblem = message;
    this.#options.onWarning(message);
  }
}

/** What changed between two reads of a keys file. */
export interface KeysDiff {
  added: ApiKeyCredential[];
  removed: string[];
  /** Same id and apiKey, new token. */
  rotated: ApiKeyCredential[];
}

/** An id whose apiKey changed is removed and added (a different Kite app: new sockets). */
export function diffKeys(current: readonly ApiKeyCredential[], next: readonly ApiKeyCredential[]): KeysDiff {
  const before = new Map(current.map((k) => [k.id, k]));
  const after = new Map(next.map((k) => [k.id, k]));
  const diff: KeysDiff = { added: [], removed: [], rotated: [] };
  for (const [id, old] of before) {
    const now = after.get(id);
    if (now === undefined || now.apiKey !== old.apiKey) diff.removed.push(id);
    else if (now.accessToken !== old.accessToken) diff.rotated.push(now);
  }
  for (const [id, now] of after) {
    const old = before.get(id);
    if (old === undefined || old.apiKey !== now.apiKey) diff.added.push(now);
  }
  return diff;
}
