/**
 * `kiteticker login` given a keys file it cannot update: refused before the token exchange, so the
 * request token (single-use) is still good for the next try and nothing is written. And a keys file
 * left world-readable comes back from a login with mode 0600.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/server.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

let sim: KiteSimulator;
let base: string;
let dir: string;
const SECRET = { KITE_API_SECRET: 'sim_secret_1' };

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 50, seed: 4 });
  await sim.start();
  base = `http://127.0.0.1:${sim.port}`;
  dir = await mkdtemp(join(tmpdir(), 'kt-bad-login-'));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => killAll());

/** A fresh request token, as the browser login gives one. */
async function requestToken(): Promise<string> {
  const res = await fetch(`${base}/connect/login?v=3&api_key=sim_key_1`, { redirect: 'manual' });
  return new URL(res.headers.get('location') ?? '').searchParams.get('request_token') ?? '';
}

/** Exchanges the request token directly: 200 while it is unused, 403 once it was spent. */
async function exchangeStatus(rt: string): Promise<number> {
  const checksum = createHash('sha256').update(`sim_key_1${rt}sim_secret_1`).digest('hex');
  const res = await fetch(`${base}/session/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
    body: new URLSearchParams({ api_key: 'sim_key_1', request_token: rt, checksum }).toString(),
  });
  await res.arrayBuffer();
  return res.status;
}

const login = (keysFile: string, rt: string, extra: string[] = []) =>
  runCli(
    [
      'login',
      '--api-key',
      'sim_key_1',
      '--request-token',
      rt,
      '--keys-file',
      keysFile,
      '--api-url',
      base,
      ...extra,
    ],
    SECRET,
  );

describe('bad input login', () => {
  it('bad input login - a keys file that is not JSON, lacks a field or holds the key under another id is refused before the exchange', async () => {
    const cases: Array<{ name: string; text: string; extra?: string[]; message: RegExp }> = [
      { name: 'not-json.json', text: '[{"id": "main", "apiKey": ', message: /not valid JSON at line 1/ },
      {
        name: 'no-field.json',
        text: JSON.stringify([{ id: 'main', apiKey: 'sim_key_2' }]),
        message: /entry 0 \("main"\) has no accessToken/,
      },
      {
        name: 'other-id.json',
        text: JSON.stringify([{ id: 'first', apiKey: 'sim_key_1', accessToken: 'old_token_1' }]),
        extra: ['--id', 'second'],
        message: /already there under id "first"; use --id first/,
      },
    ];
    for (const c of cases) {
      const keysFile = join(dir, c.name);
      await writeFile(keysFile, c.text, { mode: 0o600 });
      const before = await stat(keysFile);
      const rt = await requestToken();
      const run = await login(keysFile, rt, c.extra);
      expect(run.code, c.name).toBe(2);
      expect(run.stderr).toMatch(c.message);
      expect(run.stdout + run.stderr).not.toContain(rt);
      expect(run.stdout + run.stderr).not.toContain('sim_secret_1');
      expect(await readFile(keysFile, 'utf8')).toBe(c.text);
      expect((await stat(keysFile)).mtimeMs).toBe(before.mtimeMs);
      // The request token was not spent: the user fixes the file and uses it again.
      expect(await exchangeStatus(rt), c.name).toBe(200);
    }
  });

  it.skipIf(process.platform === 'win32')(
    'bad input login - a FIFO or a directory in place of the keys file is refused at once, the request token unspent',
    async () => {
      const fifo = join(dir, 'fifo.json');
      execFileSync('mkfifo', ['-m', '600', fifo]);
      const folder = join(dir, 'folder.json');
      await mkdir(folder);
      for (const keysFile of [fifo, folder]) {
        const rt = await requestToken();
        const started = Date.now();
        const run = await login(keysFile, rt);
        expect(run.code, keysFile).toBe(2);
        expect(run.stderr).toContain(`${keysFile}: not a regular file`);
        expect(Date.now() - started).toBeLessThan(10_000);
        expect(await exchangeStatus(rt)).toBe(200);
      }
    },
  );

  it('bad input login - a keys file broken while the login waits for the browser is named as broken, not as a write error', async () => {
    const keysFile = join(dir, 'broken-later.json');
    await writeFile(keysFile, JSON.stringify([{ id: 'main', apiKey: 'sim_key_1', accessToken: 'old_1' }]), {
      mode: 0o600,
    });
    const run = startCli(
      ['login', '--api-key', 'sim_key_1', '--keys-file', keysFile, '--api-url', base, '--port', '0'],
      SECRET,
    );
    await run.waitFor('stdout', /\n {2}(http:\S+)\n/);
    const broken = '{"id": oops';
    await writeFile(keysFile, broken);
    run.child.stdin.end(`${await requestToken()}\n`);
    const { code, stderr } = await run.done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/broken-later\.json: not valid JSON at line 1/);
    expect(stderr).not.toMatch(/cannot write/);
    expect(await readFile(keysFile, 'utf8')).toBe(broken);
  });

  it('bad input login - a world-readable keys file is rewritten with mode 0600, other entries kept', async () => {
    if (process.platform === 'win32') return;
    const keysFile = join(dir, 'open.json');
    await writeFile(
      keysFile,
      JSON.stringify([
        { id: 'main', apiKey: 'sim_key_1', accessToken: 'old_token_1' },
        { id: 'two', apiKey: 'sim_key_2', accessToken: 'sim_token_2' },
      ]),
    );
    await chmod(keysFile, 0o644);
    const run = await login(keysFile, await requestToken());
    expect(run.code).toBe(0);
    expect((await stat(keysFile)).mode & 0o777).toBe(0o600);
    const keys = JSON.parse(await readFile(keysFile, 'utf8')) as Array<Record<string, string>>;
    expect(keys.map((k) => k.id)).toEqual(['main', 'two']);
    expect(keys[0]!.accessToken).not.toBe('old_token_1');
    expect(keys[1]!.accessToken).toBe('sim_token_2');
  });
});
