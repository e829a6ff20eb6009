/**
 * The stop backstop must end the process even when a thread-pool write is stuck on a FIFO whose
 * reader never reads (process.exit alone would wait on it for ever).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backstopExit } from '../../src/cli/backstop.js';
import { ROOT } from './cli-helpers.js';

const BACKSTOP = fileURLToPath(new URL('../../src/cli/backstop.ts', import.meta.url));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-backstop-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A child that fills a FIFO nobody reads with fs writes, then calls `exit` after 300 ms. */
function runStuckWriter(exitCall: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  const fifo = join(dir, `f${Math.random().toString(36).slice(2)}`);
  execFileSync('mkfifo', [fifo]);
  const script = `
    import fs from 'node:fs';
    import { backstopExit } from ${JSON.stringify(BACKSTOP)};
    void backstopExit;
    fs.openSync(${JSON.stringify(fifo)}, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const s = fs.createWriteStream(${JSON.stringify(fifo)});
    s.on('open', () => { for (let i = 0; i < 8; i++) s.write(Buffer.alloc(65536)); });
    setTimeout(() => { ${exitCall}; }, 300);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    stdio: 'ignore',
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 6000);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

describe('cli stop backstop', () => {
  it('cli backstop - with a pool write stuck on a FIFO it ends the process (SIGKILL) at once', async () => {
    const started = Date.now();
    const result = await runStuckWriter('backstopExit(0)');
    expect(result.signal).toBe('SIGKILL');
    expect(Date.now() - started).toBeLessThan(5000);
  }, 20_000);

  it('cli backstop - with nothing on the thread pool it exits with the code', () => {
    const calls: string[] = [];
    const proc = {
      pid: 42,
      getActiveResourcesInfo: () => ['Timeout', 'TCPWrap'],
      exit: (code: number) => calls.push(`exit ${code}`),
      kill: (pid: number, signal: string) => calls.push(`kill ${pid} ${signal}`),
    };
    backstopExit(3, proc);
    expect(calls).toEqual(['exit 3']);
    backstopExit(0, { ...proc, getActiveResourcesInfo: () => ['FSReqCallback', 'Timeout'] });
    expect(calls).toEqual(['exit 3', 'kill 42 SIGKILL']);
  });
});
