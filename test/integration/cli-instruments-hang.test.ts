/**
 * An instruments server that accepts and never answers: the CLI says at once that it is downloading,
 * and SIGTERM ends the wait cleanly instead of a silent 60 s (or a bare exit 143).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, startCli } from './cli-helpers.js';

let dir: string;
let server: Server;
let apiUrl: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-instr-hang-'));
  // Takes the request and never answers it.
  server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => killAll());
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

const creds = (home: string) => ({
  KITE_API_KEY: 'k1',
  KITE_ACCESS_TOKEN: 'hang-SECRET-token-1',
  XDG_CACHE_HOME: join(dir, home),
});

describe('cli instruments download that hangs', () => {
  it('stream - a hanging instruments server is announced at once and SIGTERM stops it cleanly (exit 0)', async () => {
    const run = startCli(
      [
        'stream',
        'NSE:INFY',
        '--url',
        'ws://127.0.0.1:1',
        '--api-url',
        apiUrl,
        '-d',
        '30',
        '--format',
        'none',
      ],
      creds('s'),
      20_000,
    );
    await run.waitFor(
      'stderr',
      /downloading the instruments list from http:\/\/127\.0\.0\.1:\d+\S* \(gives up after 60 s/,
      8000,
    );
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stopped \(SIGTERM\) while resolving instruments/);
    expect(result.stderr).not.toContain('SECRET');
  }, 30_000);

  it('instruments - a hanging server is announced at once and SIGTERM ends the download with a message', async () => {
    const run = startCli(
      ['instruments', '--api-url', apiUrl, '--cache-dir', join(dir, 'i')],
      creds('i'),
      20_000,
    );
    await run.waitFor('stderr', /downloading the instruments list from http:\/\/127\.0\.0\.1/, 8000);
    const sentAt = Date.now();
    run.child.kill('SIGTERM');
    const result = await run.done;
    expect(Date.now() - sentAt).toBeLessThan(3000);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/stopped \(SIGTERM\); the download was abandoned, the cache is unchanged/);
  }, 30_000);
});
