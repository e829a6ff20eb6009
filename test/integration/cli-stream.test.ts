import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateUniverse, KiteSimulator } from '../../src/simulator/index.js';
import { killAll, parseLines, runCli, startCli } from './cli-helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-'));
});
afterEach(() => killAll());
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli stream', () => {
  it('cli stream - ndjson on the built-in simulator yields ticks of exactly the requested tokens and symbols', async () => {
    // An option symbol of the simulator's own universe (same default seed as the CLI's).
    const option = generateUniverse(30_000, 1).find(
      (i) => i.exchange === 'NFO' && i.instrument_type === 'CE',
    )!;
    const { code, stdout, stderr } = await runCli([
      'stream',
      '--format',
      'ndjson',
      '--duration',
      '2',
      '--mode',
      'full',
      '256265',
      'NSE:INFY',
      '--symbols',
      `NFO:${option.tradingsymbol}`,
    ]);
    expect(stderr).not.toMatch(/error/i);
    expect(code).toBe(0);
    const ticks = parseLines(stdout);
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks.map((t) => t.instrument_token))).toEqual(
      new Set([256265, 408065, option.instrument_token]),
    );
    for (const t of ticks) {
      expect(t.mode).toBe('full');
      expect(typeof t.last_price).toBe('number');
      expect(t.apiKeyId).toMatch(/^sim\d$/);
      if (t.tradable) {
        expect((t.depth as { buy: unknown[] }).buy).toHaveLength(5);
        // Dates travel as ISO strings.
        expect(t.exchange_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    }
    expect(stderr).toMatch(/kiteticker summary \(stopped: duration\)/);
    expect(stderr).toMatch(/ticks\s+\d+/);
  });

  it('cli stream - a closed pipe (| head) ends the run quietly with exit code 0', async () => {
    const run = startCli(['stream', '-n', '200', '--rate', '20']);
    await run.waitFor('stdout', /\n/);
    run.child.stdout.destroy();
    const { code, stderr } = await run.done;
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error:|at .*\.js/);
    expect(stderr).toMatch(/stopped: output closed/);
  });

  it('cli help - a reader that is already gone gets no stack trace, and the exit code is 0', async () => {
    const run = startCli(['--help']);
    // Close our end before the CLI writes a byte: its first write meets EPIPE.
    run.child.stdout.destroy();
    const { code, stderr } = await run.done;
    expect(stderr).not.toMatch(/EPIPE|Error:|at .*\.js/);
    expect(code).toBe(0);
  });
});

describe('cli record and replay', () => {
  it('cli record - replay --format ndjson gives the same ticks that were streamed', async () => {
    const file = join(dir, 'session.ktrec');
    const live = await runCli([
      'record',
      '--out',
      file,
      '--format',
      'ndjson',
      '--duration',
      '2',
      '-n',
      '40',
      '--rate',
      '5',
    ]);
    expect(live.code).toBe(0);
    expect(live.stderr).toMatch(/recorded\s+\d+ frames/);
    const replay = await runCli(['replay', file, '--format', 'ndjson']);
    expect(replay.code).toBe(0);
    const liveLines = live.stdout.split('\n').filter(Boolean);
    const replayLines = replay.stdout.split('\n').filter(Boolean);
    expect(liveLines.length).toBeGreaterThan(40);
    // Frames from different keys may interleave differently; the ticks are the same. Live lines also
    // carry the instrument list's tradingsymbol/exchange, which a recording does not keep.
    const bare = (line: string): string => {
      const { tradingsymbol: _s, exchange: _e, ...tick } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(tick);
    };
    expect(liveLines.every((l) => typeof JSON.parse(l).tradingsymbol === 'string')).toBe(true);
    expect(replayLines.map(bare).sort()).toEqual(liveLines.map(bare).sort());
    expect(replay.stderr).toMatch(/kiteticker replay summary/);
  });

  it('cli replay - a truncated recording replays its complete frames and warns', async () => {
    const file = join(dir, 'cut.ktrec');
    const live = await runCli(['record', '--out', file, '--duration', '1', '-n', '10', '--no-summary']);
    expect(live.code).toBe(0);
    const { readFile } = await import('node:fs/promises');
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 5));
    const replay = await runCli(['replay', file, '--format', 'ndjson']);
    expect(replay.code).toBe(0);
    expect(parseLines(replay.stdout).length).toBeGreaterThan(0);
    expect(replay.stderr).toMatch(/ignored a truncated record at the end/);
  });
});

