/**
 * Bad access-token providers inside a running multi-key manager: one key's provider throws, returns '',
 * then never answers, while another key streams. Each is a reported TokenProviderError (no crash, no
 * hot loop), the good key loses nothing (its ticks go on, every instrument stays placed), and the bad
 * key comes back by itself once its provider gives a token. And a keys file that disappears while a
 * keysFileTokenProvider watches it: reported by the watch itself, the last token kept, a new file read.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keysFileTokenProvider } from '../../src/connection/keys-file-provider.js';
import { ErrorCode } from '../../src/errors.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/server.js';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('bad input providers', () => {
  it('bad input providers - a key whose provider throws, returns an empty string or hangs loses nothing on the other key', async () => {
    const sim = new KiteSimulator({
      universeSize: 200,
      seed: 5,
      batchIntervalMs: 50,
      heartbeatIntervalMs: 100,
      ticksPerSecond: 10,
    });
    await sim.start();
    closers.push(() => sim.stop());

    let mode: 'throw' | 'empty' | 'hang' | 'ok' = 'throw';
    const calls = { throw: 0, empty: 0, hang: 0, ok: 0 };
    const hung: Array<(e: Error) => void> = [];
    const manager = MultiApiKiteTickerManager.builder()
      .addApiKey('good', 'sim_key_1', 'sim_token_1')
      .addApiKey('bad', 'sim_key_2', () => {
        calls[mode]++;
        if (mode === 'throw') throw new Error('vault down');
        if (mode === 'empty') return '';
        // Hangs far past the 100 ms timeout; settles only when the phase ends (as a vault's request
        // would at its own network timeout).
        if (mode === 'hang') return new Promise<string>((_, reject) => hung.push(reject));
        return 'sim_token_2';
      })
      .url(sim.url)
      .baseConfig({
        reconnect: { initialDelayMs: 10, maxDelayMs: 100, jitter: 'none' },
        tokenRefreshIntervalMs: 100,
        tokenProviderTimeoutMs: 100,
      })
      .build();
    closers.push(() => manager.stop());
    const errors: Array<Error & { code?: string }> = [];
    manager.on('error', (e) => errors.push(e));
    const ticksBy = { good: 0, bad: 0 };
    manager.on('ticks', (t, id) => {
      ticksBy[id as 'good' | 'bad'] += t.length;
    });

    // The manager starts on the key that works; the other waits for its provider.
    await manager.start().catch(() => undefined);
    const instruments = sim
      .instruments()
      .slice(0, 30)
      .map((i) => i.instrument_token);
    await manager.subscribeSymbols(instruments, Mode.LTP);
    expect(manager.getApiStats('good').state).toBe('active');
    expect(manager.getApiStats('bad').state).toBe('failed');
    expect(manager.getUnplacedSymbols().size).toBe(0);

    for (const phase of ['throw', 'empty', 'hang'] as const) {
      mode = phase;
      const ticksBefore = ticksBy.good;
      const errorsBefore = errors.length;
      await new Promise((r) => setTimeout(r, 600));
      // The good key streams on, with every instrument placed.
      expect(ticksBy.good, phase).toBeGreaterThan(ticksBefore);
      expect(manager.getApiStats('good').state, phase).toBe('active');
      expect(manager.getUnplacedSymbols().size, phase).toBe(0);
      // Each phase is reported, as a provider error, and polled every 100 ms, not in a loop.
      const reported = errors.slice(errorsBefore).filter((e) => e.code === ErrorCode.TokenProvider);
      expect(reported.length, phase).toBeGreaterThanOrEqual(1);
      expect(reported.length, phase).toBeLessThanOrEqual(15);
      expect(manager.getApiStats('bad').state, phase).toBe('failed');
    }
    // A provider that does not answer is not asked again while its calls hang (at most 2 at once).
    expect(calls.hang).toBeGreaterThanOrEqual(1);
    expect(calls.hang).toBeLessThanOrEqual(2);
    for (const reject of hung.splice(0)) reject(new Error('vault timed out'));
    expect(calls.throw).toBeGreaterThanOrEqual(2);
    expect(calls.empty).toBeGreaterThanOrEqual(2);
    const messages = errors.map((e) => e.message).join('\n');
    expect(messages).toMatch(/vault down/);
    expect(messages).toMatch(/empty string/);
    expect(messages).toMatch(/did not answer within 100 ms/);

    mode = 'ok';
    await waitFor(() => manager.getApiStats('bad').state === 'active', 5000, 'the bad key back');
    expect(manager.getUnplacedSymbols().size).toBe(0);
    const goodNow = ticksBy.good;
    await waitFor(() => ticksBy.good > goodNow, 3000, 'ticks after the recovery');
    for (const e of errors) expect(e.message).not.toContain('sim_token_');
  });

  it('bad input providers - a keys file deleted while watched is reported by the watch, the token kept, a new file read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kt-keys-vanish-'));
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'keys.json');
    const write = async (token: string): Promise<void> => {
      const tmp = `${path}.tmp`;
      await writeFile(tmp, JSON.stringify([{ id: 'a', apiKey: 'k', accessToken: token }]), { mode: 0o600 });
      await rename(tmp, path);
    };
    await write('tok_vanish_00001');
    const reports: string[] = [];
    const provider = keysFileTokenProvider(path, 'a', { onReport: (m) => reports.push(m) });
    closers.push(() => provider.close());
    expect(await provider()).toBe('tok_vanish_00001');

    await rm(path);
    // No call to the provider: the watch sees the file go and says so.
    await waitFor(() => reports.some((r) => /cannot read \(ENOENT\)/.test(r)), 3000, 'the report');
    expect(await provider()).toBe('tok_vanish_00001');

    await write('tok_vanish_00002');
    expect(await provider()).toBe('tok_vanish_00002');

    // The whole directory goes and comes back: the watch is on the old one, each call still checks.
    await rm(dir, { recursive: true, force: true });
    expect(await provider()).toBe('tok_vanish_00002');
    await mkdir(dir);
    await write('tok_vanish_00003');
    expect(await provider()).toBe('tok_vanish_00003');
    for (const r of reports) expect(r).not.toMatch(/tok_vanish/);
  });

  it.skipIf(process.platform === 'win32')(
    'bad input providers - a keys file replaced by a FIFO or a directory is reported, never blocks a call',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'kt-keys-fifo-'));
      closers.push(() => rm(dir, { recursive: true, force: true }));
      const path = join(dir, 'keys.json');
      const good = (token: string): string => JSON.stringify([{ id: 'a', apiKey: 'k', accessToken: token }]);
      await writeFile(path, good('tok_fifo_000001'), { mode: 0o600 });
      const reports: string[] = [];
      const provider = keysFileTokenProvider(path, 'a', { onReport: (m) => reports.push(m) });
      closers.push(() => provider.close());
      expect(await provider()).toBe('tok_fifo_000001');
      /** The provider's answer, or 'blocked' when it has none within a second. */
      const answer = (): Promise<string> =>
        Promise.race([provider(), new Promise<string>((r) => setTimeout(() => r('blocked'), 1000).unref())]);

      await rm(path);
      execFileSync('mkfifo', ['-m', '600', path]);
      expect(await answer()).toBe('tok_fifo_000001');
      expect(reports.at(-1)).toMatch(/keys\.json: not a regular file; keeping the last token/);

      await rm(path);
      await mkdir(path);
      expect(await answer()).toBe('tok_fifo_000001');

      await rm(path, { recursive: true });
      await writeFile(path, good('tok_fifo_000002'), { mode: 0o600 });
      expect(await answer()).toBe('tok_fifo_000002');
    },
  );
});
