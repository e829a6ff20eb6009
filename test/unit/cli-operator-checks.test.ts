/** Small operator-facing checks: record's own help, strict --duration, the simulator's host, summary guards. */
import { describe, expect, it } from 'vitest';
import { isLoopbackHost } from '../../src/cli/commands/simulate.js';
import { downloadNotice } from '../../src/cli/download-progress.js';
import { runCli } from '../../src/cli/program.js';
import { renderSummary } from '../../src/cli/summary.js';
import { memoryIo } from '../helpers/memory-io.js';

describe('cli operator checks', () => {
  it('cli help - record --help shows record examples, not stream ones', async () => {
    const t = memoryIo();
    await runCli(['record', '--help'], t.io);
    const help = t.out();
    expect(help).toContain('kiteticker record -o day.ktrec');
    expect(help).not.toContain('kiteticker stream -n 27000');
    expect(help).toContain('regular file');
    const s = memoryIo();
    await runCli(['stream', '--help'], s.io);
    expect(s.out()).toContain('kiteticker stream -n 27000');
  });

  it('cli flags - --duration takes plain decimals only, like -n (0x10 and 1e3 are usage errors)', async () => {
    for (const value of ['0x10', '1e3']) {
      const t = memoryIo();
      expect(await runCli(['stream', '-d', value, '--format', 'none'], t.io), value).toBe(2);
      expect(t.err()).toContain(`got "${value}"`);
    }
  });

  it('simulate - a host that is not loopback is warned about on stderr; loopback is not', async () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.1.2.3')).toBe(true);
    expect(isLoopbackHost('::1')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('localhost')).toBe(true);
    expect(isLoopbackHost('0.0.0.0')).toBe(false);
    expect(isLoopbackHost('::')).toBe(false);
    expect(isLoopbackHost('192.168.1.5')).toBe(false);
    const wide = memoryIo();
    expect(await runCli(['simulate', '--host', '0.0.0.0', '--port', '0', '-d', '0.2'], wide.io)).toBe(0);
    expect(wide.err()).toMatch(/warning: the simulator listens on 0\.0\.0\.0, not only on this machine/);
    const local = memoryIo();
    expect(await runCli(['simulate', '--port', '0', '-d', '0.2'], local.io)).toBe(0);
    expect(local.err()).not.toContain('warning');
  });

  it('cli summary - a NaN or infinite elapsed time shows no NaN rate', () => {
    for (const elapsed of [Number.NaN, Number.POSITIVE_INFINITY, -5]) {
      const text = renderSummary({ at: 0, uptimeMs: 0, apiKeys: [] }, elapsed, { clock: 'recorded' });
      expect(text).not.toContain('NaN');
      expect(text).not.toContain('Infinity');
      expect(text).toContain('rate unknown');
    }
    expect(renderSummary({ at: 0, uptimeMs: 0, apiKeys: [] }, 2000)).toContain('(0.0/s)');
  });

  it('cli summary - text frames are counted beside binary frames, as their bytes are', () => {
    const connection = {
      index: 0,
      status: 'connected',
      connected: true,
      symbols: 1,
      frames: 0,
      textMessages: 1200,
      ticks: 0,
      bytes: 15 * 1024 * 1024,
      reconnects: 0,
      protocolErrors: 0,
      lastFrameAgeMs: 0,
    };
    const snapshot = {
      at: 0,
      uptimeMs: 0,
      apiKeys: [{ apiKeyId: 'a', state: 'active', drops: 0, connections: [connection] }],
    };
    expect(renderSummary(snapshot, 1000)).toContain('  frames       0 binary, 1,200 text (15.0 MiB)');
    expect(
      renderSummary(
        {
          ...snapshot,
          apiKeys: [
            { ...snapshot.apiKeys[0]!, connections: [{ ...connection, textMessages: 0, frames: 7 }] },
          ],
        },
        1000,
      ),
    ).toContain('  frames       7 (15.0 MiB)');
  });

  it('instruments download - said at once, then every interval until stopped', async () => {
    const lines: string[] = [];
    const notice = downloadNotice((l) => lines.push(l), 30);
    notice.onDownloadStart('http://127.0.0.1:9/instruments');
    expect(lines).toEqual([
      'downloading the instruments list from http://127.0.0.1:9/instruments (gives up after 60 s; Ctrl-C to stop)...',
    ]);
    notice.onProgress(4096, undefined);
    await new Promise((r) => setTimeout(r, 100));
    notice.stop();
    const count = lines.length;
    expect(count).toBeGreaterThan(1);
    expect(lines[1]).toMatch(/^still downloading the instruments list: \d+ s, 4 KiB so far$/);
    await new Promise((r) => setTimeout(r, 80));
    expect(lines.length).toBe(count);
  });
});
