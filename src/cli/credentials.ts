/**
 * Where the stream's API keys come from: `--keys-file`, then the guide's numbered variables
 * (`KITE_API_KEY_1`/`KITE_ACCESS_TOKEN_1`, `_2`, ...), then the single pair `KITE_API_KEY`/`KITE_ACCESS_TOKEN`.
 * None of them: the built-in simulator is used. Access tokens are secrets: every error here names the
 * variable or file entry, never the token's value.
 */
import { statSync } from 'node:fs';
import { DuplicateApiKeyError } from '../errors.js';
import { readSecretFileSync } from '../secret-file.js';
import { UsageError } from './exit-codes.js';
import { jsonErrorOffset, positionOf } from './json-position.js';

export interface ApiKeyCredential {
  /** The name shown in output and metrics (never the key or token). */
  id: string;
  apiKey: string;
  accessToken: string;
}

export type CredentialSource = 'keys-file' | 'env-numbered' | 'env-single' | 'none';

export interface LoadedCredentials {
  source: CredentialSource;
  keys: ApiKeyCredential[];
  /** Things to tell the user on stderr (a keys file others can read). */
  warnings?: string[];
  /** The keys file, when `source` is 'keys-file'. */
  file?: string;
}

/** Highest N scanned for `KITE_API_KEY_N`; gaps are allowed (1, 2, 4). */
const MAX_NUMBERED_KEYS = 99;

/**
 * Bounds of a keys file. Each key opens up to 3 sockets and a pool, so thousands of entries exhaust
 * file descriptors and heap long before they are useful; 100 keys (300 sockets, 900,000 instruments)
 * is past any real account. 1 MiB holds 100 entries many times over and is read at once.
 */
export const MAX_KEYS_FILE_BYTES = 1024 * 1024;
export const MAX_KEYS_FILE_ENTRIES = 100;

/** Reads credentials from a keys file (when given) or the environment. */
export function loadCredentials(env: NodeJS.ProcessEnv, keysFile?: string): LoadedCredentials {
  if (keysFile !== undefined) {
    const keys = readKeysFile(keysFile);
    const warning = permissionWarning(keysFile);
    return { source: 'keys-file', keys, file: keysFile, ...(warning ? { warnings: [warning] } : {}) };
  }

  const numbered: ApiKeyCredential[] = [];
  for (let n = 1; n <= MAX_NUMBERED_KEYS; n++) {
    const apiKey = nonEmpty(env[`KITE_API_KEY_${n}`]);
    const accessToken = nonEmpty(env[`KITE_ACCESS_TOKEN_${n}`]);
    if (apiKey === undefined && accessToken === undefined) continue;
    if (apiKey === undefined)
      throw new UsageError(`KITE_ACCESS_TOKEN_${n} is set but KITE_API_KEY_${n} is not`);
    if (accessToken === undefined) {
      throw new UsageError(`KITE_API_KEY_${n} is set but KITE_ACCESS_TOKEN_${n} is not`);
    }
    numbered.push({ id: nonEmpty(env[`KITE_API_KEY_ID_${n}`]) ?? `key${n}`, apiKey, accessToken });
  }
  if (numbered.length > 0) {
    assertUniqueIds(numbered, 'environment');
    return { source: 'env-numbered', keys: numbered };
  }

  const apiKey = nonEmpty(env.KITE_API_KEY);
  const accessToken = nonEmpty(env.KITE_ACCESS_TOKEN);
  if (apiKey !== undefined && accessToken !== undefined) {
    return { source: 'env-single', keys: [{ id: 'main', apiKey, accessToken }] };
  }
  if (apiKey !== undefined) throw new UsageError('KITE_API_KEY is set but KITE_ACCESS_TOKEN is not');
  if (accessToken !== undefined) throw new UsageError('KITE_ACCESS_TOKEN is set but KITE_API_KEY is not');
  return { source: 'none', keys: [] };
}

