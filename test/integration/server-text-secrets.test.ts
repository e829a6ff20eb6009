/**
 * Text frames from the server are hostile input: a server (or a proxy) may quote the request, access
 * token included, in an error or message frame, and may put terminal escape sequences in it. The
 * library hands on the text redacted; the CLI also shows control characters as visible escapes.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/index.js';
import type { Logger } from '../../src/logger.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import { KiteSimulator } from '../../src/simulator/index.js';

const TOKEN = 'SERVER-ECHO-TOKEN-41q';
const encoder = new TextEncoder();

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function startSim(): Promise<KiteSimulator> {
  const sim = new KiteSimulator({ credentials: { api_echo: TOKEN }, universeSize: 50 });
  await sim.start();
  cleanups.push(() => sim.stop());
  return sim;
}

function textFrame(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('server text secrets', () => {
  it('server text - an error or message frame quoting the token reaches events and logs redacted', async () => {
    const sim = await startSim();
    const logged: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => logged.push(JSON.stringify({ obj, msg })),
      error: (obj, msg) => logged.push(JSON.stringify({ obj, msg })),
    };
    const ticker = new KiteTicker({ apiKey: 'api_echo', accessToken: TOKEN, url: sim.url, logger });
    cleanups.push(() => ticker.close());
    const errors: string[] = [];
    const messages: unknown[] = [];
    ticker.on('serverError', (m) => errors.push(m));
    ticker.on('serverMessage', (m) => messages.push(m));
    await ticker.connect();

    sim.injectFrame(
      'all',
      textFrame({
        type: 'error',
        data: `refused GET /?api_key=api_echo&access_token=${TOKEN} (token ${TOKEN})`,
      }),
      'text',
    );
    sim.injectFrame('all', textFrame({ type: 'message', data: `welcome ${TOKEN}` }), 'text');
    await until(() => errors.length > 0 && messages.length > 0, 'the server frames');

    expect(errors).toEqual(['refused GET /?api_key=api_echo&access_token=*** (token ***)']);
    expect(messages).toEqual(['welcome ***']);
    expect(logged.some((l) => l.includes('server error message'))).toBe(true);
    expect(logged.join('\n')).not.toContain(TOKEN);
  });

  it('server text - the manager re-emits the redacted text', async () => {
    const sim = await startSim();
    const manager = new KiteTickerManager('api_echo', TOKEN, {
      url: sim.url,
      maxConnections: 1,
    });
    cleanups.push(() => manager.stop());
    const errors: string[] = [];
    manager.on('serverError', (m: string) => errors.push(m));
    await manager.start();
    sim.injectFrame('all', textFrame({ type: 'error', data: `bad token ${TOKEN}` }), 'text');
    await until(() => errors.length > 0, 'the server error');
    expect(errors).toEqual(['bad token ***']);
  });

  it('server text - the CLI prints a hostile server error with the token masked and escapes shown, not obeyed', async () => {
    const sim = await startSim();
    const tokens = sim
      .instruments()
      .slice(0, 3)
      .map((i) => String(i.instrument_token));
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KITE_')));
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'stream',
        '--url',
        sim.url,
        '--format',
        'ndjson',
        '-d',
        '20',
        ...tokens,
      ],
      {
        cwd: process.cwd(),
        env: { ...env, KITE_API_KEY: 'api_echo', KITE_ACCESS_TOKEN: TOKEN },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await until(() => stdout.includes('"instrument_token"'), 'ticks from the CLI', 15_000);

    const hostile = `denied access_token=${TOKEN} \x1b]52;c;aGVsbG8=\x07\x1b[2J\u009b2Jdone`;
    sim.injectFrame('all', textFrame({ type: 'error', data: hostile }), 'text');
    await until(() => stderr.includes('done'), 'the server error on stderr', 10_000);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('close', resolve));

    const line = stderr.split('\n').find((l) => l.includes('server error')) ?? '';
    expect(line).toContain(
      'main: server error: denied access_token=*** \\x1b]52;c;aGVsbG8=\\x07\\x1b[2J\\x9b2Jdone',
    );
    expect(stderr).not.toContain('\x1b');
    expect(stderr).not.toContain('\u009b');
    expect(stderr).not.toContain(TOKEN);
    expect(stdout).not.toContain(TOKEN);
  }, 40_000);
});
