/**
 * Instruments benchmark: `npm run bench:instruments`. Loads a generated 90,000-row list in Kite's CSV
 * format into an `InstrumentStore` and prints one table: load time (median of RUNS), heap and RSS
 * growth of one load kept alive, and look-up rates by token and by symbol. Goals (issue 16): load under
 * 300 ms, O(1) look-ups, under 60 MB. Run with `--expose-gc` for steadier memory figures (the script
 * asks for it through NODE_OPTIONS when it can).
 */
import os from 'node:os';
import { formatInstrumentsCsv } from '../src/instruments/format.js';
import { InstrumentStore } from '../src/instruments/store.js';
import { generateUniverse } from '../src/simulator/universe.js';
import { markdownTable } from './lib/table.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 90_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const LOOKUPS = 1_000_000;

const gc = (globalThis as { gc?: () => void }).gc;
const collect = (): void => {
  gc?.();
  gc?.();
};

const text = formatInstrumentsCsv(generateUniverse(ROWS, 7));
const times: number[] = [];
// CPU time too: on a shared machine wall time mostly measures the other processes.
const cpuTimes: number[] = [];
for (let r = 0; r < RUNS; r++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const s = InstrumentStore.fromString(text, { today: '2026-01-01' });
  const c = process.cpuUsage(c0);
  times.push(performance.now() - t0);
  cpuTimes.push((c.user + c.system) / 1000);
  if (s.size !== ROWS) throw new Error(`loaded ${s.size} rows, expected ${ROWS}`);
}
times.sort((a, b) => a - b);
cpuTimes.sort((a, b) => a - b);

collect();
const before = process.memoryUsage();
let store: InstrumentStore | undefined = InstrumentStore.fromString(text, { today: '2026-01-01' });
collect();
const after = process.memoryUsage();

const all = store.all();
const tokens = all.map((i) => i.instrument_token);
const symbols = all.map((i) => `${i.exchange}:${i.tradingsymbol}`);
let sink = 0;
let t0 = performance.now();
for (let i = 0; i < LOOKUPS; i++) sink += store.byToken(tokens[i % tokens.length]!)!.lot_size;
const byTokenRate = LOOKUPS / ((performance.now() - t0) / 1000);
t0 = performance.now();
for (let i = 0; i < LOOKUPS; i++) sink += store.find(symbols[i % symbols.length]!)!.lot_size;
const bySymbolRate = LOOKUPS / ((performance.now() - t0) / 1000);
t0 = performance.now();
const chainRuns = 10_000;
for (let i = 0; i < chainRuns; i++)
  sink += store.optionChain('NIFTY', { price: 24_000 + (i % 500), strikes: 10 }).tokens.length;
const chainRate = chainRuns / ((performance.now() - t0) / 1000);
store = undefined;

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
const rate = (n: number): string => `${(n / 1e6).toFixed(2)} M/s`;
console.log(
  `# Instruments: ${ROWS.toLocaleString('en-US')} rows, ${mb(text.length)} of CSV; node ${process.version}; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.availableParallelism()} cores${gc ? '' : ' (no --expose-gc: memory figures are noisy)'}\n`,
);
console.log(
  markdownTable(
    ['measure', 'value', 'goal'],
    [
      ['load (parse + index), median', `${times[Math.floor(times.length / 2)]!.toFixed(0)} ms`, '< 300 ms'],
      ['load, best / worst', `${times[0]!.toFixed(0)} / ${times.at(-1)!.toFixed(0)} ms`, ''],
      [
        'load CPU time (user + sys), median',
        `${cpuTimes[Math.floor(cpuTimes.length / 2)]!.toFixed(0)} ms`,
        '',
      ],
      ['heap growth (store kept)', mb(after.heapUsed - before.heapUsed), '< 60 MB'],
      ['RSS growth (store kept)', mb(after.rss - before.rss), ''],
      ['look-up by token', rate(byTokenRate), 'O(1)'],
      ['look-up by EXCHANGE:SYMBOL', rate(bySymbolRate), 'O(1)'],
      ['option chain (NIFTY, 10 each side)', `${(chainRate / 1000).toFixed(1)} k/s`, ''],
    ],
  ),
);
if (sink === -1) console.log(sink);
