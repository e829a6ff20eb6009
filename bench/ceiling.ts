/**
 * Ceiling on loopback: `npm run bench:ceiling [-- --runs 3 --seconds 2 --packets 100 --tokens 1000]`.
 * The simulator in blast mode (pre-encoded full-mode frames, sent as fast as the socket drains) runs in
 * its own process; each client runs in a fresh process of its own, one at a time, interleaved over the
 * runs: this project's KiteTicker delivering tick objects, its zero-copy 'frame' path, the official
 * kiteconnect client, and a bare `ws` client that only counts packets (the transport floor). Prints one
 * table of median ticks/s and client CPU, with ratios to the floor and to the official client (medians of
 * per-run ratios).
 */
import { Flags } from './lib/args.js';
import { BenchChild } from './lib/child.js';
import { machineLine } from './lib/machine.js';
import { fmtRate, median } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  runs: 'interleaved runs per client (default 3; --quick 1)',
  seconds: 'measuring window per run (default 2; --quick 1)',
  warm: 'warm-up seconds per run before measuring (default 1)',
  packets: 'full packets per blast frame (default 100)',
  tokens: 'instruments subscribed (default 1000)',
  quick: 'short run for `npm run bench`',
  profile: 'write a V8 CPU profile of every client to this directory (node --cpu-prof)',
  only: 'comma-separated client kinds to run (bare,frame,objects,official)',
});
const quick = flags.has('quick');
const RUNS = flags.number('runs', quick ? 1 : 3);
const MEASURE_MS = flags.number('seconds', quick ? 1 : 2) * 1000;
const WARM_MS = flags.number('warm', quick ? 0.5 : 1) * 1000;
const PACKETS = flags.number('packets', 100);
const TOKENS = flags.number('tokens', 1000);
const PROFILE_DIR = flags.has('profile') ? flags.string('profile', 'bench-profiles') : undefined;
const ONLY = flags.has('only') ? flags.string('only', '').split(',') : undefined;

const CLIENTS = [
  { kind: 'bare', label: 'bare `ws`, counting packets (floor)' },
  { kind: 'frame', label: 'KiteTicker `frame` (zero-copy FrameView)' },
  { kind: 'objects', label: 'KiteTicker `ticks` (Tick objects)' },
  { kind: 'official', label: 'official kiteconnect KiteTicker' },
] as const;
type Kind = (typeof CLIENTS)[number]['kind'];

interface Sample {
  rate: number;
  cpu: number;
}

const server = new BenchChild('servers/simulator.ts', [
  JSON.stringify({ blast: { packetsPerFrame: PACKETS }, universeSize: Math.max(TOKENS, 1000) }),
  String(TOKENS),
]);
const samples = new Map<Kind, Sample[]>(CLIENTS.map((c) => [c.kind, []]));
try {
  const ready = (await server.next('ready')) as unknown as { url: string; tokens: number[] };
  for (let r = 0; r < RUNS; r++) {
    for (const { kind } of CLIENTS) {
      if (ONLY && !ONLY.includes(kind)) continue;
      const client = new BenchChild('clients/ceiling.ts', [kind], {
        nodeFlags: PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [],
      });
      client.send({
        type: 'run',
        url: ready.url,
        tokens: ready.tokens,
        warmMs: WARM_MS,
        measureMs: MEASURE_MS,
      });
      const res = (await client.next('result')) as unknown as { ticks: number; ms: number; cpuMs: number };
      await client.stop();
      samples.get(kind)!.push({ rate: res.ticks / (res.ms / 1000), cpu: res.cpuMs / res.ms });
      process.stderr.write(`run ${r + 1}/${RUNS} ${kind}: ${fmtRate(res.ticks / (res.ms / 1000))} ticks/s\n`);
    }
  }
} finally {
  await server.stop();
}

const floor = samples.get('bare')!;
const official = samples.get('official')!;
/** Median over runs of (this client's rate / the other client's rate in the same run). */
const ratio = (a: Sample[], b: Sample[]) => median(a.flatMap((s, r) => (b[r] ? [s.rate / b[r].rate] : [])));

const rows = CLIENTS.filter(({ kind }) => samples.get(kind)!.length > 0).map(({ kind, label }) => {
  const s = samples.get(kind)!;
  const rate = median(s.map((x) => x.rate));
  const cpu = median(s.map((x) => x.cpu));
  return [
    label,
    fmtRate(rate),
    `${(cpu * 100).toFixed(0)} %`,
    fmtRate(rate / Math.max(cpu, 1e-9)),
    `${(ratio(s, floor) * 100).toFixed(0)} %`,
    kind === 'official' ? '1x' : `${ratio(s, official).toFixed(0)}x`,
  ];
});

console.log(
  `${machineLine()}\nSimulator in blast mode (${PACKETS} full packets per frame, ${TOKENS} instruments) in its own process; each client in its own process. Median of ${RUNS} interleaved runs of ${MEASURE_MS / 1000} s (after ${WARM_MS / 1000} s warm-up); ratios are medians of per-run ratios.\n`,
);
console.log(
  markdownTable(
    ['client', 'ticks/s', 'client CPU (of one core)', 'ticks per CPU-second', 'vs floor', 'vs official'],
    rows,
  ),
);
