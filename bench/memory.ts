/**
 * Memory over time: `npm run bench:memory [-- --seconds 40 --sample 5]`. The realistic load (27 000
 * full-mode instruments, 1 tick/s, 3 keys x 3 connections, MultiApiKiteTickerManager) for a longer run,
 * twice, one after the other:
 *   A  the 'ticks' event only (a consumer that keeps up);
 *   B  the same plus a unified channel read slowly (one message per --slow-every ms from a
 *      --slow-capacity buffer, far below the ~90 frames/s arriving): it must stay at its capacity while
 *      its drops are counted.
 * Samples RSS and heap (after a full GC, so the heap figure is live memory) every --sample seconds and
 * prints them side by side with least-squares slopes: no growth means heap slopes near zero.
 */
import { Flags } from './lib/args.js';
import { type LoadScenario, type LoadSummary, runLoad } from './lib/load-run.js';
import { machineLine } from './lib/machine.js';
import { fmtMB, fmtPct, median, slope } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  seconds: 'measured seconds per scenario (default 40; --quick 9)',
  sample: 'seconds between samples (default 5; --quick 3)',
  warm: 'warm-up seconds (default 5; --quick 3)',
  instruments: 'instruments (default 27000)',
  rate: 'ticks per second per instrument (default 1)',
  'slow-capacity': 'slow channel capacity in messages, one per frame of ~300 full ticks (default 128)',
  'slow-every': 'the slow consumer reads one message every this many ms (default 50)',
  quick: 'short run for `npm run bench`',
});
const quick = flags.has('quick');
const SAMPLE_MS = flags.number('sample', quick ? 3 : 5) * 1000;
const SECONDS = flags.number('seconds', quick ? 9 : 40);
const WINDOWS = Math.max(2, Math.round((SECONDS * 1000) / SAMPLE_MS));
const WARM_MS = flags.number('warm', quick ? 3 : 5) * 1000;
const INSTRUMENTS = flags.number('instruments', 27_000);
const RATE = flags.number('rate', 1);
const SLOW_CAPACITY = flags.number('slow-capacity', 128);
const SLOW_EVERY = flags.number('slow-every', 50);

const base: LoadScenario = {
  client: 'manager',
  rate: RATE,
  instruments: INSTRUMENTS,
  keys: 3,
  connsPerKey: 3,
  warmMs: WARM_MS,
  windowMs: SAMPLE_MS,
  windows: WINDOWS,
  gc: true,
  nodeFlags: ['--expose-gc'],
};
const progress = (name: string) => (w: { rss: number }, i: number) =>
  process.stderr.write(`${name} sample ${i + 1}/${WINDOWS}: rss ${fmtMB(w.rss)} MB\n`);
const a = await runLoad({ ...base, onWindow: progress('A') });
const b = await runLoad({
  ...base,
  slow: { capacity: SLOW_CAPACITY, readEveryMs: SLOW_EVERY },
  onWindow: progress('B'),
});

/**
 * Least-squares slope in MB/min over every sample but the first: the first still holds the fill-up
 * (the slow channel reaching its capacity, V8 sizing its heap), which is growth of a different kind.
 */
const mbPerMin = (s: LoadSummary, pick: (w: LoadSummary['windows'][number]) => number) => {
  const w = s.windows.length > 2 ? s.windows.slice(1) : s.windows;
  return (
    slope(
      w.map((x) => x.atMs / 60_000),
      w.map(pick),
    ) / 1e6
  ).toFixed(2);
};

const rows = a.windows.map((wa, i) => {
  const wb = b.windows[i]!;
  return [
    `${(((i + 1) * SAMPLE_MS) / 1000).toFixed(0)}`,
    fmtMB(wa.rss),
    fmtMB(wa.heapUsed),
    fmtPct(wa.cpuMs / wa.ms),
    fmtMB(wb.rss),
    fmtMB(wb.heapUsed),
    fmtPct(wb.cpuMs / wb.ms),
    String(wb.channelSize),
    String(wb.drops),
  ];
});
rows.push([
  '**slope (MB/min)**',
  mbPerMin(a, (w) => w.rss),
  mbPerMin(a, (w) => w.heapUsed),
  fmtPct(median(a.windows.map((w) => w.cpuMs / w.ms))),
  mbPerMin(b, (w) => w.rss),
  mbPerMin(b, (w) => w.heapUsed),
  fmtPct(median(b.windows.map((w) => w.cpuMs / w.ms))),
  '',
  `${(b.drops / ((WINDOWS * SAMPLE_MS) / 1000 + WARM_MS / 1000)).toFixed(0)}/s`,
]);

console.log(
  `${machineLine()}\n${INSTRUMENTS} full-mode instruments at ${RATE} tick/s through MultiApiKiteTickerManager (3 keys x 3 connections), each scenario in a fresh client process. A: the 'ticks' event only. B: the same plus a unified channel (capacity ${SLOW_CAPACITY} messages, drop-oldest) read once every ${SLOW_EVERY} ms. A sample every ${SAMPLE_MS / 1000} s over ${(WINDOWS * SAMPLE_MS) / 1000} s after ${WARM_MS / 1000} s warm-up; heap measured after a full GC (live memory); last row: least-squares slopes from the second sample on, and median CPU.\n`,
);
console.log(
  markdownTable(
    [
      't (s)',
      'A RSS (MB)',
      'A heap (MB)',
      'A CPU',
      'B RSS (MB)',
      'B heap (MB)',
      'B CPU',
      'B channel size',
      'B drops',
    ],
    rows,
  ),
);
