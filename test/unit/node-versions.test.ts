/**
 * What the README promises per Node version, checked on whichever Node runs the suite (CI runs it on
 * 20, 22 and 24). The source strings below are compiled by V8 at run time through the AsyncFunction
 * constructor, so no transpiler (tsx, vitest) can lower `await using` on the way.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { fakeFactory } from './multi-fake-pool.js';

const major = Number(process.versions.node.split('.')[0]);
const AsyncFunction = (async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;
const USING = '{ await using scoped = manager; await scoped.start(); }';

function build() {
  const { factory, pools } = fakeFactory();
  const manager = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'k1', 'secret-token-1')
    .managerFactory(factory)
    .build();
  return { manager, pools };
}

describe('node versions', () => {
  it.runIf(major >= 24)(
    'node - plain-JS `await using` stops a MultiApiKiteTickerManager at the end of the scope (Node 24+)',
    async () => {
      const { manager, pools } = build();
      await new AsyncFunction('manager', USING)(manager);
      expect([...pools.values()].map((p) => p.stopped)).toEqual([true]);
      await expect(manager.start()).rejects.toMatchObject({ code: ErrorCode.Closed });
    },
  );

  it.runIf(major < 24)(
    'node - before Node 24 `await using` needs a transpiler (TypeScript, tsx): plain JS does not parse',
    async () => {
      const { manager } = build();
      expect(() => new AsyncFunction('manager', USING)).toThrow(SyntaxError);
      // The dispose symbol itself exists, so transpiled `await using` works on 20 and 22.
      expect(typeof Symbol.asyncDispose).toBe('symbol');
      expect(typeof manager[Symbol.asyncDispose]).toBe('function');
      await manager.stop();
    },
  );
});
