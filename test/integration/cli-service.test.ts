/**
 * `--service` against interactive use: without it a refused token at start still exits 1 (with a
 * watched keys file too); with it the process stays up. The flags around it are checked before anything
 * starts, and a metrics address beyond this machine is warned about.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/server.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

let sim: KiteSimulator;
let dir: string;
const WRONG = 'tok_WRONG_7c1a9e55';

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 100, seed: 3 });
  await sim.start();
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-service-'));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => killAll());

async function keysFile(name: string, token: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify([{ id: 'k1', apiKey: 'sim_key_1', accessToken: token }]));
  await chmod(path, 0o600);
  return path;
}

describe('cli service', () => {
  it('cli service - without --service a refused token from a watched keys file still exits 1 at start', async () => {
    const file = await keysFile('refused.json', WRONG);
    const { code, stdout, stderr } = await runCli([
      'stream',
      '--keys-file',
      file,
      '--url',
      sim.url,
      '256265',
      '-d',
      '10',
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/refused|authentication failed/);
    expect(stdout + stderr).not.toContain(WRONG);
  });

  it('cli service - with --service the same refusal keeps the process up, logging JSON lines', async () => {
    const file = await keysFile('refused-service.json', WRONG);
    const run = startCli(['stream', '--service', '--keys-file', file, '--url', sim.url, '256265']);
    await run.waitFor('stderr', /refused/, 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(run.child.exitCode).toBeNull();
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.done;
    expect(code).toBe(0);
    const lines = stderr.split('\n').filter((l) => l !== '');
    for (const line of lines)
      expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number), time: expect.any(Number) });
    expect(stderr).not.toContain(WRONG);
  });

  it('cli service - flags: --format view with --service and --metrics-host without --metrics-port are usage errors', async () => {
    const view = await runCli(['stream', '--service', '--format', 'view', '-d', '1']);
    expect(view.code).toBe(2);
    expect(view.stderr).toMatch(/--service keeps the live view off/);
    const host = await runCli(['stream', '--metrics-host', '0.0.0.0', '-d', '1']);
    expect(host.code).toBe(2);
    expect(host.stderr).toMatch(/--metrics-host needs --metrics-port/);
    const bad = await runCli(['stream', '--metrics-port', '0', '--metrics-host', 'http://x/', '-d', '1']);
    expect(bad.code).toBe(2);
  });

  it('cli service - --metrics-host beyond loopback is served with a warning', async () => {
    const run = startCli([
      'stream',
      '--format',
      'none',
      '--metrics-port',
      '0',
      '--metrics-host',
      '0.0.0.0',
      '-n',
      '5',
    ]);
    const m = await run.waitFor('stderr', /metrics http:\/\/0\.0\.0\.0:(\d+)\/metrics/, 15_000);
    expect(run.stderr()).toMatch(/warning: --metrics-host 0\.0\.0\.0: .* beyond this machine/);
    const res = await fetch(`http://127.0.0.1:${m[1]}/healthz`);
    expect(res.status).toBe(200);
    run.child.kill('SIGTERM');
    expect((await run.done).code).toBe(0);
  });
});
