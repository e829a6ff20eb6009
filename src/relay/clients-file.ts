/**
 * Reads and watches a relay clients file. Watched like the keys file (src/connection/keys-file-provider.ts):
 * `fs.watch` on the directory (a file replaced by rename is a new inode) plus a slow stat poll for the
 * events a watch loses. A file that is gone, too big or malformed while running is reported and
 * changes nothing; reports never quote the file's values.
 */
import { type FSWatcher, statSync, unwatchFile, watch, watchFile } from 'node:fs';
import { basename, dirname } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { readSecretFileSync } from '../secret-file.js';
import {
  type ClientDefaults,
  MAX_CLIENTS_FILE_BYTES,
  parseClientsFile,
  type RelayClient,
} from './clients.js';

/** Reads the file now (never blocks: see secret-file.ts). @throws InvalidArgumentError (unreadable, not a regular file, too big, malformed). */
export function readClientsFile(path: string, defaults: ClientDefaults): RelayClient[] {
  const read = readSecretFileSync(path, MAX_CLIENTS_FILE_BYTES);
  if (!read.ok) {
    if (read.problem === 'too large') {
      throw new InvalidArgumentError(`${path}: larger than ${MAX_CLIENTS_FILE_BYTES / 1024 / 1024} MiB`);
    }
    if (read.problem === 'not a regular file') {
      throw new InvalidArgumentError(`clients file: ${path} is not a regular file`);
    }
    throw new InvalidArgumentError(`clients file: cannot read ${path}: ${read.code ?? 'error'}`);
  }
  return parseClientsFile(read.text, path, defaults);
}

/**
 * The warning for a clients file others can read (it holds client tokens), if any: used with a warning,
 * like ssh with a private key (the CLI's keys file has the same rule). Not on Windows, where the mode
 * bits mean nothing.
 */
export function clientsFileWarning(
  path: string,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (platform === 'win32') return undefined;
  let mode: number;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    return undefined;
  }
  if ((mode & 0o077) === 0) return undefined;
  const who = mode & 0o007 ? 'other users' : 'its group';
  const octal = mode.toString(8).padStart(4, '0');
  return `${path} holds relay client tokens but its permissions ${octal} are too open (${who} can access it); run: chmod 600 ${path}`;
}

const DEBOUNCE_MS = 25;
const POLL_MS = 1000;

/** Calls `onChange` with each good new version, `onReport` with each problem. Returns a stop function. */
export function watchClientsFile(
  path: string,
  defaults: ClientDefaults,
  onChange: (clients: RelayClient[]) => void,
  onReport: (message: string) => void,
): () => void {
  let last = signature(path);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const check = (): void => {
    timer = undefined;
    if (stopped) return;
    const now = signature(path);
    if (now === last) return;
    last = now;
    try {
      const clients = readClientsFile(path, defaults);
      onChange(clients);
    } catch (error) {
      onReport(`${(error as Error).message}; the relay keeps its current clients`);
    }
  };
  const soon = (): void => {
    if (!timer && !stopped) timer = setTimeout(check, DEBOUNCE_MS);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_e, file) => {
      if (file === null || file === basename(path)) soon();
    });
    watcher.on('error', () => {
      watcher?.close();
      watcher = undefined;
    });
  } catch {
    watcher = undefined; // the poll below still sees changes
  }
  watchFile(path, { interval: POLL_MS, persistent: false }, soon);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher?.close();
    unwatchFile(path, soon);
  };
}

function signature(path: string): string {
  try {
    const s = statSync(path);
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code ?? ''}`;
  }
}
