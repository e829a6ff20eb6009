/**
 * `npm run soak -- --minutes N`: the long chaos soak (27,000 instruments on 3 keys by default).
 *   tsx test/soak/run.ts [--minutes N] [--instruments N] [--keys N] [--seed S] [--fault-interval MS]
 *                        [--quiet] [--json FILE]
 * Prints progress, then the report table; exits 1 if any invariant was violated.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runSoak } from './harness.js';
import { formatReport } from './report.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    instruments: { type: 'string', default: '27000' },
    keys: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
    'fault-interval': { type: 'string', default: '3000' },
    quiet: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const minutes = Number(values.minutes);
const instruments = Number(values.instruments);
const keys = Number(values.keys);
const seed = Number(values.seed);
const meanFaultIntervalMs = Number(values['fault-interval']);
for (const [name, v] of Object.entries({ minutes, instruments, keys, seed, meanFaultIntervalMs })) {
  if (!Number.isFinite(v) || v <= 0) {
    process.stderr.write(`--${name} must be a positive number\n`);
    process.exit(2);
  }
}

const report = await runSoak({
  durationMs: minutes * 60_000,
  instruments,
  keys,
  seed,
  meanFaultIntervalMs,
  onProgress: values.quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
});
const command = `npm run soak -- --minutes ${minutes} --instruments ${instruments} --seed ${seed}`;
process.stdout.write(`\n${formatReport(report, command)}\n`);
if (values.json) writeFileSync(values.json, JSON.stringify({ ...report, finalStats: undefined }, null, 2));
const violations = Object.values(report.violationsByKind).reduce((n, c) => n + (c ?? 0), 0);
process.exitCode = violations === 0 ? 0 : 1;
