/**
 * The package works from CommonJS: test/fixtures/cjs-consumer.cjs `require`s the package and its
 * subpaths in a child process (Node >= 20.19 loads ES modules through require when every `exports`
 * entry has a `default` condition). It needs the built dist/ (`npm run build`; `npm ci` runs it through
 * `prepare`). Without dist/ the test skips with a printed reason, except in CI, where it fails.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isCi } from '../helpers/fixtures.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER = fileURLToPath(new URL('../fixtures/cjs-consumer.cjs', import.meta.url));
const built = [
  'index.js',
  'protocol-public.js',
  'compat/index.js',
  'simulator/index.js',
  'sinks/index.js',
  'relay/index.js',
].every((f) => existsSync(fileURLToPath(new URL(`../../dist/${f}`, import.meta.url))));
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const requireEsm = major > 20 || (major === 20 && minor >= 19);

if (!built && !isCi()) {
  console.warn('test/integration/cjs-consumer.test.ts: skipping: dist/ is not built (run `npm run build`)');
}

describe('cjs consumer', () => {
  it('cjs - Node is recent enough to require ES modules (>= 20.19)', () => {
    expect(requireEsm, process.versions.node).toBe(true);
  });

  it.skipIf(!built && !isCi())('cjs - require() of the package and its subpaths works', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [CONSUMER], {
      cwd: ROOT,
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual({
      main: ['KiteTicker', 'KiteTickerManager', 'MultiApiKiteTickerManager', 'decodeFrame'],
      compat: 'function',
      protocol: 'function',
      rootHasNoEncoder: true,
      modeFull: 'full',
      decoded: 123.45,
      simulator: 'function',
      nats: 'function',
      relay: 'function',
      tokenHidden: true,
    });
  });
});
