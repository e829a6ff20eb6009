/**
 * `kiteticker login` end to end against the simulator's REST login: the paste path, the redirect
 * path, and the failures that must leave the keys file untouched. No secret in any output.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { KiteSimulator } from '../../src/simulator/server.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

let sim: KiteSimulator;
let base: string;
let dir: string;
const SECRET = { KITE_API_SECRET: 'sim_secret_1' };

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 100, seed: 2 });
  await sim.start();
  base = `http://127.0.0.1:${sim.port}`;
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-login-'));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => killAll());

/** What the browser does: follow the login page to the redirect URL (not loaded). */
async function browserLogin(loginUrl: string): Promise<string> {
  const res = await fetch(loginUrl, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return res.headers.get('location') ?? '';
}

function upgradeStatus(apiKey: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${sim.port}/?api_key=${apiKey}&access_token=${token}`);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      resolve(101);
      ws.terminate();
    });
    ws.on('error', () => resolve(0));
  });
}

async function readKeys(path: string): Promise<Array<Record<string, string>>> {
  return JSON.parse(await readFile(path, 'utf8')) as Array<Record<string, string>>;
}

function expectNoSecrets(output: string, secrets: readonly string[]): void {
  for (const s of secrets) expect(output).not.toContain(s);
}

describe('cli login', () => {
  it('cli login - the redirected URL pasted on stdin: token saved (0600), usable, never printed', async () => {
    const keysFile = join(dir, 'paste', 'keys.json');
    const run = startCli(
      ['login', '--api-key', 'sim_key_1', '--keys-file', keysFile, '--api-url', base, '--port', '0'],
      SECRET,
    );
    const [, url] = await run.waitFor('stdout', /\n {2}(http:\S+)\n/);
    expect(url).toBe(`${base}/connect/login?v=3&api_key=sim_key_1`);
    const redirected = await browserLogin(url!);
    const requestToken = new URL(redirected).searchParams.get('request_token')!;
    run.child.stdin.write('not a token at all!\n');
    await run.waitFor('stderr', /not a request token/);
    run.child.stdin.write(`${redirected}\n`);
    const { code, stdout, stderr } = await run.done;
    expect(stderr).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(stdout).toMatch(/logged in as SIM001 \(api_key sim_key_1\)/);
    expect(stdout).toMatch(/expires at \d{4}-\d{2}-\d{2} 06:00 IST/);
    const keys = await readKeys(keysFile);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ id: 'main', apiKey: 'sim_key_1' });
    const token = keys[0]!.accessToken!;
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    if (process.platform !== 'win32') expect((await stat(keysFile)).mode & 0o777).toBe(0o600);
    expect(await upgradeStatus('sim_key_1', token)).toBe(101);
    expectNoSecrets(stdout + stderr, [token, 'sim_secret_1', requestToken]);
  });

  it('cli login - the browser redirect to 127.0.0.1:PORT, updating one entry of an existing file', async () => {
    const keysFile = join(dir, 'keys-redirect.json');
    await writeFile(
      keysFile,
      JSON.stringify([
        { id: 'other', apiKey: 'sim_key_3', accessToken: 'sim_token_3', note: 'kept' },
        { id: 'second', apiKey: 'sim_key_2', accessToken: 'old_token_2' },
      ]),
      { mode: 0o600 },
    );
    const run = startCli(
      ['login', '--api-key', 'sim_key_2', '--keys-file', keysFile, '--api-url', base, '--port', '0'],
      { KITE_API_SECRET: 'sim_secret_2' },
    );
    const [, port] = await run.waitFor('stderr', /redirect on http:\/\/127\.0\.0\.1:(\d+)\//);
    const [, url] = await run.waitFor('stdout', /\n {2}(http:\S+)\n/);
    const redirected = new URL(await browserLogin(url!));
    const requestToken = redirected.searchParams.get('request_token')!;
    // The browser follows the redirect: to this machine's port, as the registered URL says.
    const page = await fetch(`http://127.0.0.1:${port}/${redirected.search}`);
    expect(page.status).toBe(200);
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    const keys = await readKeys(keysFile);
    expect(keys[0]).toEqual({ id: 'other', apiKey: 'sim_key_3', accessToken: 'sim_token_3', note: 'kept' });
    expect(keys[1]).toMatchObject({ id: 'second', apiKey: 'sim_key_2' });
    expect(keys[1]!.accessToken).not.toBe('old_token_2');
    expect(await upgradeStatus('sim_key_2', keys[1]!.accessToken!)).toBe(101);
    expectNoSecrets(stdout + stderr, [keys[1]!.accessToken!, 'sim_secret_2', requestToken]);
  });

  it('cli login - a wrong secret, a used request token and a dead API exit 1 and leave the keys file untouched', async () => {
    const keysFile = join(dir, 'keys-untouched.json');
    const original = JSON.stringify([{ id: 'main', apiKey: 'sim_key_1', accessToken: 'keep_me_token' }]);
    await writeFile(keysFile, original, { mode: 0o600 });
    const before = await stat(keysFile);

    const loc = new URL(await browserLogin(`${base}/connect/login?v=3&api_key=sim_key_1`));
    const rt = loc.searchParams.get('request_token')!;
    const wrong = await runCli(
      ['login', '--api-key', 'sim_key_1', '--request-token', rt, '--keys-file', keysFile, '--api-url', base],
      { KITE_API_SECRET: 'not_the_secret' },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/TokenException.*wrong api secret/);
    expectNoSecrets(wrong.stdout + wrong.stderr, ['not_the_secret', rt]);

    // Use the request token properly once (elsewhere), then the CLI tries it again.
    const checksum = createHash('sha256').update(`sim_key_1${rt}sim_secret_1`).digest('hex');
    const used = await fetch(`${base}/session/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
      body: new URLSearchParams({ api_key: 'sim_key_1', request_token: rt, checksum }).toString(),
    });
    expect(used.status).toBe(200);
    const again = await runCli(
      [
        'login',
        '--api-key',
        'sim_key_1',
        '--request-token',
        loc.toString(),
        '--keys-file',
        keysFile,
        '--api-url',
        base,
      ],
      SECRET,
    );
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/TokenException/);
    expectNoSecrets(again.stdout + again.stderr, ['sim_secret_1', rt]);

    const dead = await runCli(
      [
        'login',
        '--api-key',
        'sim_key_1',
        '--request-token',
        rt,
        '--keys-file',
        keysFile,
        '--api-url',
        'http://127.0.0.1:1',
      ],
      SECRET,
    );
    expect(dead.code).toBe(1);
    expect(dead.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:1/);

    expect(await readFile(keysFile, 'utf8')).toBe(original);
    expect((await stat(keysFile)).mtimeMs).toBe(before.mtimeMs);

    const noSecret = await runCli(['login', '--api-key', 'sim_key_1', '--keys-file', keysFile]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/KITE_API_SECRET/);
  });
});
