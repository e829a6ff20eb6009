/**
 * `npm run cycles` (madge, configured by .madgerc, run by `npm test`) fails on an import cycle in src/.
 * These tests hold that the configuration really sees cycles in this code base's style: TypeScript
 * files imported with ESM `.js` suffixes, type-only imports included.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface MadgeResult {
  circular(): string[][];
}
type Madge = (path: string, config: Record<string, unknown>) => Promise<MadgeResult>;
const madge = createRequire(import.meta.url)('madge') as Madge;

/** .madgerc, with paths made absolute so the result does not depend on the working directory. */
function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const rc = JSON.parse(readFileSync(`${ROOT}.madgerc`, 'utf8')) as Record<string, unknown>;
  return { ...rc, tsConfig: `${ROOT}${String(rc.tsConfig)}`, baseDir: undefined, ...extra };
}

/** The `--exclude` of the `cycles` script: the known exceptions, removable in that one line. */
function scriptExclusions(): RegExp[] {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
  const script = pkg.scripts.cycles ?? '';
  expect(script).toMatch(/^madge --circular\b.* src$/);
  return [...script.matchAll(/--exclude '([^']+)'/g)].map((m) => new RegExp(m[1]!));
}

describe('import cycles', () => {
  it('cycles - the madge configuration finds a cycle made of a type-only and a .js-suffixed import', async () => {
    const result = await madge(`${ROOT}test/fixtures/cycles`, config());
    expect(result.circular()).toEqual([['a.ts', 'b.ts']]);
  });

  it('cycles - src/ has no import cycle besides the exceptions listed in the cycles script', async () => {
    const result = await madge(`${ROOT}src`, config({ excludeRegExp: scriptExclusions() }));
    expect(result.circular()).toEqual([]);
  });
});
