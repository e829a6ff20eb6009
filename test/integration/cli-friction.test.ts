/** What a newcomer hits in the first hour with the CLI, each as a run of the real command. */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/index.js';
import { killAll, parseLines, ROOT, runCli } from './cli-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-friction-'));
});
afterEach(() => killAll());
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli first hour', () => {
  it('cli stream - a quoted symbol with spaces ("NSE:NIFTY 50") is one instrument', async () => {
    const { code, stdout, stderr } = await runCli([
      'stream',
      '--format',
      'ndjson',
      '--duration',
      '2',
      'NSE:NIFTY 50',
      'NSE:NIFTY BANK',
      '--symbols',
      'NSE:INDIA VIX, NSE:INFY',
    ]);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const tokens = new Set(parseLines(stdout).map((t) => t.instrument_token));
    expect(tokens.has(256265)).toBe(true);
    expect(tokens.has(260105)).toBe(true);
    expect(tokens.has(408065)).toBe(true);
    expect(tokens.size).toBe(4);
  }, 30_000);

  it('cli record - an existing --out file is kept (exit 2) unless --force', async () => {
    const file = join(dir, 'exists.ktrec');
    await writeFile(file, 'precious');
    const refused = await runCli(['record', '--out', file, '-d', '1', '-n', '5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^kiteticker: error: --out: .*exists\.ktrec already exists; add --force to overwrite it$/m,
    );
    expect(await readFile(file, 'utf8')).toBe('precious');
    const forced = await runCli(['record', '--out', file, '--force', '-d', '1', '-n', '5']);
    expect(forced.code).toBe(0);
    expect((await readFile(file)).subarray(0, 8).toString('latin1')).toBe('KTRECORD');
  }, 30_000);

  it('cli stream - a --metrics-port in use fails at once (exit 2), before the simulator or any connection starts', async () => {
    const busy: Server = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const started = Date.now();
      const { code, stderr } = await runCli([
        'stream',
        '--metrics-port',
        String(port),
        '-d',
        '10',
        '-f',
        'none',
      ]);
      expect(code).toBe(2);
      expect(stderr).toMatch(
        new RegExp(
          `^kiteticker: error: --metrics-port ${port}: the port is in use; pick another, or 0 for any free port$`,
          'm',
        ),
      );
      // Nothing was started: no endpoint line, no summary of a session that never ran.
      expect(stderr).not.toMatch(/simulator ws:|summary/);
      expect(Date.now() - started).toBeLessThan(8000);
    } finally {
      busy.close();
    }
  }, 30_000);

  it('cli stream - an unknown token is warned about, and a capped -n says so; one instrument is singular', async () => {
    const unknown = await runCli(['stream', '99999999', '-d', '1', '-f', 'none']);
    expect(unknown.code).toBe(0);
    expect(unknown.stderr).toMatch(
      /^kiteticker: warning: token 99999999 not in the built-in simulator's list: subscribed anyway, but an unknown token streams nothing$/m,
    );
    expect(unknown.stderr).toMatch(/, 3 keys, 1 instrument, mode quote$/m);

    const csv = join(dir, 'two.csv');
    await writeFile(
      csv,
      [
        'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange',
        '408065,1594,INFY,INFOSYS,1500.0,,0.0,0.05,1,EQ,NSE,NSE',
        '256265,1001,NIFTY 50,NIFTY 50,24000.0,,0.0,0.0,0,EQ,INDICES,NSE',
      ].join('\n'),
    );
    const capped = await runCli(['stream', '-i', csv, '-n', '10', '-d', '1', '-f', 'none']);
    expect(capped.code).toBe(0);
    expect(capped.stderr).toMatch(
      /^kiteticker: note: -n 10: only 2 instruments are available in .*two\.csv; streaming 2$/m,
    );
  }, 30_000);
});

