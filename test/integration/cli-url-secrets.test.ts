/**
 * `--url ws://user:pass@host`: the password must not reach stderr or the recording header.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/index.js';
import { killAll, runCli } from './cli-helpers.js';

const PASSWORD = 'url-pa55@word';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  killAll();
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe('cli url secrets', () => {
  it('cli url - userinfo in --url is shown and recorded as ***@, never the password', async () => {
    const sim = new KiteSimulator({ credentials: { api_u: 'url-test-token-1234' }, universeSize: 20 });
    await sim.start();
    cleanups.push(() => sim.stop());
    const dir = await mkdtemp(join(tmpdir(), 'kite-url-secrets-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const out = join(dir, 'run.ktrec');
    const url = sim.url.replace('ws://', `ws://user:${PASSWORD}@`);
    const token = String(sim.instruments()[0]!.instrument_token);

    const run = await runCli(
      ['record', '-o', out, '--url', url, '-d', '2', '--format', 'none', '-v', token],
      {
        KITE_API_KEY: 'api_u',
        KITE_ACCESS_TOKEN: 'url-test-token-1234',
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`ws://***@127.0.0.1:${sim.port}`);
    const recording = (await readFile(out)).toString('latin1');
    expect(recording).toContain(`ws://***@127.0.0.1:${sim.port}`);
    for (const text of [run.stderr, run.stdout, recording]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('word@');
      expect(text).not.toContain('url-test-token-1234');
    }
  }, 30_000);
});
