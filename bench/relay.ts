/**
 * The relay at scale: `npm run bench:relay [-- --clients 200 --per-client 500]` (or `--clients 1
 * --per-client 27000`: one socket holding the whole market). The simulator (Kite's pace, send stamps),
 * the relay (KiteRelay over 3 simulator keys) and the relay's clients (bare `ws` sockets, full mode)
 * each run in their own process, so the relay's CPU is the relay's alone. Client i subscribes
 * `--per-client` consecutive instruments of a `--instruments` universe starting at i * universe /
 * clients (bench/lib/relay-plan.ts), so the clients overlap and the upstream holds their union.
 *
 * Beside it, in the same run and against the same simulator setup, two baselines over the union:
 *   - bare `ws` reading the simulator directly (3 keys x 3 sockets): the latency floor; the relay's
 *     added latency is its clients' p50/p99 minus this one's;
 *   - MultiApiKiteTickerManager receiving it (the `ticks` event): the cost of receiving a tick, which
 *     the relay's CPU per delivered tick is compared with (goal: within 3x).
 * Memory per client: the relay process's heap, external buffers and RSS (after a full GC) with the
 * clients connected, then with `--probe` more clients subscribing instruments the upstream already
 * holds (so the upstream does not change): the difference divided by the probe's size.
 */

import os from 'node:os';
import type { RelayWindow } from './clients/relay.js';
import { Flags } from './lib/args.js';
import { BenchChild } from './lib/child.js';
import { runLoad } from './lib/load-run.js';
import { machineLine } from './lib/machine.js';
import { benchClients, planClients, unionOf } from './lib/relay-plan.js';
import { fmtMB, fmtMs, fmtPct, fmtRate, median } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  clients: 'relay clients (default 100; --quick 20)',
  'per-client': 'instruments per client (default 500)',
  instruments: 'universe the clients draw from (default 27000; --quick 9000)',
  keys: 'upstream API keys (default 3)',
  windows: 'measuring windows (default 5; --quick 2)',
  seconds: 'seconds per window (default 4; --quick 2)',
  warm: 'warm-up seconds after connecting (default 3; --quick 2)',
  rate: 'ticks per second per instrument (default 1: Kite pace)',
  probe: 'extra clients for the memory-per-client probe (default min(clients, 50))',
  storm: 'clients connecting at the same moment in the accept storm (default 1000; --quick 200)',
  quick: 'short run for `npm run bench`',
  profile: 'write a V8 CPU profile of the relay process (scale run) to this directory',
});
const quick = flags.has('quick');
const CLIENTS = flags.number('clients', quick ? 20 : 100);
const PER_CLIENT = flags.number('per-client', 500);
const UNIVERSE = flags.number('instruments', quick ? 9000 : 27_000);
const KEYS = flags.number('keys', 3);
const WINDOWS = flags.number('windows', quick ? 2 : 5);
const WINDOW_MS = flags.number('seconds', quick ? 2 : 4) * 1000;
const WARM_MS = flags.number('warm', quick ? 2 : 3) * 1000;
const RATE = flags.number('rate', 1);
const PROBE = flags.number('probe', Math.min(CLIENTS, 50));
const STORM = flags.number('storm', quick ? 200 : 1000);
const PROFILE_DIR = flags.has('profile') ? flags.string('profile', 'bench-profiles') : undefined;
const SIM_OPTIONS = {
  ticksPerSecond: RATE,
  stampSendTime: true,
  stagger: 'spread',
  universeSize: Math.max(30_000, UNIVERSE),
};

interface Summary {
  rate: number;
  cpu: number;
  usPerTick: number;
  p50: number;
  p99: number;
  max: number;
}

/** The direct path over the same instruments: bare `ws` (latency floor) or the manager (receive cost). */
async function baseline(client: 'bare' | 'manager', instruments: number): Promise<Summary> {
  const s = await runLoad({
    client,
    rate: RATE,
    instruments,
    keys: KEYS,
    connsPerKey: 3,
    warmMs: WARM_MS,
    windowMs: WINDOW_MS,
    windows: WINDOWS,
  });
  return {
    rate: s.deliveredRate,
    cpu: s.cpu,
    usPerTick: median(s.windows.map((w) => (w.cpuMs * 1000) / Math.max(1, w.ticks))),
    p50: s.p50,
    p99: s.p99,
    max: s.max,
  };
}

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
  gc: boolean;
}

