/**
 * Writes one id's entry of a keys file (the CLI's format, see credentials.ts) atomically: the new
 * content goes to a temp file in the same directory (mode 0600, fsynced) which is then renamed over
 * the old one, so a reader (a watching `stream`, `keysFileTokenProvider`) sees the old file or the new
 * one, never half of one. Other entries, and their unknown fields, are kept as they were.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readSecretFile } from '../secret-file.js';
import { parseKeysFile } from './credentials.js';
import { UsageError } from './exit-codes.js';

/** Largest keys file read back (a file of hundreds of keys is a few tens of KB). */
const MAX_KEYS_FILE_BYTES = 1024 * 1024;

/** The entry `apiKey` already has in the file, to keep its id; undefined when absent or unreadable. */
export async function existingIdOf(path: string, apiKey: string): Promise<string | undefined> {
  try {
    const read = await readSecretFile(path, MAX_KEYS_FILE_BYTES);
    if (!read.ok) return undefined;
    return parseKeysFile(read.text, path).find((k) => k.apiKey === apiKey)?.id;
  } catch {
    return undefined;
  }
}

/**
 * Reads and validates the file as it is now: its entries (none when absent or empty), with ids filled in.
 * `kiteticker login` calls it before the token exchange too, so a file it could not update is refused
 * while the request token is still unused (a request token works once; a refusal after the exchange would
 * throw the new access token away).
 * @throws UsageError when the file is unreadable, not a valid keys file, or holds `apiKey` under another
 *   id than `id` (when `id` is given).
 */
export async function readKeysFileEntries(
  path: string,
  id: string | undefined,
  apiKey: string,
): Promise<Record<string, unknown>[]> {
  // Opened without blocking: a FIFO in its place is refused at once, never waited on.
  const read = await readSecretFile(path, MAX_KEYS_FILE_BYTES);
  let text: string | undefined;
  if (read.ok) text = read.text;
  else if (read.problem === 'not a regular file') throw new UsageError(`${path}: not a regular file`);
  else if (read.problem === 'too large') throw new UsageError(`${path}: over ${MAX_KEYS_FILE_BYTES} bytes`);
  else if (read.code !== 'ENOENT') throw new UsageError(`${path}: cannot read (${read.code ?? 'error'})`);
  if (text === undefined || text.trim() === '') return [];
  const parsed = parseKeysFile(text, path); // validates (messages never quote values)
  const other = id === undefined ? undefined : parsed.find((k) => k.apiKey === apiKey && k.id !== id);
  if (other) {
    throw new UsageError(
      `${path}: api_key ${apiKey} is already there under id ${JSON.stringify(other.id)}; use --id ${other.id}`,
    );
  }
  return (JSON.parse(text) as Record<string, unknown>[]).map((e, i) => ({ ...e, id: parsed[i]!.id }));
}

/**
 * Sets `id`'s apiKey and accessToken (adding the entry when new) and replaces the file atomically.
 * @throws UsageError when the existing file is not a valid keys file or holds `apiKey` under another
 *   id (the file is left untouched).
 */
export async function updateKeysFile(
  path: string,
  id: string,
  apiKey: string,
  accessToken: string,
): Promise<void> {
  const entries = await readKeysFileEntries(path, id, apiKey);
  const entry = entries.find((e) => e.id === id);
  if (entry) {
    delete entry.api_key;
    delete entry.access_token;
    entry.apiKey = apiKey;
    entry.accessToken = accessToken;
  } else entries.push({ id, apiKey, accessToken });

  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(entries, null, 2)}\n`);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
