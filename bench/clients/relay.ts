/**
 * The relay benchmark's clients, all in one process (so the relay's process does nothing but relay):
 * bare `ws` sockets, one per relay client, each subscribing its instruments in full mode and reading the
 * simulator's send stamps straight from the frames, exactly as the `bare` load client does on the
 * direct path; the difference of the two latencies is what the relay adds.
 *
 * On `{type:'run', url, clients:[{id, token, tokens}], warmMs, windowMs, windows}` it connects every
 * client (reporting `{type:'connected', ms}`), warms up (`{type:'warm'}`), reports `windows` windows as
 * `{type:'window', ...RelayWindow}` and `{type:'done'}`. Then `{type:'probe', clients}` connects more
 * clients the same way (the memory probe) and answers `{type:'probed'}`; `{type:'stop'}` ends it.
 */
import WebSocket from 'ws';
import { monotonicMs, stampedMs } from '../../src/simulator/index.js';
import { fromParent, reportErrors, toParent } from '../lib/child.js';
import { LatencyHistogram } from '../lib/histogram.js';

reportErrors();

interface Planned {
  id: string;
  token: string;
  tokens: number[];
}

export interface RelayWindow {
  ticks: number;
  ms: number;
  cpuMs: number;
  p50: number;
  p99: number;
  max: number;
  latencySamples: number;
  /** Fewest ticks any one client got in the window (0: some client starved). */
  minClientTicks: number;
}

const hist = new LatencyHistogram();
let ticks = 0;
const perClient: number[] = [];
const sockets: WebSocket[] = [];
/** Full packets are 184 bytes; the stamp sits in last_trade_time (44) and oi (48). */
const FULL = 184;

function reader(index: number): (data: Buffer, isBinary: boolean) => void {
  return (data, isBinary) => {
    if (!isBinary || data.length < 2) return;
    const now = monotonicMs();
    const n = data.readUInt16BE(0);
    let pos = 2;
    for (let i = 0; i < n && pos + 2 <= data.length; i++) {
      const len = data.readUInt16BE(pos);
      pos += 2;
      if (len === FULL)
        hist.record(now - stampedMs(data.readUInt32BE(pos + 44), data.readUInt32BE(pos + 48)));
      pos += len;
    }
    ticks += n;
    perClient[index]! += n;
  };
}

function open(url: string, c: Planned): Promise<void> {
  const index = perClient.length;
  perClient.push(0);
  const ws = new WebSocket(
    `${url}/?api_key=${encodeURIComponent(c.id)}&access_token=${encodeURIComponent(c.token)}`,
    { perMessageDeflate: false },
  );
  sockets.push(ws);
  ws.on('message', reader(index));
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.send(JSON.stringify({ a: 'subscribe', v: c.tokens }));
      ws.send(JSON.stringify({ a: 'mode', v: ['full', c.tokens] }));
      resolve();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`${c.id}: HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Opens the clients 50 at a time (a burst of hundreds is the fault tests' business, not this one's). */
async function openAll(url: string, list: readonly Planned[]): Promise<void> {
  for (let i = 0; i < list.length; i += 50) {
    await Promise.all(list.slice(i, i + 50).map((c) => open(url, c)));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const run = (await fromParent('run')) as unknown as {
  url: string;
  clients: Planned[];
  warmMs: number;
  windowMs: number;
  windows: number;
};
const t0 = performance.now();
await openAll(run.url, run.clients);
toParent({ type: 'connected', ms: performance.now() - t0 });
await sleep(run.warmMs);
toParent({ type: 'warm' });
for (let w = 0; w < run.windows; w++) {
  hist.reset();
  const ticks0 = ticks;
  const mine0 = [...perClient];
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await sleep(run.windowMs);
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  let minClientTicks = Number.POSITIVE_INFINITY;
  for (let i = 0; i < mine0.length; i++) minClientTicks = Math.min(minClientTicks, perClient[i]! - mine0[i]!);
  const result: RelayWindow = {
    ticks: ticks - ticks0,
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    p50: hist.percentile(50),
    p99: hist.percentile(99),
    max: hist.max,
    latencySamples: hist.count,
    minClientTicks,
  };
  toParent({ type: 'window', ...result });
}
toParent({ type: 'done' });

process.on('message', (m: { type: string; clients?: Planned[] }) => {
  if (m.type !== 'probe' || !m.clients) return;
  openAll(run.url, m.clients).then(
    () => toParent({ type: 'probed' }),
    (err: Error) => toParent({ type: 'error', message: err.message }),
  );
});
await fromParent('stop');
for (const ws of sockets) ws.terminate();
process.exit(0);