interface RelayResult {
  relay: Summary;
  clients: Summary;
  upstreamTokens: number;
  connectMs: number;
  /** The relay's work per upstream frame, p50/p99 (medians over windows) and max, ms. */
  work: [number, number, number];
  /** Median over windows of the relay's event-loop delay p99, ms. */
  loopDelayP99: number;
  minClientTicks: number;
  drops: number;
  /** Before any client, with the clients, with the probe on top. */
  memory: [Memory, Memory, Memory];
}

async function relayRun(plan: number[][]): Promise<RelayResult> {
  const sim = new BenchChild('servers/simulator.ts', [JSON.stringify(SIM_OPTIONS), String(UNIVERSE)]);
  let relay: BenchChild | undefined;
  let clients: BenchChild | undefined;
  try {
    const ready = (await sim.next('ready')) as unknown as { url: string; tokens: number[] };
    relay = new BenchChild(
      'servers/relay.ts',
      [JSON.stringify({ simUrl: ready.url, clients: CLIENTS + PROBE, keys: KEYS })],
      {
        nodeFlags: ['--expose-gc', ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [])],
      },
    );
    const { url } = (await relay.next('ready')) as unknown as { url: string };
    const r = relay;
    const memory = async () => {
      r.send({ type: 'memory' });
      return (await r.next('memory')) as unknown as Memory;
    };
    const stats = async () => {
      r.send({ type: 'stats' });
      return (await r.next('stats')) as unknown as {
        cpuMs: number;
        at: number;
        ticksSent: number;
        upstreamTokens: number;
        droppedFrames: number;
        workP50: number;
        workP99: number;
        workMax: number;
        loopDelayP99: number;
      };
    };
    const mem0 = await memory();
    const creds = benchClients(CLIENTS + PROBE);
    // The plan's tokens are indexes into the simulator's universe (its first tradable instruments).
    const planned = (i: number) => ({
      id: creds[i]!.id,
      token: creds[i]!.accessToken,
      tokens: plan[i % CLIENTS]!.map((k) => ready.tokens[k]!),
    });
    clients = new BenchChild('clients/relay.ts', []);
    clients.send({
      type: 'run',
      url,
      clients: Array.from({ length: CLIENTS }, (_, i) => planned(i)),
      warmMs: WARM_MS,
      windowMs: WINDOW_MS,
      windows: WINDOWS,
    });
    const { ms: connectMs } = (await clients.next('connected')) as unknown as { ms: number };
    await clients.next('warm');
    let before = await stats();
    const relayWindows: {
      cpu: number;
      usPerTick: number;
      rate: number;
      work: [number, number, number];
      loop: number;
    }[] = [];
    const clientWindows: RelayWindow[] = [];
    for (let w = 0; w < WINDOWS; w++) {
      clientWindows.push((await clients.next('window')) as unknown as RelayWindow);
      const after = await stats();
      const cpu = after.cpuMs - before.cpuMs;
      const sent = after.ticksSent - before.ticksSent;
      const wall = after.at - before.at;
      relayWindows.push({
        cpu: cpu / wall,
        usPerTick: (cpu * 1000) / Math.max(1, sent),
        rate: sent / (wall / 1000),
        work: [after.workP50, after.workP99, after.workMax],
        loop: after.loopDelayP99,
      });
      before = after;
    }
    await clients.next('done');
    const mem1 = await memory();
    clients.send({ type: 'probe', clients: Array.from({ length: PROBE }, (_, i) => planned(CLIENTS + i)) });
    await clients.next('probed');
    // Let the probe's sockets settle into steady delivery before reading memory.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const mem2 = await memory();
    const end = await stats();
    return {
      relay: {
        rate: median(relayWindows.map((w) => w.rate)),
        cpu: median(relayWindows.map((w) => w.cpu)),
        usPerTick: median(relayWindows.map((w) => w.usPerTick)),
        p50: Number.NaN,
        p99: Number.NaN,
        max: Number.NaN,
      },
      clients: {
        rate: median(clientWindows.map((w) => w.ticks / (w.ms / 1000))),
        cpu: median(clientWindows.map((w) => w.cpuMs / w.ms)),
        usPerTick: median(clientWindows.map((w) => (w.cpuMs * 1000) / Math.max(1, w.ticks))),
        p50: median(clientWindows.map((w) => w.p50)),
        p99: median(clientWindows.map((w) => w.p99)),
        max: Math.max(...clientWindows.map((w) => w.max)),
      },
      upstreamTokens: end.upstreamTokens,
      connectMs,
      work: [
        median(relayWindows.map((w) => w.work[0])),
        median(relayWindows.map((w) => w.work[1])),
        Math.max(...relayWindows.map((w) => w.work[2])),
      ],
      loopDelayP99: median(relayWindows.map((w) => w.loop)),
      minClientTicks: Math.min(...clientWindows.map((w) => w.minClientTicks)),
      drops: end.droppedFrames,
      memory: [mem0, mem1, mem2],
    };
  } finally {
    await clients?.stop();
    await relay?.stop();
    await sim.stop();
  }
}

