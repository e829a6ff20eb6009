import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSecretFile, readSecretFileSync } from '../../src/secret-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-secret-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('secret file', () => {
  it('secret file - a regular file is read with its mode; over the bound is refused', async () => {
    const f = join(dir, 'ok.json');
    await writeFile(f, '[1,2,3]', { mode: 0o640 });
    for (const r of [readSecretFileSync(f, 100), await readSecretFile(f, 100)]) {
      expect(r).toMatchObject({ ok: true, text: '[1,2,3]', mode: 0o640 });
    }
    expect(readSecretFileSync(f, 6)).toEqual({ ok: false, problem: 'too large' });
    expect(await readSecretFile(f, 6)).toEqual({ ok: false, problem: 'too large' });
  });

  it('secret file - a FIFO, a directory and a symlink loop are refused at once, never waited on', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const sub = join(dir, 'sub');
    await mkdir(sub);
    const loop = join(dir, 'loop');
    await symlink(loop, loop);
    for (const p of [fifo, sub]) {
      expect(readSecretFileSync(p, 100)).toEqual({ ok: false, problem: 'not a regular file' });
      expect(await readSecretFile(p, 100)).toEqual({ ok: false, problem: 'not a regular file' });
    }
    expect(readSecretFileSync(loop, 100)).toEqual({ ok: false, problem: 'cannot read', code: 'ELOOP' });
    expect(await readSecretFile(join(dir, 'gone'), 100)).toEqual({
      ok: false,
      problem: 'cannot read',
      code: 'ENOENT',
    });
  }, 5_000);
});