describe('cli errors', () => {
  it('cli errors - bad input gives a clear message and exit code 2', async () => {
    const cases: [string[], RegExp][] = [
      [['stream', 'NSE:NO_SUCH_SYMBOL'], /unknown instrument symbol: "NSE:NO_SUCH_SYMBOL"/],
      [['stream', '--mode', 'fast'], /--mode: expected ltp, quote or full, got "fast"/],
      [
        ['stream', '--instruments', join(dir, 'missing.csv')],
        /--instruments: cannot read .*missing\.csv: ENOENT/,
      ],
      [['stream', '--duration', 'soon'], /--duration: expected a number of seconds/],
    ];
    const results = await Promise.all(cases.map(([args]) => runCli(args)));
    results.forEach((r, i) => {
      expect(r.stderr, cases[i]![0].join(' ')).toMatch(cases[i]![1]);
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stdout).toBe('');
    });
  });
});

describe('cli credentials', () => {
  const TOKEN = 'tok_SECRET_7f3a9c51e2';
  let sim: KiteSimulator;
  beforeAll(async () => {
    sim = new KiteSimulator({ credentials: { fake_key: TOKEN }, universeSize: 2000 });
    await sim.start({ port: 0 });
  });
  afterAll(async () => {
    await sim.stop();
  });

  it('cli credentials - the access token never appears in output, logs or metrics', async () => {
    const run = startCli(
      ['stream', '--url', sim.url, '256265', '408065', '--duration', '3', '-v', '--metrics-port', '0'],
      {
        KITE_API_KEY: 'fake_key',
        KITE_ACCESS_TOKEN: TOKEN,
      },
    );
    const [, metricsUrl] = await run.waitFor('stderr', /metrics (http:\/\/127\.0\.0\.1:\d+\/metrics)/);
    await run.waitFor('stdout', /\n/);
    const res = await fetch(metricsUrl!);
    const metrics = await res.text();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(metrics).toMatch(/kiteticker_ticks_total\{api_key_id="main",connection="0"\} [1-9]/);
    expect(metrics).toContain('kiteticker_connection_up{api_key_id="main",connection="0"} 1');
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    expect(parseLines(stdout).every((t) => t.apiKeyId === 'main')).toBe(true);
    expect(stderr).toMatch(/debug|info/); // the verbose log ran (and its URLs carried the token)
    for (const text of [stdout, stderr, metrics]) expect(text).not.toContain(TOKEN);
  });

  it('cli credentials - a refused token fails with exit 1 and is not echoed', async () => {
    const wrong = 'tok_WRONG_b9d2e4';
    const { code, stdout, stderr } = await runCli(
      ['stream', '--url', sim.url, '256265', '--duration', '5', '-v'],
      {
        KITE_API_KEY: 'fake_key',
        KITE_ACCESS_TOKEN: wrong,
      },
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/authentication failed \(HTTP 403\)/);
    expect(stdout + stderr).not.toContain(wrong);
  });
});

describe('cli simulate', () => {
  it('cli simulate - prints its URL and test keys, and serves a stream using a keys file', async () => {
    const server = startCli(['simulate', '--keys', '2', '--universe-size', '2000', '--duration', '10']);
    await server.waitFor('stdout', /Ctrl-C to stop/);
    const url = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(server.stdout())?.[1];
    expect(server.stdout()).toContain('sim_key_2  sim_token_2');
    // The REST login apps too, marked as test credentials.
    expect(server.stdout()).toContain('sim_key_2  sim_secret_2');
    expect(server.stdout()).toMatch(/test credentials: they work only with this simulator/);
    const keysFile = join(dir, 'keys.json');
    await writeFile(
      keysFile,
      JSON.stringify([
        { id: 'first', apiKey: 'sim_key_1', accessToken: 'sim_token_1' },
        { id: 'second', apiKey: 'sim_key_2', accessToken: 'sim_token_2' },
      ]),
    );
    const { code, stdout } = await runCli([
      'stream',
      '--url',
      url!,
      '--keys-file',
      keysFile,
      '256265',
      '408065',
      '-d',
      '1.5',
    ]);
    expect(code).toBe(0);
    const ticks = parseLines(stdout);
    expect(new Set(ticks.map((t) => t.instrument_token))).toEqual(new Set([256265, 408065]));
    // Round-robin placement spreads the two instruments over both keys.
    expect(new Set(ticks.map((t) => t.apiKeyId))).toEqual(new Set(['first', 'second']));
    server.child.kill('SIGTERM');
    const end = await server.done;
    expect(end.code).toBe(0);
    expect(end.stderr).toMatch(/simulator stopped \(SIGTERM\)/);
  });
});
