/**
 * Realistic load: `npm run bench:load [-- --windows 5 --seconds 4 --rate 1]`. 27 000 instruments in full
 * mode over 3 API keys x 3 connections through MultiApiKiteTickerManager, at Kite's pace of one tick per
 * instrument per second; the simulator in its own process stamps each frame's send time. Measures client
 * CPU, send-to-callback latency (p50/p99 per window, medians over windows; max over all) and RSS, beside
 * the same 9 sockets read by bare `ws` clients (the transport floor) in the same run.
 *
 * Each client runs twice: with the simulator's connections staggered over its 100 ms interval (as
 * independent Kite sockets arrive) and with every connection's frame in the same instant (a burst of
 * nine frames, the worst case for latency). `--stagger spread|none` runs one of the two.
 */
import { Flags } from './lib/args.js';
import { type LoadSummary, runLoad } from './lib/load-run.js';
import { machineLine } from './lib/machine.js';
import { fmtMB, fmtMs, fmtPct, fmtRate } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  windows: 'measuring windows per client (default 5; --quick 2)',
  seconds: 'seconds per window (default 4; --quick 2)',
  warm: 'warm-up seconds before measuring (default 3; --quick 2)',
  rate: 'ticks per second per instrument (default 1)',
  instruments: 'instruments (default 27000)',
  profile: 'write a V8 CPU profile of the manager client to this directory',
  quick: 'short run for `npm run bench`',
  stagger: "simulator schedule: 'spread', 'none' or 'both' (default both)",
});
const quick = flags.has('quick');
const WINDOWS = flags.number('windows', quick ? 2 : 5);
const WINDOW_MS = flags.number('seconds', quick ? 2 : 4) * 1000;
const WARM_MS = flags.number('warm', quick ? 2 : 3) * 1000;
const RATE = flags.number('rate', 1);
const INSTRUMENTS = flags.number('instruments', 27_000);
const PROFILE_DIR = flags.has('profile') ? flags.string('profile', 'bench-profiles') : undefined;
const STAGGER = flags.string('stagger', 'both');
const STAGGERS: readonly ('spread' | 'none')[] =
  STAGGER === 'both' ? ['spread', 'none'] : STAGGER === 'spread' || STAGGER === 'none' ? [STAGGER] : [];
if (STAGGERS.length === 0) throw new Error(`--stagger must be spread, none or both, got ${STAGGER}`);
const STAGGER_LABEL = { spread: 'staggered', none: 'same instant' } as const;

const common = {
  rate: RATE,
  instruments: INSTRUMENTS,
  keys: 3,
  connsPerKey: 3,
  warmMs: WARM_MS,
  windowMs: WINDOW_MS,
  windows: WINDOWS,
};
const results: [string, string, LoadSummary][] = [];
// Both schedules of a client run back to back, so a change in the machine's load between runs shows
// up in one pair rather than in every row of one schedule.
for (const [label, client] of [
  ['bare `ws`, 9 sockets (floor)', 'bare'],
  ['MultiApiKiteTickerManager, `ticks` event', 'manager'],
  ['same, keeping the quote table (`latestQuotes(true)`)', 'manager-quotes'],
] as const) {
  for (const stagger of STAGGERS) {
    const nodeFlags =
      PROFILE_DIR && client === 'manager' && stagger === STAGGERS[0]
        ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]
        : [];
    const summary = await runLoad({ ...common, client, nodeFlags, stagger });
    process.stderr.write(
      `${label} (${STAGGER_LABEL[stagger]}): cpu ${fmtPct(summary.cpu)}, p99 ${fmtMs(summary.p99)} ms\n`,
    );
    results.push([label, STAGGER_LABEL[stagger], summary]);
  }
}

console.log(
  `${machineLine()}\n${INSTRUMENTS} instruments, full mode, ${RATE} tick/s each (${fmtRate(INSTRUMENTS * RATE)} ticks/s offered), 3 keys x 3 connections; simulator in its own process (frames every 100 ms per connection; "staggered": each connection at its own offset in the 100 ms, "same instant": all nine at once). Medians of ${WINDOWS} windows of ${WINDOW_MS / 1000} s after ${WARM_MS / 1000} s warm-up; max over all windows; latency = simulator send -> consumer callback.\n`,
);
console.log(
  markdownTable(
    [
      'client',
      'simulator sends',
      'ticks/s delivered',
      'client CPU (of one core)',
      'p50 (ms)',
      'p99 (ms)',
      'max (ms)',
      'peak RSS (MB)',
      'simulator CPU',
    ],
    results.map(([label, schedule, r]) => [
      label,
      schedule,
      fmtRate(r.deliveredRate),
      fmtPct(r.cpu),
      fmtMs(r.p50),
      fmtMs(r.p99),
      fmtMs(r.max),
      fmtMB(r.peakRss),
      fmtPct(r.simCpu),
    ]),
  ),
);
