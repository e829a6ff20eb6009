import { chmod, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keysFileTokenProvider } from '../../src/connection/keys-file-provider.js';
import { ErrorCode, InvalidArgumentError, type KiteTickerError } from '../../src/errors.js';

let dir: string;
const providers: Array<{ close(): void }> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-keys-provider-'));
});
afterEach(async () => {
  for (const p of providers.splice(0)) p.close();
  await rm(dir, { recursive: true, force: true });
});

const keys = (a: string, b = 'tok_b_0000000001'): string =>
  JSON.stringify([
    { id: 'a', apiKey: 'key_a', accessToken: a },
    { id: 'b', apiKey: 'key_b', accessToken: b },
  ]);

/** Writes like `kiteticker login`: a temp file renamed over the old one. */
async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text, { mode: 0o600 });
  await rename(tmp, path);
}

function make(path: string, id = 'a') {
  const reports: string[] = [];
  const p = keysFileTokenProvider(path, id, { onReport: (m) => reports.push(m) });
  providers.push(p);
  return { p, reports };
}

describe('keys file token provider', () => {
  it('keys file token provider - reads the id token and follows atomic rewrites', async () => {
    const path = join(dir, 'keys.json');
    await atomicWrite(path, keys('tok_a_0000000001'));
    const { p, reports } = make(path);
    expect(await p()).toBe('tok_a_0000000001');
    for (let i = 2; i <= 4; i++) {
      const token = `tok_a_000000000${i}`;
      await atomicWrite(path, keys(token));
      expect(await p()).toBe(token);
    }
    expect(reports).toEqual([]);
  });

  it('keys file token provider - a malformed file, a missing id or a vanished file keeps the last good token and is reported once', async () => {
    const path = join(dir, 'keys.json');
    await atomicWrite(path, keys('tok_a_good_00001'));
    const { p, reports } = make(path);
    expect(await p()).toBe('tok_a_good_00001');

    await atomicWrite(path, '{"not": json, "accessToken": "tok_a_secret_junk"');
    expect(await p()).toBe('tok_a_good_00001');
    expect(await p()).toBe('tok_a_good_00001');
    expect(reports.filter((r) => /not valid JSON/.test(r))).toHaveLength(1);

    await atomicWrite(path, JSON.stringify([{ id: 'other', apiKey: 'k', accessToken: 'tok_other_00001' }]));
    expect(await p()).toBe('tok_a_good_00001');
    expect(reports.at(-1)).toMatch(/no entry with id "a"/);

    await atomicWrite(path, JSON.stringify([{ id: 'a', apiKey: 'k' }]));
    expect(await p()).toBe('tok_a_good_00001');
    expect(reports.at(-1)).toMatch(/has no accessToken/);

    await rm(path);
    expect(await p()).toBe('tok_a_good_00001');
    expect(reports.at(-1)).toMatch(/cannot read \(ENOENT\)/);

    await atomicWrite(path, keys('tok_a_back_00001'));
    expect(await p()).toBe('tok_a_back_00001');
    for (const r of reports) {
      expect(r).not.toMatch(/tok_a_/);
      expect(r).not.toMatch(/tok_other/);
    }
  });

  it('keys file token provider - no file yet, too big, world-readable: typed errors and warnings', async () => {
    const path = join(dir, 'keys.json');
    const { p } = make(path);
    const err = (await p().then(
      () => undefined,
      (e: unknown) => e,
    )) as KiteTickerError;
    expect(err.code).toBe(ErrorCode.TokenProvider);
    expect(err.message).toMatch(/ENOENT/);

    const big = join(dir, 'big.json');
    await writeFile(big, `${keys('tok_a_big_000001')}${' '.repeat(2048)}`);
    const small = keysFileTokenProvider(big, 'a', { maxBytes: 1024 });
    providers.push(small);
    await expect(small()).rejects.toThrow(/over the 1024-byte limit/);

    const open = join(dir, 'open.json');
    await writeFile(open, keys('tok_a_open_00001'));
    await chmod(open, 0o644);
    const o = make(open);
    expect(await o.p()).toBe('tok_a_open_00001');
    if (process.platform !== 'win32') expect(o.reports.join('\n')).toMatch(/chmod 600/);

    expect(() => keysFileTokenProvider('', 'a')).toThrow(InvalidArgumentError);
    expect(() => keysFileTokenProvider(path, '')).toThrow(InvalidArgumentError);
    expect(() => keysFileTokenProvider(path, 'a', { maxBytes: 0 })).toThrow(/maxBytes/);
  });

  it('keys file token provider - the watch re-reads a changed file before the next call', async () => {
    const path = join(dir, 'keys.json');
    await atomicWrite(path, keys('tok_a_watch_0001'));
    const { p, reports } = make(path);
    expect(await p()).toBe('tok_a_watch_0001');
    await atomicWrite(path, 'garbage');
    // The watch reads it (and reports) without any call to the provider.
    const end = Date.now() + 3000;
    while (reports.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(reports[0]).toMatch(/not valid JSON/);
  });
});
