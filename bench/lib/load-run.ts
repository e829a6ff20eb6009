/**
 * Runs one load scenario: the simulator (normal mode, `stampSendTime`) in one process, a load client
 * (bench/clients/load.ts) in another, and returns the client's per-window results plus the simulator's
 * CPU over the same stretch. Shared by bench:load, bench:scale and bench:memory.
 */
import { BenchChild } from './child.js';
import type { LoadRun, WindowResult } from './load-types.js';
import { median } from './stats.js';

export interface LoadScenario {
  client: 'manager' | 'manager-quotes' | 'bare';
  /** Ticks per second per instrument (Kite: about 1). */
  rate: number;
  instruments: number;
  keys: number;
  connsPerKey: number;
  warmMs: number;
  windowMs: number;
  windows: number;
  /** When each connection's frame goes out in the simulator's interval (default 'spread', as Kite). */
  stagger?: 'spread' | 'none';
  gc?: boolean;
  slow?: LoadRun['slow'];
  /** Extra node flags for the client (e.g. --expose-gc, --cpu-prof). */
  nodeFlags?: string[];
  /** Called as each window arrives (progress, live samples). */
  onWindow?: (w: WindowResult, index: number) => void;
}

export interface LoadSummary {
  windows: WindowResult[];
  /** Ticks per second the simulator should send. */
  offeredRate: number;
  /** Median over windows. */
  deliveredRate: number;
  /** Median over windows of client CPU time / wall time (1 = one core). */
  cpu: number;
  p50: number;
  p99: number;
  /** Worst single tick over every window. */
  max: number;
  peakRss: number;
  /** Simulator CPU time / wall time over the measured windows. */
  simCpu: number;
  drops: number;
}

export async function runLoad(s: LoadScenario): Promise<LoadSummary> {
  const sim = new BenchChild('servers/simulator.ts', [
    JSON.stringify({
      ticksPerSecond: s.rate,
      stampSendTime: true,
      stagger: s.stagger ?? 'spread',
      universeSize: Math.max(30_000, s.instruments),
    }),
    String(s.instruments),
  ]);
  let client: BenchChild | undefined;
  try {
    const ready = (await sim.next('ready')) as unknown as { url: string; tokens: number[] };
    client = new BenchChild('clients/load.ts', [s.client], { nodeFlags: s.nodeFlags });
    const run: LoadRun = {
      url: ready.url,
      tokens: ready.tokens,
      keys: s.keys,
      connsPerKey: s.connsPerKey,
      warmMs: s.warmMs,
      windowMs: s.windowMs,
      windows: s.windows,
      gc: s.gc,
      slow: s.slow,
    };
    client.send({ type: 'run', ...run });
    await client.next('warm');
    sim.send({ type: 'stats' });
    const sim0 = (await sim.next('stats')) as unknown as { cpuMs: number; at: number };
    const windows: WindowResult[] = [];
    for (let w = 0; w < s.windows; w++) {
      const result = (await client.next('window')) as unknown as WindowResult;
      windows.push(result);
      s.onWindow?.(result, w);
    }
    sim.send({ type: 'stats' });
    const sim1 = (await sim.next('stats')) as unknown as { cpuMs: number; at: number };
    const done = (await client.next('done')) as unknown as { drops: number; peakRss: number };
    return {
      windows,
      offeredRate: s.rate * s.instruments,
      deliveredRate: median(windows.map((w) => w.ticks / (w.ms / 1000))),
      cpu: median(windows.map((w) => w.cpuMs / w.ms)),
      p50: median(windows.map((w) => w.p50)),
      p99: median(windows.map((w) => w.p99)),
      max: Math.max(...windows.map((w) => w.max)),
      peakRss: done.peakRss,
      simCpu: (sim1.cpuMs - sim0.cpuMs) / (sim1.at - sim0.at),
      drops: done.drops,
    };
  } finally {
    await client?.stop();
    await sim.stop();
  }
}
