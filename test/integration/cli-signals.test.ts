/**
 * SIGTERM/SIGINT end the CLI within 2 s whatever its stdout reader does: here the reader never reads
 * (`kiteticker stream | <stuck process>`), so the pipe fills and every write stays queued.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/cli/recording.js';
import { ROOT, runCli } from './cli-helpers.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

let dir: string;
const children = new Set<ChildProcess>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-cli-signals-'));
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface StuckRun {
  child: ChildProcess;
  /** Resolves once the child has written its first output. */
  firstOutput: Promise<void>;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts the CLI with a stdout pipe that this test never reads (so it fills up). */
function startWithStuckReader(args: string[]): StuckRun {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KITE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: { ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  // The first chunk is read (the child is running and has its signal handlers), then no more:
  // once the pipe's buffer is full, the child's writes queue up.
  const firstOutput = new Promise<void>((resolve) => {
    child.stdout!.once('data', () => {
      child.stdout!.pause();
      resolve();
    });
  });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>(
    (resolve) => {
      child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() }));
    },
  );
  return { child, firstOutput, stderr: () => err, exited };
}

async function waitForStderr(run: StuckRun, pattern: RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(run.stderr())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; stderr:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the child has more queued than the pipe holds (its output is stuck). */
async function waitForStuckOutput(ms = 1500): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

describe('cli signals', () => {
  it('cli signals - one SIGTERM ends stream within 2 s when the stdout reader never reads', async () => {
    const run = startWithStuckReader(['stream', '--format', 'ndjson', '-n', '3000', '--rate', '20']);
    await waitForStderr(run, /streaming; Ctrl-C to stop/);
    await run.firstOutput;
    await waitForStuckOutput();
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await Promise.race([
      run.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 6000)),
    ]);
    expect(result, 'still running 6 s after SIGTERM').toBeDefined();
    expect(result!.at - sentAt).toBeLessThan(3000);
    expect(result!.code).toBe(0);
    expect(run.stderr()).toMatch(/summary \(stopped: SIGTERM\)/);
  }, 30_000);

  it('cli signals - one SIGTERM ends record within 2 s and leaves a complete recording', async () => {
    const file = join(dir, 'stuck.ktrec');
    const run = startWithStuckReader([
      'record',
      '--out',
      file,
      '--format',
      'ndjson',
      '-n',
      '3000',
      '--rate',
      '20',
    ]);
    await waitForStderr(run, /streaming; Ctrl-C to stop/);
    await run.firstOutput;
    await waitForStuckOutput();
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await Promise.race([
      run.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 6000)),
    ]);
    expect(result, 'still running 6 s after SIGTERM').toBeDefined();
    expect(result!.at - sentAt).toBeLessThan(3000);
    expect(result!.code).toBe(0);
    const recorded = /recorded\s+([\d,]+) frames/.exec(run.stderr());
    expect(recorded, run.stderr()).not.toBeNull();
    const frames = Number(recorded![1]!.replace(/,/g, ''));
    expect(frames).toBeGreaterThan(0);
    let end: { records: number; truncatedBytes: number; corruptOffset: number | undefined } | undefined;
    for await (const event of readRecording(file)) if (event.type === 'end') end = event;
    expect(end).toEqual({ type: 'end', records: frames, truncatedBytes: 0, corruptOffset: undefined });
  }, 30_000);

  it('cli signals - SIGINT ends replay within 2 s when the stdout reader never reads', async () => {
    // A recording big enough to fill the pipe many times over.
    const file = join(dir, 'big.ktrec');
    const rec = startWithStuckReader([
      'record',
      '--out',
      file,
      '--format',
      'none',
      '-n',
      '3000',
      '--rate',
      '20',
      '--duration',
      '3',
    ]);
    expect((await rec.exited).code).toBe(0);
    const run = startWithStuckReader(['replay', file, '--format', 'ndjson']);
    await run.firstOutput;
    await waitForStuckOutput(1500);
    const sentAt = Date.now();
    run.child.kill('SIGINT');
    const result = await Promise.race([
      run.exited,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 6000)),
    ]);
    expect(result, 'still running 6 s after SIGINT').toBeDefined();
    expect(result!.at - sentAt).toBeLessThan(3000);
    expect(result!.code).toBe(0);
    expect(run.stderr()).toMatch(/stopped: SIGINT/);
  }, 40_000);

  it('record - --out onto a FIFO whose reader never reads is refused at once (exit 2), never hangs', async () => {
    const fifo = join(dir, 'never-read.fifo');
    execFileSync('mkfifo', [fifo]);
    // Opened for reading (so a writer's open would succeed) but never read: the pipe would fill.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const started = Date.now();
      const result = await runCli(
        ['record', '--out', fifo, '--force', '-n', '5000', '--format', 'none', '-d', '20'],
        {},
        15_000,
      );
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--out: ${fifo} is not a regular file`);
      expect(result.stderr).toContain('stream --format ndjson');
      expect(Date.now() - started).toBeLessThan(10_000);
      // /dev/stdout of a piped command is a pipe too.
      const piped = await runCli([
        'record',
        '--out',
        '/dev/stdout',
        '--force',
        '--format',
        'none',
        '-d',
        '20',
      ]);
      expect(piped.code).toBe(2);
      expect(piped.stderr).toContain('--out: /dev/stdout is not a regular file');
    } finally {
      closeSync(reader);
    }
  }, 40_000);
});
