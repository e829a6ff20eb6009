/** What a newcomer hits in the first hour with the CLI, each as a run of the real command. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, parseLines, runCli } from './cli-helpers.js';

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
});
