/**
 * The builder is a thin fluent face over the options: nothing it imports, directly or not, leads back
 * to the manager (the runtime cycle builder <-> manager is gone). Walks the real import graph with
 * TypeScript's own pre-processor (imports only, type-only ones included).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/** Every src file reachable from `entry` through relative imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = join(dirname(file), fileName.replace(/\.js$/, '.ts'));
      if (existsSync(target)) stack.push(target);
    }
  }
  return seen;
}

describe('manager import graph', () => {
  it('manager - the builder never imports the manager, even indirectly (no builder<->manager cycle)', () => {
    const fromBuilder = [...reachable(join(SRC, 'manager/builder.ts'))].map((f) => relative(SRC, f));
    expect(fromBuilder).not.toContain('manager/manager.ts');
    expect(fromBuilder).not.toContain('manager/single.ts');
    // And the manager does import the builder (build() lives beside the manager), so the walk is real.
    expect([...reachable(join(SRC, 'manager/manager.ts'))].map((f) => relative(SRC, f))).toContain(
      'manager/builder.ts',
    );
  });

  it('manager - the pool knows nothing of the manager; of delivery it uses only listener wiring', () => {
    const fromPool = [...reachable(join(SRC, 'pool/pool.ts'))].map((f) => relative(SRC, f));
    expect(fromPool.filter((f) => f.startsWith('manager/'))).toEqual([]);
    const direct = ts
      .preProcessFile(readFileSync(join(SRC, 'pool/pool.ts'), 'utf8'), true, true)
      .importedFiles.map((f) => f.fileName)
      .filter((name) => name.startsWith('../delivery/'));
    expect(direct).toEqual(['../delivery/listeners.js']);
  });
});
