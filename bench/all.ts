/**
 * `npm run bench`: every benchmark of this directory in its short (--quick) form, one after the other,
 * each printing its table (a few minutes in total). The full forms are the individual bench:* scripts.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const scripts: [string, string[]][] = [
  ['bench/decode.ts', []],
  ['bench/ceiling.ts', ['--quick']],
  ['bench/load.ts', ['--quick']],
  ['bench/scale.ts', ['--quick']],
  ['bench/memory.ts', ['--quick']],
  ['bench/relay.ts', ['--quick']],
];
let failed = 0;
for (const [script, args] of scripts) {
  console.log(`\n## ${script} ${args.join(' ')}\n`);
  const env =
    script === 'bench/decode.ts'
      ? { ...process.env, BENCH_RUNS: process.env.BENCH_RUNS ?? '3' }
      : process.env;
  const result = spawnSync(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    stdio: 'inherit',
    env,
  });
  if (result.status !== 0) failed++;
}
process.exitCode = failed > 0 ? 1 : 0;
