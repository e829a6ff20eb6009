/**
 * NATS fan-out benchmark: `npm run bench:nats` (needs `nats-server` on the PATH). Ticks/s end to end on
 * loopback (sink publishes -> nats-server -> subscribeTicks decodes) for the binary and JSON payloads,
 * beside direct delivery in the same process (the frames a manager decodes, with no bus), measured in
 * the same run. Median of RUNS runs of TICKS ticks each, in frames of BATCH ticks (mixed packet kinds:
 * full, quote, ltp, index quote/full). Prints one table.
 */
import os from 'node:os';
import { decodeFrame, encodeTicks, type Tick } from '../src/protocol/index.js';
import { createNatsSink, subscribeTicks, type TickEncoding } from '../src/sinks/index.js';
import { startNatsServer } from '../test/helpers/nats-server.js';
import { sampleTicks } from '../test/helpers/nats-ticks.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TICKS = Number(process.env.BENCH_TICKS ?? 100_000);
const BATCH = 100;

const ticks = sampleTicks(TICKS);
const batches: Tick[][] = [];
for (let i = 0; i < ticks.length; i += BATCH) batches.push(ticks.slice(i, i + BATCH));

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Direct delivery: decode the frames in-process, as a manager hands ticks to a local consumer. */
function runDirect(): number {
  const frames = batches.map((b) => encodeTicks(b));
  const start = performance.now();
  let count = 0;
  for (const frame of frames) count += decodeFrame(frame).length;
  const ms = performance.now() - start;
  if (count !== TICKS) throw new Error(`direct decoded ${count} of ${TICKS}`);
  return (TICKS / ms) * 1000;
}

async function runNats(url: string, encoding: TickEncoding): Promise<{ rate: number; bytes: number }> {
  const sink = await createNatsSink({ servers: url, encoding, maxBufferedMessages: TICKS });
  const sub = await subscribeTicks(url, { maxPending: TICKS + 1 });
  let received = 0;
  let missed = 0;
  const start = performance.now();
  const done = (async () => {
    for await (const m of sub) {
      missed += m.gap;
      if (++received === TICKS) break;
    }
  })();
  // Publish frame by frame, yielding to the event loop between frames as a socket-fed manager would.
  for (const batch of batches) {
    sink.publishTicks(batch, 'bench');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await done;
  const ms = performance.now() - start;
  const { publishedBytes, dropped } = sink.stats();
  if (dropped !== 0 || missed !== 0) throw new Error(`lost ticks: dropped ${dropped}, missed ${missed}`);
  await sub.close();
  await sink.close();
  return { rate: (TICKS / ms) * 1000, bytes: publishedBytes / TICKS };
}

const server = await startNatsServer();
try {
  runDirect(); // warm-up
  await runNats(server.url, 'binary');
  const direct: number[] = [];
  const binary: number[] = [];
  const json: number[] = [];
  let binaryBytes = 0;
  let jsonBytes = 0;
  for (let r = 0; r < RUNS; r++) {
    direct.push(runDirect());
    const b = await runNats(server.url, 'binary');
    binary.push(b.rate);
    binaryBytes = b.bytes;
    const j = await runNats(server.url, 'json');
    json.push(j.rate);
    jsonBytes = j.bytes;
  }
  const d = median(direct);
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const rows = [
    ['direct (decodeFrame, in-process)', fmt(d), '1.00', '-'],
    [
      'NATS binary (publish -> decode)',
      fmt(median(binary)),
      (median(binary) / d).toFixed(3),
      binaryBytes.toFixed(0),
    ],
    ['NATS json (publish -> decode)', fmt(median(json)), (median(json) / d).toFixed(3), jsonBytes.toFixed(0)],
  ];
  const header = ['path', 'ticks/s (median)', 'vs direct', 'bytes/tick'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(
    `NATS fan-out, ${TICKS} mixed ticks x ${RUNS} runs, frames of ${BATCH}; node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}`,
  );
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(r));
} finally {
  await server.dispose();
}