interface StormResult {
  openMs: number[];
  refused: number;
  unserved: number;
  servedMs: number;
  memory: [Memory, Memory];
}

/**
 * The accept storm: STORM clients open at the same instant (their own process), each then subscribes
 * 5 instruments (overlapping, ltp); time to open per client, time until every one had its ticks, and
 * the relay's memory per connected client.
 */
async function stormRun(): Promise<StormResult> {
  const sim = new BenchChild('servers/simulator.ts', [
    JSON.stringify({ ticksPerSecond: 1, universeSize: 2000 }),
    '2000',
  ]);
  let relay: BenchChild | undefined;
  let clients: BenchChild | undefined;
  try {
    const ready = (await sim.next('ready')) as unknown as { url: string; tokens: number[] };
    relay = new BenchChild(
      'servers/relay.ts',
      [JSON.stringify({ simUrl: ready.url, clients: STORM, keys: 1 })],
      {
        nodeFlags: ['--expose-gc'],
      },
    );
    const { url } = (await relay.next('ready')) as unknown as { url: string };
    relay.send({ type: 'memory' });
    const mem0 = (await relay.next('memory')) as unknown as Memory;
    const plan = planClients(ready.tokens, STORM, 5);
    clients = new BenchChild('clients/relay-storm.ts', []);
    clients.send({
      type: 'run',
      url,
      clients: benchClients(STORM).map((c, i) => ({ id: c.id, token: c.accessToken, tokens: plan[i]! })),
    });
    const result = (await clients.next('result')) as unknown as Omit<StormResult, 'memory'>;
    relay.send({ type: 'memory' });
    const mem1 = (await relay.next('memory')) as unknown as Memory;
    return { ...result, memory: [mem0, mem1] };
  } finally {
    await clients?.stop();
    await relay?.stop();
    await sim.stop();
  }
}

// The machine's load is part of the result: latency on a shared 2-core machine is mostly run-queue wait.
const loadStart = os.loadavg()[0]!;
const plan = planClients(
  Array.from({ length: UNIVERSE }, (_, i) => i),
  CLIENTS,
  PER_CLIENT,
);
const union = unionOf(plan).size;
process.stderr.write(`${CLIENTS} clients x ${PER_CLIENT} instruments, union ${union} of ${UNIVERSE}\n`);
const bare = await baseline('bare', union);
process.stderr.write(`bare ws direct: p99 ${fmtMs(bare.p99)} ms\n`);
const manager = await baseline('manager', union);
process.stderr.write(`manager direct: ${fmtMs(manager.usPerTick)} us/tick\n`);
const r = await relayRun(plan);
process.stderr.write(
  `relay: ${fmtMs(r.relay.usPerTick)} us/delivered tick, p99 ${fmtMs(r.clients.p99)} ms\n`,
);
const storm = await stormRun();
const loadEnd = os.loadavg()[0]!;

