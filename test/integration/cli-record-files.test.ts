/**
 * `kiteticker record`: a configuration the library refuses fails before the output file exists, a
 * run that fails before its first frame leaves no file behind, and a token a server echoes in an order
 * postback is not written to the recording (which is created 0600).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/index.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

const TOKEN = 'record-SECRET-token-5521';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  killAll();
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'kt-record-files-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function startSim(): Promise<KiteSimulator> {
  const sim = new KiteSimulator({ credentials: { api_rec: TOKEN }, universeSize: 50 });
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

describe('cli record files', () => {
  it('cli record - --url with an access_token is refused before the output file is created', async () => {
    const out = join(await tempDir(), 'run.ktrec');
    const run = await runCli(
      ['record', '-o', out, '--url', 'ws://127.0.0.1:9/?access_token=abc', '-d', '2', '256265'],
      { KITE_API_KEY: 'api_rec', KITE_ACCESS_TOKEN: TOKEN },
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('--url: the URL must not carry an access_token');
    expect(run.stderr).toContain('"ws://127.0.0.1:9/?access_token=***"');
    expect(existsSync(out)).toBe(false);
  });

  it('cli record - a run refused before its first frame removes its file, so the retry needs no --force', async () => {
    const sim = await startSim();
    const out = join(await tempDir(), 'run.ktrec');
    const token = String(sim.instruments()[0]!.instrument_token);
    const args = ['record', '-o', out, '--url', sim.url, '-d', '2', '--format', 'none', token];
    const refused = await runCli(args, { KITE_API_KEY: 'api_rec', KITE_ACCESS_TOKEN: 'wrong-token-0000' });
    expect(refused.code, refused.stderr).not.toBe(0);
    expect(refused.stderr).toContain(`removed ${out}: nothing was recorded before the failure`);
    expect(existsSync(out)).toBe(false);
    const retry = await runCli(args, { KITE_API_KEY: 'api_rec', KITE_ACCESS_TOKEN: TOKEN });
    expect(retry.code, retry.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    if (process.platform !== 'win32') expect((await stat(out)).mode & 0o777).toBe(0o600);
  }, 30_000);

  it('cli record - an access token echoed in an order postback is redacted; the file is 0600', async () => {
    const sim = await startSim();
    const out = join(await tempDir(), 'orders.ktrec');
    // An existing, world-readable file replaced with --force is made private too.
    await writeFile(out, 'old', { mode: 0o644 });
    const token = String(sim.instruments()[0]!.instrument_token);
    const run = startCli(
      ['record', '-o', out, '--force', '--url', sim.url, '-d', '20', '--format', 'none', token],
      { KITE_API_KEY: 'api_rec', KITE_ACCESS_TOKEN: TOKEN },
    );
    await run.waitFor('stderr', /streaming; Ctrl-C to stop/, 15_000);
    const order = { order_id: 'ORD-1', status: 'COMPLETE', placed_by: TOKEN, tag: `t ${TOKEN}` };
    sim.injectFrame('all', new TextEncoder().encode(JSON.stringify({ type: 'order', data: order })), 'text');
    // Let the postback reach the recorder before stopping.
    await new Promise((resolve) => setTimeout(resolve, 500));
    run.child.kill('SIGTERM');
    const { code, stderr } = await run.done;
    expect(code, stderr).toBe(0);
    const recording = (await readFile(out)).toString('latin1');
    expect(recording).toContain('"order_id":"ORD-1"');
    expect(recording).toContain('"placed_by":"***"');
    expect(recording).not.toContain(TOKEN);
    if (process.platform !== 'win32') expect((await stat(out)).mode & 0o777).toBe(0o600);

    const replay = await runCli(['replay', out, '--format', 'ndjson']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stdout + replay.stderr).not.toContain(TOKEN);
  }, 40_000);
});
