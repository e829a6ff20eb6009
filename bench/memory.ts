/**
 * Memory over time: `npm run bench:memory [-- --seconds 60 --sample 5]`. The realistic load (27 000
 * full-mode instruments, 1 tick/s, 3 keys x 3 connections, MultiApiKiteTickerManager) for a longer run,
 * with two consumers at once: the 'ticks' event (fast) and a unified channel read slowly (one message
 * per --slow-every ms from a --slow-capacity buffer, far below the ~90 frames/s arriving). Samples RSS
 * and heap (after a full GC, so the heap figure is live memory) every --sample seconds and prints them
 * with least-squares slopes: no growth means slopes near zero; the slow channel must stay at its
 * capacity while its drops grow.
 */
import { Flags } from './lib/args.js';
import { runLoad } from './lib/load-run.js';
import { machineLine } from './lib/machine.js';
import { fmtMB, fmtPct, median, slope } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  seconds: 'measured seconds (default 60; --quick 12)',
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
const SECONDS = flags.number('seconds', quick ? 12 : 60);
const WINDOWS = Math.max(2, Math.round((SECONDS * 1000) / SAMPLE_MS));
const WARM_MS = flags.number('warm', quick ? 3 : 5) * 1000;
const INSTRUMENTS = flags.number('instruments', 27_000);
const RATE = flags.number('rate', 1);
const SLOW_CAPACITY = flags.number('slow-capacity', 128);
const SLOW_EVERY = flags.number('slow-every', 50);

const summary = await runLoad({
  client: 'manager',
  rate: RATE,
  instruments: INSTRUMENTS,
  keys: 3,
  connsPerKey: 3,
  warmMs: WARM_MS,
  windowMs: SAMPLE_MS,
  windows: WINDOWS,
  gc: true,
  slow: { capacity: SLOW_CAPACITY, readEveryMs: SLOW_EVERY },
  nodeFlags: ['--expose-gc'],
  onWindow: (w, i) => process.stderr.write(`sample ${i + 1}/${WINDOWS}: rss ${fmtMB(w.rss)} MB\n`),
});

const w = summary.windows;
const t0 = w[0]!.atMs;
const minutes = w.map((x) => (x.atMs - t0) / 60_000);
const rows = w.map((x, i) => [
  `${((x.atMs - t0) / 1000 + SAMPLE_MS / 1000).toFixed(0)}`,
  fmtMB(x.rss),
  fmtMB(x.heapUsed),
  fmtMB(x.external),
  fmtPct(x.cpuMs / x.ms),
  String(x.channelSize),
  String(x.drops),
  i === 0 ? '' : String(x.drops - w[i - 1]!.drops),
]);
const mbPerMin = (ys: number[]) => slope(minutes, ys) / 1e6;

console.log(
  `${machineLine()}\n${INSTRUMENTS} full-mode instruments at ${RATE} tick/s through MultiApiKiteTickerManager (3 keys x 3 connections); consumers: the 'ticks' event plus a unified channel (capacity ${SLOW_CAPACITY}, drop-oldest) read once every ${SLOW_EVERY} ms. A sample every ${SAMPLE_MS / 1000} s over ${(WINDOWS * SAMPLE_MS) / 1000} s after ${WARM_MS / 1000} s warm-up; heap measured after a full GC.\n`,
);
console.log(
  markdownTable(
    [
      't (s)',
      'RSS (MB)',
      'heap used (MB)',
      'external + buffers (MB)',
      'CPU',
      'slow channel size',
      'drops (total)',
      'drops (in sample)',
    ],
    rows,
  ),
);
console.log(
  `\nSlopes (least squares over the samples): RSS ${mbPerMin(w.map((x) => x.rss)).toFixed(2)} MB/min, heap ${mbPerMin(w.map((x) => x.heapUsed)).toFixed(2)} MB/min, external ${mbPerMin(w.map((x) => x.external)).toFixed(2)} MB/min; median CPU ${fmtPct(median(w.map((x) => x.cpuMs / x.ms)))}; slow channel drops ${summary.drops} (${(summary.drops / Math.max(1, (w.at(-1)!.atMs - t0) / 1000 + SAMPLE_MS / 1000)).toFixed(0)}/s).`,
);