const [m0, m1, m2] = r.memory;
const perProbe = (k: 'rss' | 'heapUsed' | 'external') => (m2[k] - m1[k]) / PROBE;
const perClientAll = (k: 'rss' | 'heapUsed' | 'external') => (m1[k] - m0[k]) / CLIENTS;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)}`;
/** Nearest-rank percentile. */
const pct = (values: readonly number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};

console.log(
  `${machineLine(`load average ${loadStart.toFixed(1)} at start, ${loadEnd.toFixed(1)} at end`)}\n${CLIENTS} relay clients x ${PER_CLIENT} instruments (full mode) over ${union} upstream instruments on ${KEYS} keys x 3 sockets; ${RATE} tick/s per instrument (Kite's pace); simulator, relay and clients each in their own process. Medians of ${WINDOWS} windows of ${WINDOW_MS / 1000} s after ${WARM_MS / 1000} s warm-up; max over all windows; latency = simulator send -> client receive. Baselines run in the same invocation over the same ${union} instruments, directly from the simulator.\n`,
);
const dash = '-';
console.log(
  markdownTable(
    [
      'path',
      'ticks/s delivered',
      'CPU (of one core)',
      'CPU per tick (us)',
      'p50 (ms)',
      'p99 (ms)',
      'max (ms)',
    ],
    [
      ['bare `ws`, direct (latency floor)', bare, bare],
      ['MultiApiKiteTickerManager, direct (cost of receiving)', manager, manager],
      ['relay process (per delivered tick)', r.relay, undefined],
      ['relay clients: bare `ws` via the relay', r.clients, r.clients],
    ].map(([label, s, lat]) => {
      const sum = s as Summary;
      const l = lat as Summary | undefined;
      return [
        label as string,
        fmtRate(sum.rate),
        fmtPct(sum.cpu),
        sum.usPerTick.toFixed(2),
        l ? fmtMs(l.p50) : dash,
        l ? fmtMs(l.p99) : dash,
        l ? fmtMs(l.max) : dash,
      ];
    }),
  ),
);
console.log('');
const ratio = r.relay.usPerTick / manager.usPerTick;
const addedP99 = r.clients.p99 - bare.p99;
console.log(
  markdownTable(
    ['measure', 'value', 'goal'],
    [
      ['added latency p50 (relay clients - bare direct)', `${fmtMs(r.clients.p50 - bare.p50)} ms`, ''],
      ['added latency p99', `${fmtMs(addedP99)} ms`, `< 2 ms: ${addedP99 < 2 ? 'met' : 'not met'}`],
      [
        "relay's own work per upstream frame (cut + every send) p50 / p99 / max",
        `${fmtMs(r.work[0])} / ${fmtMs(r.work[1])} / ${fmtMs(r.work[2])} ms`,
        'the rest of the added latency is waiting for a CPU',
      ],
      ["relay's event-loop delay p99", `${fmtMs(r.loopDelayP99)} ms`, ''],
      [
        'relay CPU per delivered tick / manager CPU per received tick',
        `${ratio.toFixed(2)}x`,
        `<= 3x: ${ratio <= 3 ? 'met' : 'not met'}`,
      ],
      [
        `memory per client (probe of ${PROBE}): heap / external / RSS`,
        `${kb(perProbe('heapUsed'))} / ${kb(perProbe('external'))} / ${kb(perProbe('rss'))} KiB`,
        '',
      ],
      [
        `memory per client incl. upstream share (${CLIENTS} clients vs none): heap / external / RSS`,
        `${kb(perClientAll('heapUsed'))} / ${kb(perClientAll('external'))} / ${kb(perClientAll('rss'))} KiB`,
        '',
      ],
      ['relay RSS with the clients', `${fmtMB(m1.rss)} MB`, ''],
      ['upstream instruments held', `${r.upstreamTokens} (union ${union})`, 'each once'],
      ['fewest ticks one client got in a window', String(r.minClientTicks), '> 0'],
      ['frames dropped for slow clients', String(r.drops), ''],
      [`connecting + subscribing ${CLIENTS} clients (50 at a time)`, `${fmtMs(r.connectMs)} ms`, ''],
    ],
    ['left', 'right', 'left'],
  ),
);
const [s0, s1] = storm.memory;
const opened = storm.openMs.length;
console.log(
  `\nAccept storm: ${STORM} clients (1 relay client id each) open at the same instant from their own process, then each subscribes 5 instruments (ltp); relay on 1 upstream key.\n`,
);
console.log(
  markdownTable(
    ['measure', 'value'],
    [
      ['opened / refused / failed', `${opened} / ${storm.refused} / ${STORM - opened - storm.refused}`],
      [
        'time to open p50 / p99 / max',
        `${fmtMs(pct(storm.openMs, 50))} / ${fmtMs(pct(storm.openMs, 99))} / ${fmtMs(Math.max(...storm.openMs))} ms`,
      ],
      [
        'every client had each of its ticks after',
        `${fmtMs(storm.servedMs)} ms (${storm.unserved} unserved)`,
      ],
      [
        'relay memory per connected client: heap / external / RSS',
        `${kb((s1.heapUsed - s0.heapUsed) / STORM)} / ${kb((s1.external - s0.external) / STORM)} / ${kb((s1.rss - s0.rss) / STORM)} KiB`,
      ],
    ],
  ),
);
if (!m2.gc) console.log('\n(no --expose-gc in the relay process: memory figures include garbage)');
