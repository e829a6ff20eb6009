/**
 * The official mock packets and instrument CSVs live in the shared folder beside the clone
 * (`../shared/fixtures/kiteconnect-mocks`), not in this repository. On a fresh clone without it the
 * fixture tests skip, saying so in one line; in CI (the `CI` variable set) the folder is always there,
 * so a missing one is a failure, never a silent skip. `KITETICKER_SHARED_DIR` points elsewhere (a
 * worktree, a checkout in another place).
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The shared folder: `KITETICKER_SHARED_DIR` when set, else `../shared` beside the repository. */
export function sharedDir(env: NodeJS.ProcessEnv = process.env, repoRoot: string = REPO_ROOT): string {
  const override = env.KITETICKER_SHARED_DIR?.trim();
  return override ? resolve(override) : resolve(repoRoot, '../shared');
}

/** The official mocks folder inside the shared folder. */
export function mocksDir(env: NodeJS.ProcessEnv = process.env, repoRoot: string = REPO_ROOT): string {
  return resolve(sharedDir(env, repoRoot), 'fixtures/kiteconnect-mocks');
}

/** CI conventions: set and not "false"/"0". */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

export type FixtureDecision = 'run' | 'skip' | 'fail';

/** Present: run. Missing: skip, except in CI, where it fails. */
export function fixtureDecision(present: boolean, env: NodeJS.ProcessEnv = process.env): FixtureDecision {
  if (present) return 'run';
  return isCi(env) ? 'fail' : 'skip';
}

export interface MocksGate {
  /** The mocks folder. */
  dir: string;
  /** Pass to `it.skipIf`. */
  skip: boolean;
}

/**
 * For a test file that needs `required` (a file name inside the mocks folder). Skipping prints one line
 * saying why; in CI a missing file adds a failing test that says where it was looked for.
 */
export function mocksGate(required: string, testFile: string): MocksGate {
  const dir = mocksDir();
  const path = resolve(dir, required);
  const decision = fixtureDecision(existsSync(path));
  const name = relative(REPO_ROOT, fileURLToPath(testFile));
  if (decision === 'skip') {
    console.warn(
      `${name}: skipping the fixture tests: ${path} not found (the shared fixtures are not beside this clone; set KITETICKER_SHARED_DIR to their folder)`,
    );
  } else if (decision === 'fail') {
    it('fixtures - the shared fixtures are present (CI is set)', () => {
      throw new Error(
        `${path} not found: CI must have the shared fixtures beside the clone (or KITETICKER_SHARED_DIR)`,
      );
    });
  }
  return { dir, skip: decision === 'skip' };
}
