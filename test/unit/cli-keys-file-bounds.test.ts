/** Keys files: bounded in bytes and entries, a BOM accepted, bad entries named by id (never by value). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_KEYS_FILE_ENTRIES, parseKeysFile } from '../../src/cli/credentials.js';
import { runCli } from '../../src/cli/program.js';
import { memoryIo } from '../helpers/memory-io.js';

const TOKEN = 'bounds-SECRET-5521';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kite-keys-bounds-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number) => ({ id: `k${i}`, apiKey: `api${i}`, accessToken: `${TOKEN}${i}` });

describe('cli keys file bounds', () => {
  it('cli keys file - more than the entry limit is a usage error naming the limit', () => {
    const many = JSON.stringify(Array.from({ length: MAX_KEYS_FILE_ENTRIES + 1 }, (_, i) => entry(i)));
    expect(() => parseKeysFile(many, 'keys.json')).toThrow(`at most ${MAX_KEYS_FILE_ENTRIES} API keys`);
    const enough = JSON.stringify(Array.from({ length: MAX_KEYS_FILE_ENTRIES }, (_, i) => entry(i)));
    expect(parseKeysFile(enough, 'keys.json')).toHaveLength(MAX_KEYS_FILE_ENTRIES);
  });

  it('cli keys file - a file over 1 MiB is refused with exit 2 before it is read', async () => {
    const path = join(dir, 'huge.json');
    const padding = ' '.repeat(1024 * 1024);
    await writeFile(path, `[${JSON.stringify(entry(1))}${padding}]`, { mode: 0o600 });
    const t = memoryIo();
    expect(await runCli(['stream', '--keys-file', path, '-d', '1', '--format', 'none'], t.io)).toBe(2);
    expect(t.err()).toContain(`${path}: larger than 1 MiB`);
    expect(t.err()).not.toContain(TOKEN);
  });

  it('cli keys file - a UTF-8 byte order mark is accepted', () => {
    const keys = parseKeysFile(`\ufeff${JSON.stringify([entry(1)])}`, 'bom.json');
    expect(keys).toEqual([{ id: 'k1', apiKey: 'api1', accessToken: `${TOKEN}1` }]);
  });

  it('cli keys file - a token with whitespace or a non-string apiKey names the entry, never the value', () => {
    const spaced = JSON.stringify([{ id: 'desk', apiKey: 'a', accessToken: `${TOKEN} x` }]);
    let message = '';
    try {
      parseKeysFile(spaced, 'keys.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe('keys.json: entry 0 ("desk"): accessToken contains whitespace');
    expect(message).not.toContain(TOKEN);
    const object = JSON.stringify([{ id: 'desk', apiKey: { toString: 1 }, accessToken: TOKEN }]);
    expect(() => parseKeysFile(object, 'keys.json')).toThrow(
      'keys.json: entry 0 ("desk"): apiKey is not a string',
    );
  });
});
