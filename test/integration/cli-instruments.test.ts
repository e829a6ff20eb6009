import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { derivativesCsv } from '../helpers/instrument-lists.js';
import { memoryIo } from '../helpers/memory-io.js';

let sim: KiteSimulator;
let api: string;
let dir: string;

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 4000, seed: 5 });
  await sim.start();
  api = `http://127.0.0.1:${sim.port}`;
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-instr-'));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

const io = memoryIo;

describe('cli instruments', () => {
  it('cli instruments - downloads from the simulator, prints where and rows per exchange, then hits the cache', async () => {
    const cacheDir = join(dir, 'c1');
    const t = io({ KITE_API_KEY: 'k', KITE_ACCESS_TOKEN: 'secret-at' });
    expect(await runCli(['instruments', '--api-url', api, '--cache-dir', cacheDir], t.io)).toBe(0);
    const nse = sim.instruments().filter((i) => i.exchange === 'NSE').length;
    expect(t.out()).toContain(`${join(cacheDir, 'instruments.csv')}: 4000 rows, downloaded`);
    expect(t.out()).toMatch(new RegExp(`\\nNSE\\s+${nse}\\n`));
    expect(t.out()).toMatch(/total 4000 rows/);
    // Not a terminal: no rewritten progress line, only the one line that says a download started.
    expect(t.err()).toMatch(
      /^kiteticker: downloading the instruments list from http:\/\/127\.0\.0\.1:\d+\/instruments \(gives up after 60 s; Ctrl-C to stop\)\.\.\.\n$/,
    );
    expect(t.out() + t.err()).not.toContain('secret-at');
    const again = io();
    expect(await runCli(['instruments', '--api-url', api, '--cache-dir', cacheDir], again.io)).toBe(0);
    expect(again.out()).toMatch(/4000 rows, up to date \(cached\)/);
    const forced = io();
    expect(
      await runCli(['instruments', '--api-url', api, '--cache-dir', cacheDir, '--force'], forced.io),
    ).toBe(0);
    expect(forced.out()).toMatch(/unchanged on the server \(304\)/);
  });

  it('cli instruments - --exchange keeps one file per exchange; --out writes the merged list', async () => {
    const cacheDir = join(dir, 'c2');
    const out = join(dir, 'merged.csv');
    const t = io();
    expect(
      await runCli(
        ['instruments', '--api-url', api, '--cache-dir', cacheDir, '--exchange', 'NSE,NFO', '--out', out],
        t.io,
      ),
    ).toBe(0);
    expect(t.out()).toContain('instruments-NSE.csv');
    expect(t.out()).toContain('instruments-NFO.csv');
    const lines = (await readFile(out, 'utf8')).trimEnd().split('\n');
    const expected = sim.instruments().filter((i) => i.exchange === 'NSE' || i.exchange === 'NFO').length;
    expect(lines).toHaveLength(expected + 1);
  });

  it('cli instruments - an unreachable API is a runtime error naming the URL', async () => {
    const t = io();
    const code = await runCli(
      ['instruments', '--api-url', 'http://127.0.0.1:1', '--cache-dir', join(dir, 'c3')],
      t.io,
    );
    expect(code).toBe(1);
    expect(t.err()).toMatch(/GET http:\/\/127\.0\.0\.1:1\/instruments failed/);
  });

  it('cli instruments search - a table of matches from a file, filtered by type and exchange', async () => {
    const file = join(dir, 'list.csv');
    await writeFile(file, derivativesCsv());
    const t = io();
    expect(
      await runCli(
        ['instruments', 'search', 'NIFTY', '-i', file, '--type', 'FUT', '--exchange', 'nfo'],
        t.io,
      ),
    ).toBe(0);
    const lines = t.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*token\s+symbol\s+exchange\s+type\s+expiry\s+strike\s+lot size$/);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(['NIFTY26JANFUT', 'NIFTY26FEBFUT']);
    expect(lines[1]).toMatch(/NFO\s+FUT\s+2026-01-27\s+75$/);
    const spaced = io();
    expect(await runCli(['instruments', 'search', 'nifty', '50', '-i', file], spaced.io)).toBe(0);
    expect(spaced.out()).toMatch(/256265\s+NIFTY 50\s+NSE/);
    const nse = io();
    expect(await runCli(['instruments', 'search', 'NIFTY', '-i', file, '--exchange', 'NSE'], nse.io)).toBe(0);
    expect(
      nse
        .out()
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.trim().split(/\s{2,}/)[1]),
    ).toEqual(['NIFTY 50', 'NIFTY BANK']);
    const none = io();
    expect(await runCli(['instruments', 'search', 'zzzz', '-i', file], none.io)).toBe(1);
    expect(none.err()).toMatch(/nothing matches "zzzz"/);
    const bad = io();
    expect(await runCli(['instruments', 'search', 'x', '-i', file, '--type', 'XX'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/--type: expected one of ce, pe, fut, eq/);
  });

  it('cli instruments search - reads the cache the download filled', async () => {
    const cacheDir = join(dir, 'c4');
    expect(await runCli(['instruments', '--api-url', api, '--cache-dir', cacheDir], io().io)).toBe(0);
    const t = io();
    expect(await runCli(['instruments', 'search', 'INFY', '--cache-dir', cacheDir, '-l', '1'], t.io)).toBe(0);
    expect(t.out()).toMatch(/408065\s+INFY\s+NSE\s+EQ/);
    expect(t.err()).toBe('');
  });
});