describe('cli with real-looking keys', () => {
  const API_KEY = 'apikey_q8w7e6r5';
  const TOKEN = 'tok_GOOD_1c2d3e4f';
  let sim: KiteSimulator;
  beforeAll(async () => {
    sim = new KiteSimulator({ credentials: { [API_KEY]: TOKEN }, universeSize: 2000 });
    await sim.start({ port: 0 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('cli stream - a refused token says what to do on the command line (new token, where it goes), once', async () => {
    const keysFile = join(dir, 'keys.json');
    await writeFile(
      keysFile,
      JSON.stringify([{ id: 'primary', apiKey: API_KEY, accessToken: 'tok_STALE_9a8b' }]),
    );
    const { code, stderr } = await runCli([
      'stream',
      '--keys-file',
      keysFile,
      '--url',
      sim.url,
      '256265',
      '-d',
      '5',
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `kiteticker: primary: Kite refused the access token (HTTP 403): it is invalid or has expired (Kite access tokens expire every morning). Log in again to get a new one and put it in the accessToken of "primary" in ${keysFile}, then run the command again`,
    );
    expect(stderr).toMatch(/^kiteticker: error: stopping: Kite refused the access token \(see above\)$/m);
    expect(stderr).not.toMatch(/updateAccessToken/);
    expect(stderr).not.toContain('tok_STALE_9a8b');

    const single = await runCli(['stream', '--url', sim.url, '256265', '-d', '5'], {
      KITE_API_KEY: API_KEY,
      KITE_ACCESS_TOKEN: 'tok_STALE_9a8b',
    });
    expect(single.code).toBe(1);
    expect(single.stderr).toMatch(/put it in KITE_ACCESS_TOKEN, then run the command again/);
  }, 30_000);

  it('cli stream - -v logs name each key by its id, not by its apiKey', async () => {
    const { code, stderr } = await runCli(
      ['stream', '--url', sim.url, '256265', '-d', '2', '-v', '-f', 'none'],
      { KITE_API_KEY_1: API_KEY, KITE_ACCESS_TOKEN_1: TOKEN, KITE_API_KEY_ID_1: 'alpha' },
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(/debug kite ticker: connecting \{"apiKeyId":"alpha"/);
    expect(stderr).toMatch(/info ticker manager started \{"apiKeyId":"alpha"/);
    expect(stderr).not.toContain(API_KEY);
    expect(stderr).not.toContain(TOKEN);
  }, 30_000);
});

describe('cli start-up', () => {
  it('cli stream - a stalled handshake says what it waits for, and every count of connections agrees', async () => {
    // Accepts TCP connections and never answers the WebSocket upgrade.
    const sockets: Socket[] = [];
    const stalled: Server = createServer((socket) => {
      sockets.push(socket);
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const port = (stalled.address() as { port: number }).port;
    try {
      const { code, stderr } = await runCli(
        ['stream', '--url', `ws://127.0.0.1:${port}`, '256265', '-d', '4', '-f', 'none'],
        { KITE_API_KEY: 'api_key_x', KITE_ACCESS_TOKEN: 'token_value_x' },
      );
      expect(code).toBe(1);
      expect(stderr).toMatch(/^kiteticker: waiting for 1 of 1 connection \(3s\): main #0 connecting$/m);
      expect(stderr).toMatch(
        /^kiteticker: error: --duration ran out while connecting \(0 of 1 connection up\)$/m,
      );
      expect(stderr).toMatch(/^ {2}instruments {2}0 on 1 key, 1 connection$/m);
    } finally {
      for (const s of sockets) s.destroy();
      stalled.close();
    }
  }, 30_000);
});

describe('examples', () => {
  it('examples - import the package by its name (an exported entry point), never ../src', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    const exported = new Set(Object.keys(pkg.exports).map((k) => k.replace(/^\./, 'kiteticker-manager')));
    const files = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const text = await readFile(join(ROOT, 'examples', file), 'utf8');
      const specifiers = [...text.matchAll(/^import [^;]*? from '([^']+)';$/gm)].map((m) => m[1]!);
      expect(specifiers.length, file).toBeGreaterThan(0);
      for (const spec of specifiers) expect(exported, `${file}: ${spec}`).toContain(spec);
    }
  });

  it('examples - quickstart runs from a checkout with npx tsx and prints ticks', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const code = await new Promise<number | null>((r) => child.on('close', r));
    clearTimeout(timer);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^main 0 (256265|408065|738561) \d/m);
  }, 30_000);
});
