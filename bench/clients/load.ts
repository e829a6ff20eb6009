/**
 * One load-benchmark client, in its own process: `load.ts <kind>`, kind one of
 *   manager  MultiApiKiteTickerManager over `keys` keys x `connsPerKey` sockets, a 'ticks' listener that
 *            reads every tick's send stamp (and, optionally, a unified channel read slowly)
 *   manager-quotes  the same, each key's pool also keeping its latest-quote table (for comparison)
 *   bare     the same number of bare `ws` sockets reading the stamps straight from the frames (the floor)
 * On `{type:'run', ...LoadRun}` it subscribes the tokens in full mode, warms up (sends `{type:'warm'}`),
 * then measures `windows` windows of `windowMs`, each reported as `{type:'window', ...WindowResult}`, ends
 * with `{type:'done', drops, channelSize}` and waits for `{type:'stop'}`.
 *
 * Latency: the simulator (`stampSendTime: true`) writes the monotonic send time into every full packet's
 * last_trade_time (s) + oi (ns) just before the frame goes to the socket; the consumer subtracts it from
 * its own monotonic clock, read once per callback, so the figure covers send -> kernel -> ws -> decode ->
 * manager -> callback.
 */
import WebSocket from 'ws';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import type { FullTick, Tick } from '../../src/protocol/index.js';
import { monotonicMs, stampedMs } from '../../src/simulator/index.js';
import { fromParent, reportErrors, toParent } from '../lib/child.js';
import { LatencyHistogram } from '../lib/histogram.js';
import type { LoadRun, WindowResult } from '../lib/load-types.js';

reportErrors();
const kind = process.argv[2] ?? '';
const run = (await fromParent('run')) as unknown as LoadRun;
const hist = new LatencyHistogram();
let ticks = 0;

function onTicks(batch: Tick[]): void {
  const now = monotonicMs();
  for (let i = 0; i < batch.length; i++) {
    const t = batch[i] as FullTick;
    if (t.mode !== 'full' || !t.tradable) continue;
    const sent = stampedMs((t.last_trade_time?.getTime() ?? 0) / 1000, t.oi);
    hist.record(now - sent);
  }
  ticks += batch.length;
}

function onRawFrame(data: Buffer, isBinary: boolean): void {
  if (!isBinary || data.length < 2) return;
  const now = monotonicMs();
  const n = data.readUInt16BE(0);
  let pos = 2;
  for (let i = 0; i < n && pos + 2 <= data.length; i++) {
    const len = data.readUInt16BE(pos);
    pos += 2;
    if (len === 184) hist.record(now - stampedMs(data.readUInt32BE(pos + 44), data.readUInt32BE(pos + 48)));
    pos += len;
  }
  ticks += n;
}

let drops = () => 0;
let channelSize = () => 0;
const closers: (() => Promise<void> | void)[] = [];

if (kind === 'manager' || kind === 'manager-quotes') {
  const builder = MultiApiKiteTickerManager.builder()
    .url(run.url)
    .maxConnectionsPerApi(run.connsPerKey)
    .enableFailover(false);
  // Comparison: the manager keeping its latest-quote table, as the single-key manager does by default.
  if (kind === 'manager-quotes') builder.latestQuotes(true);
  for (let k = 0; k < run.keys; k++)
    builder.addApiKey(`key${k + 1}`, `sim_key_${k + 1}`, `sim_token_${k + 1}`);
  const manager = builder.build();
  manager.on('ticks', onTicks);
  if (run.slow) {
    const channel = manager.getUnifiedChannel({ capacity: run.slow.capacity, overflow: 'drop-oldest' });
    drops = () => channel.dropped;
    channelSize = () => channel.size;
    const readEvery = run.slow.readEveryMs;
    // The slow consumer: one message per `readEveryMs`, far below the arrival rate.
    void (async () => {
      while (!channel.closed) {
        await new Promise((resolve) => setTimeout(resolve, readEvery));
        await channel.receive();
      }
    })();
  }
  await manager.start();
  await manager.subscribeSymbols(run.tokens, 'full');
  closers.push(() => manager.stop());
} else if (kind === 'bare') {
  const sockets = run.keys * run.connsPerKey;
  const per = Math.ceil(run.tokens.length / sockets);
  for (let s = 0; s < sockets; s++) {
    const key = (s % run.keys) + 1;
    const tokens = run.tokens.slice(s * per, (s + 1) * per);
    const ws = new WebSocket(`${run.url}/?api_key=sim_key_${key}&access_token=sim_token_${key}`, {
      perMessageDeflate: false,
    });
    ws.on('message', onRawFrame);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        ws.send(JSON.stringify({ a: 'subscribe', v: tokens }));
        ws.send(JSON.stringify({ a: 'mode', v: ['full', tokens] }));
        resolve();
      });
      ws.once('error', reject);
    });
    closers.push(() => ws.terminate());
  }
} else throw new Error(`unknown client kind ${kind}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gc = (globalThis as { gc?: () => void }).gc;
await sleep(run.warmMs);
toParent({ type: 'warm' });
let peakRss = 0;
for (let w = 0; w < run.windows; w++) {
  hist.reset();
  const ticks0 = ticks;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(run.windowMs);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const tickCount = ticks - ticks0;
  // Heap after a full collection (when --expose-gc is on): live memory, not the garbage of the moment.
  if (run.gc && gc) gc();
  const mem = process.memoryUsage();
  peakRss = Math.max(peakRss, mem.rss);
  const result: WindowResult = {
    ticks: tickCount,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    p50: hist.percentile(50),
    p99: hist.percentile(99),
    max: hist.max,
    latencySamples: hist.count,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    external: mem.external + mem.arrayBuffers,
    drops: drops(),
    channelSize: channelSize(),
    atMs: performance.now(),
  };
  toParent({ type: 'window', ...result });
}
toParent({ type: 'done', drops: drops(), channelSize: channelSize(), peakRss });
await fromParent('stop');
for (const close of closers) await close();
process.exit(0);
