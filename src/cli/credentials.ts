/**
 * Where the stream's API keys come from: `--keys-file`, then the guide's numbered variables
 * (`KITE_API_KEY_1`/`KITE_ACCESS_TOKEN_1`, `_2`, ...), then the single pair `KITE_API_KEY`/`KITE_ACCESS_TOKEN`.
 * None of them: the built-in simulator is used. Access tokens are secrets: every error here names the
 * variable or file entry, never the token's value.
 */
import { readFileSync } from 'node:fs';
import { DuplicateApiKeyError } from '../errors.js';
import { UsageError } from './exit-codes.js';

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
  /** The keys file, when `source` is 'keys-file'. */
  file?: string;
}

/** Highest N scanned for `KITE_API_KEY_N`; gaps are allowed (1, 2, 4). */
const MAX_NUMBERED_KEYS = 99;

/** Reads credentials from a keys file (when given) or the environment. */
export function loadCredentials(env: NodeJS.ProcessEnv, keysFile?: string): LoadedCredentials {
  if (keysFile !== undefined) return { source: 'keys-file', keys: readKeysFile(keysFile), file: keysFile };

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
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${fileName}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw new UsageError(`${fileName}: expected a non-empty JSON array of {id, apiKey, accessToken}`);
  }
  const keys = data.map((entry: unknown, i): ApiKeyCredential => {
    if (typeof entry !== 'object' || entry === null) {
      throw new UsageError(`${fileName}: entry ${i} is not an object`);
    }
    const e = entry as Record<string, unknown>;
    const apiKey = stringField(e.apiKey ?? e.api_key);
    const accessToken = stringField(e.accessToken ?? e.access_token);
    if (apiKey === undefined) throw new UsageError(`${fileName}: entry ${i} has no apiKey`);
    if (accessToken === undefined) throw new UsageError(`${fileName}: entry ${i} has no accessToken`);
    const id = stringField(e.id) ?? `key${i + 1}`;
    return { id, apiKey, accessToken };
  });
  assertUniqueIds(keys, fileName);
  return keys;
}

function readKeysFile(path: string): ApiKeyCredential[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--keys-file: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  return parseKeysFile(text, path);
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
