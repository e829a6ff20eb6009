/**
 * Scale: `npm run bench:scale [-- --rates 1,5,20 --windows 3 --seconds 3]`. The realistic load of
 * bench:load (27 000 full-mode instruments, 3 keys x 3 connections, MultiApiKiteTickerManager) at 1x, 5x
 * and 20x Kite's pace, beside bare `ws` sockets at the same rate (the floor), to show how client CPU and
 * latency grow and where something saturates (the simulator's CPU is printed too: it is a separate,
 * single-threaded process and can become the limit first).
 */
import { Flags } from './lib/args.js';
import { runLoad } from './lib/load-run.js';
import { machineLine } from './lib/machine.js';
import { fmtMB, fmtMs, fmtPct, fmtRate } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  rates: 'ticks per second per instrument, comma-separated (default 1,5,20)',
  windows: 'measuring windows per point (default 3; --quick 1)',
  seconds: 'seconds per window (default 3; --quick 2)',
  warm: 'warm-up seconds (default 3; --quick 2)',
  instruments: 'instruments (default 27000)',
  quick: 'short run for `npm run bench`',
});
const quick = flags.has('quick');
const RATES = flags.numbers('rates', [1, 5, 20]);
const WINDOWS = flags.number('windows', quick ? 1 : 3);
const WINDOW_MS = flags.number('seconds', quick ? 2 : 3) * 1000;
const WARM_MS = flags.number('warm', quick ? 2 : 3) * 1000;
const INSTRUMENTS = flags.number('instruments', 27_000);

const rows: string[][] = [];
for (const rate of RATES) {
  const common = {
    rate,
    instruments: INSTRUMENTS,
    keys: 3,
    connsPerKey: 3,
    warmMs: WARM_MS,
    windowMs: WINDOW_MS,
    windows: WINDOWS,
  };
  const floor = await runLoad({ ...common, client: 'bare' });
  const m = await runLoad({ ...common, client: 'manager' });
  process.stderr.write(
    `${rate}x: manager cpu ${fmtPct(m.cpu)}, p99 ${fmtMs(m.p99)} ms; floor cpu ${fmtPct(floor.cpu)}\n`,
  );
  rows.push([
    `${rate}x`,
    fmtRate(m.offeredRate),
    fmtRate(m.deliveredRate),
    fmtPct(m.cpu),
    fmtMs(m.p50),
    fmtMs(m.p99),
    fmtMs(m.max),
    fmtMB(m.peakRss),
    fmtRate(floor.deliveredRate),
    fmtPct(floor.cpu),
    fmtMs(floor.p99),
    fmtPct(m.simCpu),
  ]);
}

console.log(
  `${machineLine()}\n${INSTRUMENTS} full-mode instruments, 3 keys x 3 connections, MultiApiKiteTickerManager ('ticks' event) vs bare \`ws\` sockets (floor) at the same rate, each in its own process; simulator in its own process. Medians of ${WINDOWS} window(s) of ${WINDOW_MS / 1000} s after ${WARM_MS / 1000} s warm-up; latency = simulator send -> callback.\n`,
);
console.log(
  markdownTable(
    [
      'rate',
      'offered ticks/s',
      'delivered ticks/s',
      'client CPU',
      'p50 (ms)',
      'p99 (ms)',
      'max (ms)',
      'peak RSS (MB)',
      'floor delivered',
      'floor CPU',
      'floor p99 (ms)',
      'simulator CPU',
    ],
    rows,
  ),
);
