/**
 * `stream --chain/--follow/--watchlist` and symbol resolution, run in-process (runCli) against the
 * built-in simulator, or a simulator started here acting as Kite (ticker and REST on one port).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { generateUniverse } from '../../src/simulator/universe.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-chain-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io(env: Record<string, string> = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return {
    io: {
      stdout,
      stderr,
      env: { XDG_CACHE_HOME: join(dir, 'xdg'), ...env },
      onStopSignal: () => () => undefined,
    },
    out: () => out,
    err: () => err,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('cli chain', () => {
  it('cli chain - --chain NIFTY:3 streams the index and 7 strikes x CE/PE, every line with its symbol', async () => {
    const t = io();
    const code = await runCli(
      ['stream', '--chain', 'NIFTY:3', '--follow', '-f', 'ndjson', '-d', '2', '--rate', '5'],
      t.io,
    );
    expect(t.err()).not.toMatch(/error/);
    expect(code).toBe(0);
    expect(t.err()).toMatch(/0 instruments \+ 1 chain, mode quote/);
    expect(t.err()).toMatch(/chain NIFTY 2026-01-29: centred on 24150 \(price 24150\.35; \+14 -0\)/);
    const lines = t.lines();
    const symbols = new Set(lines.map((l) => `${l.exchange}:${l.tradingsymbol}`));
    expect(symbols.has('NSE:NIFTY 50')).toBe(true);
    for (const s of symbols) expect(s).toMatch(/^(NSE:NIFTY 50|NFO:NIFTY26JAN\d+(CE|PE))$/);
    // Centred chain: 7 strikes (24000..24300) x CE/PE, plus any strikes a re-centre brought in.
    const options = [...symbols].filter((s) => s.startsWith('NFO:'));
    expect(options.length).toBeGreaterThanOrEqual(10);
  });

  it('cli chain - --watchlist reads symbols with spaces, tokens and comments', async () => {
    const file = join(dir, 'watch.txt');
    await writeFile(file, '\ufeff# indices\nNSE:NIFTY 50\r\n\n  408065   # INFY by token\nnse:reliance\n');
    const t = io();
    expect(
      await runCli(['stream', '--watchlist', file, '-f', 'ndjson', '-d', '1.5', '--rate', '5'], t.io),
    ).toBe(0);
    const seen = new Set(t.lines().map((l) => `${l.instrument_token} ${l.exchange}:${l.tradingsymbol}`));
    expect(seen).toEqual(new Set(['256265 NSE:NIFTY 50', '408065 NSE:INFY', '738561 NSE:RELIANCE']));
  });

  it('cli chain - an unknown symbol or underlying is a usage error with the closest matches, before connecting', async () => {
    const t = io();
    expect(await runCli(['stream', 'NSE:RELIANC', '-f', 'ndjson', '-d', '1'], t.io)).toBe(2);
    expect(t.err()).toMatch(/unknown instrument symbol: "NSE:RELIANC"; closest: NSE:RELIANCE/);
    expect(t.err()).not.toMatch(/summary/);
    const c = io();
    expect(await runCli(['stream', '--chain', 'BANKNIFTI', '-f', 'ndjson', '-d', '1'], c.io)).toBe(2);
    expect(c.err()).toMatch(/--chain BANKNIFTI: unknown underlying: "BANKNIFTI"; closest: BANKNIFTY/);
    const bad = io();
    expect(await runCli(['stream', '--chain', 'NIFTY:soon', '-d', '1'], bad.io)).toBe(2);
    expect(bad.err()).toMatch(/expiry must be nearest, next, monthly or YYYY-MM-DD/);
    const follow = io();
    expect(await runCli(['stream', '--follow', '-d', '1'], follow.io)).toBe(2);
    expect(follow.err()).toMatch(/--follow needs --chain/);
  });

  it('cli chain - with credentials, symbols resolve from the cache, downloaded from --api-url when stale', async () => {
    const sim = new KiteSimulator({ credentials: { kk: 'tt-secret' }, universeSize: 30_000, seed: 1 });
    await sim.start();
    try {
      const env = {
        KITE_API_KEY: 'kk',
        KITE_ACCESS_TOKEN: 'tt-secret',
        XDG_CACHE_HOME: join(dir, 'xdg-creds'),
      };
      const api = `http://127.0.0.1:${sim.port}`;
      // Equities: the simulator's derivatives carry fixed 2026 expiry dates, which a real list would
      // call expired on most days.
      const bse = generateUniverse(30_000, 1).find(
        (i) => i.exchange === 'BSE' && i.tradingsymbol === 'RELIANCE',
      )!;
      const t = io(env);
      const code = await runCli(
        [
          'stream',
          '--url',
          sim.url,
          '--api-url',
          api,
          'nse:infy',
          '-s',
          'BSE:RELIANCE',
          '-f',
          'ndjson',
          '-d',
          '2',
        ],
        t.io,
      );
      expect(t.err()).not.toMatch(/error/);
      expect(code).toBe(0);
      const seen = new Set(t.lines().map((l) => `${l.exchange}:${l.tradingsymbol}`));
      expect(seen).toEqual(new Set(['NSE:INFY', 'BSE:RELIANCE']));
      expect(new Set(t.lines().map((l) => l.instrument_token))).toEqual(
        new Set([408065, bse.instrument_token]),
      );
      expect(t.out() + t.err()).not.toContain('tt-secret');
      expect(existsSync(join(dir, 'xdg-creds', 'kiteticker', 'instruments.csv'))).toBe(true);
    } finally {
      await sim.stop();
    }
  });
});
