/**
 * The alert rules in deploy/prometheus/ are valid (`promtool check rules`), do what their unit tests say
 * (`promtool test rules`: each alert fires when it should and stays quiet when it should not), and name
 * only metrics this program exports. promtool comes with Debian's `prometheus` package, which .ci/run
 * installs: without it these tests skip with a printed reason, except in CI, where they fail.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../src/sinks/prometheus/exposition.js';
import { fixtureDecision, REPO_ROOT } from '../helpers/fixtures.js';

const run = promisify(execFile);
const RULES = join(REPO_ROOT, 'deploy/prometheus/kiteticker-rules.yml');
const RULE_TESTS = join(REPO_ROOT, 'deploy/prometheus/kiteticker-rules.test.yml');

async function findPromtool(): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v promtool']);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

const promtool = await findPromtool();
const decision = fixtureDecision(promtool !== undefined);
if (decision === 'skip') {
  console.warn(
    'prometheus-rules: skipping promtool check/test rules: promtool not found (apt-get install prometheus)',
  );
}

/** Runs promtool; a non-zero exit fails with its whole output. */
async function promtoolRun(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(promtool!, args, { cwd: REPO_ROOT, timeout: 60_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}${e.message}`);
  }
}

describe('prometheus rules', () => {
  if (decision === 'fail') {
    it('prometheus rules - promtool is installed (CI is set)', () => {
      throw new Error('promtool not found: .ci/run installs the Debian prometheus package, which ships it');
    });
  }

  it.skipIf(decision !== 'run')(
    'prometheus rules - promtool check rules accepts the rules file',
    async () => {
      const out = await promtoolRun(['check', 'rules', RULES]);
      expect(out).toMatch(/SUCCESS: \d+ rules found/);
    },
  );

  it.skipIf(decision !== 'run')(
    'prometheus rules - promtool test rules: each alert fires and holds back as its tests say',
    async () => {
      const out = await promtoolRun(['test', 'rules', RULE_TESTS]);
      expect(out).toMatch(/SUCCESS/);
      expect(out).not.toMatch(/FAILED/);
    },
  );

  it('prometheus rules - every alert has a unit test and names only metrics kiteticker exports', () => {
    const rules = readFileSync(RULES, 'utf8');
    const tests = readFileSync(RULE_TESTS, 'utf8');
    const alerts = [...rules.matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1]!);
    expect(alerts.length).toBeGreaterThanOrEqual(6);
    for (const alert of alerts) expect(tests, alert).toMatch(new RegExp(`alertname: ${alert}$`, 'm'));

    // Every family the exposition can render (no keys: the families still print HELP and TYPE).
    const exposition = renderPrometheus(
      { at: 0, uptimeMs: 0, apiKeys: [] },
      { recordDrops: 0 },
      { ready: true, reason: '', unplaced: 0, authFailed: [] },
    );
    const exported = new Set([...exposition.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!));
    expect(exported.has('kiteticker_last_frame_age_seconds')).toBe(true);
    const exprs = [...rules.matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]!).join('\n');
    const used = new Set(exprs.match(/\bkiteticker_\w+/g) ?? []);
    expect(used.size).toBeGreaterThanOrEqual(5);
    for (const name of used) {
      if (!exported.has(name)) {
        throw new Error(`the rules use ${name}, which kiteticker does not export`);
      }
    }
  });
});