/** Parses `[{ "id": "...", "apiKey": "...", "accessToken": "..." }, ...]` (snake_case accepted too). */
export function parseKeysFile(text: string, fileName: string): ApiKeyCredential[] {
  if (Buffer.byteLength(text, 'utf8') > MAX_KEYS_FILE_BYTES) throw tooLarge(fileName);
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes part of the file (a token, maybe): only the position is reported.
    const offset = jsonErrorOffset(text);
    const at = offset < 0 ? undefined : positionOf(text, offset);
    const where = at === undefined ? '' : ` at line ${at.line}, column ${at.column}`;
    throw new UsageError(`${fileName}: not valid JSON${where}`);
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new UsageError(`${fileName}: expected a non-empty JSON array of {id, apiKey, accessToken}`);
  }
  if (data.length > MAX_KEYS_FILE_ENTRIES) {
    throw new UsageError(
      `${fileName}: ${data.length} entries; at most ${MAX_KEYS_FILE_ENTRIES} API keys are accepted`,
    );
  }
  const keys = data.map((entry: unknown, i): ApiKeyCredential => {
    if (typeof entry !== 'object' || entry === null) {
      throw new UsageError(`${fileName}: entry ${i} is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const id = stringField(e.id) ?? `key${i + 1}`;
    // Named by index and id; the values are never quoted (a token, or a key pasted in its place).
    const where = `${fileName}: entry ${i} (${JSON.stringify(id)})`;
    const apiKey = credentialField(e.apiKey ?? e.api_key, 'apiKey', where);
    const accessToken = credentialField(e.accessToken ?? e.access_token, 'accessToken', where);
    return { id, apiKey, accessToken };
  });
  assertUniqueIds(keys, fileName);
  return keys;
}

function tooLarge(fileName: string): UsageError {
  return new UsageError(
    `${fileName}: larger than ${MAX_KEYS_FILE_BYTES / 1024 / 1024} MiB; a keys file holds at most ${MAX_KEYS_FILE_ENTRIES} API keys`,
  );
}

/** A required apiKey/accessToken: a non-empty string with no whitespace inside (Kite's never have any). */
function credentialField(value: unknown, name: string, where: string): string {
  if (value === undefined || value === null) throw new UsageError(`${where} has no ${name}`);
  if (typeof value !== 'string') throw new UsageError(`${where}: ${name} is not a string`);
  const v = nonEmpty(value);
  if (v === undefined) throw new UsageError(`${where}: ${name} is empty`);
  if (/\s/.test(v)) throw new UsageError(`${where}: ${name} contains whitespace`);
  return v;
}

function readKeysFile(path: string): ApiKeyCredential[] {
  // Bounded before reading, and never blocks (a FIFO at the path is refused, not waited on).
  const read = readSecretFileSync(path, MAX_KEYS_FILE_BYTES);
  if (!read.ok) {
    if (read.problem === 'too large') throw tooLarge(path);
    if (read.problem === 'not a regular file')
      throw new UsageError(`--keys-file: ${path} is not a regular file`);
    throw new UsageError(`--keys-file: cannot read ${path}: ${read.code ?? 'error'}`);
  }
  return parseKeysFile(read.text, path);
}

/**
 * Like ssh with a private key: a keys file that group or others may read is used, with a warning
 * that says how to fix it. (Not on Windows, where the mode bits mean nothing.)
 */
export function permissionWarning(
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
  return `warning: ${path} holds access tokens but its permissions ${octal} are too open (${who} can access it); run: chmod 600 ${path}`;
}

/**
 * Ids must be unique, and so must apiKeys: Kite's 3 sockets are per apiKey, so one key under two ids
 * would open two pools over its limit (see DuplicateApiKeyError). Both are usage errors (exit 2).
 */
function assertUniqueIds(keys: readonly ApiKeyCredential[], where: string): void {
  const seen = new Set<string>();
  const idByApiKey = new Map<string, string>();
  for (const k of keys) {
    if (seen.has(k.id)) throw new UsageError(`${where}: API key id ${JSON.stringify(k.id)} appears twice`);
    seen.add(k.id);
    const first = idByApiKey.get(k.apiKey);
    if (first !== undefined) {
      const duplicate = new DuplicateApiKeyError(first, k.id, `${where}: `);
      throw new UsageError(duplicate.message, { cause: duplicate });
    }
    idByApiKey.set(k.apiKey, k.id);
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? nonEmpty(value) : undefined;
}

/**
 * Where the access token of key `id` was given (a variable or a keys-file entry), to tell the user
 * where a new one goes. Names only, never the value.
 */
export function tokenSourceOf(id: string, credentials: LoadedCredentials, env: NodeJS.ProcessEnv): string {
  const key = credentials.keys.find((k) => k.id === id);
  if (credentials.source === 'keys-file' && credentials.file !== undefined && key) {
    return `the accessToken of ${JSON.stringify(id)} in ${credentials.file}`;
  }
  if (credentials.source === 'env-single') return 'KITE_ACCESS_TOKEN';
  if (credentials.source === 'env-numbered' && key) {
    for (let n = 1; n <= MAX_NUMBERED_KEYS; n++) {
      if (nonEmpty(env[`KITE_API_KEY_${n}`]) === key.apiKey) return `KITE_ACCESS_TOKEN_${n}`;
    }
  }
  return 'KITE_ACCESS_TOKEN (or --keys-file)';
}

/** Every secret a message might contain, for `redact`. */
export function secretsOf(keys: readonly ApiKeyCredential[]): string[] {
  return keys.map((k) => k.accessToken);
}
