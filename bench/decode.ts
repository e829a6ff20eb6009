/**
 * Decoding benchmark: `npm run bench:decode`. Prints one table of ticks/s (median of RUNS timed runs) for
 * the official kiteconnect client's parser, this project's object decoder (decodeFrame), a plain
 * hand-written DataView loop building the same objects (the reference decodeFrame is held to) and the
 * zero-copy path (FrameView reading token + last price + volume of every packet), with ratios to the
 * official parser measured in the same run. Keep the total under ~60 s.
 */
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import vm from 'node:vm';
import { decodeFrame, encodeTicks, FrameView, type Tick } from '../src/protocol/index.js';
import { machineLine } from './lib/machine.js';
import { plainDecode } from './lib/plain-decoder.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const RUN_MS = Number(process.env.BENCH_RUN_MS ?? 200);
// BENCH_CLOCK=cpu divides by the process's CPU time instead of wall time: on a shared machine the
// decoders' wall time includes whatever else ran, their CPU time much less so. Default: wall.
const CPU_CLOCK = process.env.BENCH_CLOCK === 'cpu';

// A full GC before every timed run (untimed): each decoder starts on a clean heap instead of paying for
// the garbage of the decoder run before it (the official parser's ArrayBuffer slices left the next
// decoder in line 1.3-1.6x slower, whichever it was).
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

// The official parser is a module-internal function, reachable through the public
// KiteTicker#parseBinary method; constructing a KiteTicker opens no socket.
const require = createRequire(import.meta.url);
const { KiteTicker } = require('kiteconnect') as {
  KiteTicker: new (p: {
    api_key: string;
    access_token: string;
  }) => { parseBinary(b: ArrayBuffer): unknown[] };
};
const official = new KiteTicker({ api_key: 'bench', access_token: 'bench' });

function fullTick(token: number, i: number): Tick {
  const level = (k: number, side: number) => ({
    quantity: 100 + k + i,
    price: 1500 + side * (k + 1) * 0.05 + i,
    orders: 1 + k,
  });
  return {
    tradable: true,
    mode: 'full',
    instrument_token: token,
    exchange: 'NSE',
    last_price: 1573.7 + i,
    last_traded_quantity: 7,
    average_traded_price: 1570.37,
    volume_traded: 1_192_471 + i,
    total_buy_quantity: 256_443,
    total_sell_quantity: 363_009,
    ohlc: { open: 1569.15, high: 1575, low: 1561.05, close: 1567.8 },
    change: 0,
    net_change: 0,
    last_trade_time: new Date(1_625_461_887_000),
    oi: 10 * i,
    oi_day_high: 20 * i,
    oi_day_low: 5 * i,
    exchange_timestamp: new Date(1_625_461_887_000),
    depth: {
      buy: [0, 1, 2, 3, 4].map((k) => level(k, -1)),
      sell: [0, 1, 2, 3, 4].map((k) => level(k, 1)),
    },
  };
}

function mixedTicks(n: number): Tick[] {
  const out: Tick[] = [];
  for (let i = 0; i < n; i++) {
    const kind = i % 5;
    if (kind === 0) out.push(fullTick(408_065 + (i << 8), i));
    else if (kind === 1) {
      // NSE currency quote (divisor 1e7): prices must stay under 2^31 / 1e7 = 214.7
      out.push({
        tradable: true,
        mode: 'quote',
        instrument_token: (1000 + i) * 256 + 3,
        exchange: 'CDS',
        last_price: 83.1234,
        last_traded_quantity: 1,
        average_traded_price: 83.12,
        volume_traded: 5000 + i,
        total_buy_quantity: 700,
        total_sell_quantity: 900,
        ohlc: { open: 83, high: 83.5, low: 82.9, close: 83.05 },
        change: 0,
        net_change: 0,
      });
    } else if (kind === 2) {
      out.push({
        tradable: true,
        mode: 'ltp',
        instrument_token: (2000 + i) * 256 + 2,
        exchange: 'NFO',
        last_price: 99.5,
      });
    } else {
      out.push({
        tradable: false,
        mode: kind === 3 ? 'quote' : 'full',
        instrument_token: 256_265,
        exchange: 'INDICES',
        last_price: 24_000 + i,
        ohlc: { open: 23_900, high: 24_100, low: 23_800, close: 23_950 },
        change: 0,
        net_change: 0,
        exchange_timestamp: kind === 3 ? undefined : new Date(1_625_461_887_000),
      } as Tick);
    }
  }
  return out;
}

/** A frame as `ws` hands it over: a Buffer view at a non-zero offset of a larger chunk. */
function asWsBuffer(frame: Uint8Array): Buffer {
  const chunk = Buffer.alloc(frame.byteLength + 13);
  frame.forEach((b, i) => {
    chunk[i + 7] = b;
  });
  return chunk.subarray(7, 7 + frame.byteLength);
}

let sink = 0;

/** Calls per timed batch so that one batch takes at least ~10 ms. */
function calibrate(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn(); // warm up
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    if (performance.now() - t0 > 10) return batch;
    batch *= 2;
  }
}

/** ticks/s of one run of at least RUN_MS. */
function runOnce(ticksPerCall: number, batch: number, fn: () => void): number {
  collect();
  let calls = 0;
  const t0 = performance.now();
  const c0 = CPU_CLOCK ? cpuMs() : 0;
  let elapsed = 0;
  do {
    for (let i = 0; i < batch; i++) fn();
    calls += batch;
    elapsed = performance.now() - t0;
  } while (elapsed < RUN_MS);
  const ms = CPU_CLOCK ? cpuMs() - c0 : elapsed;
  return (calls * ticksPerCall) / (ms / 1000);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * The decoders are run in turn, RUNS times, so a busy machine slows them alike; the ratios
 * are medians of per-run ratios (each taken from runs a few hundred ms apart).
 */
function compare(ticksPerCall: number, fns: (() => void)[]): { rates: number[]; ratios: number[] } {
  const batches = fns.map(calibrate);
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    fns.forEach((fn, k) => {
      samples[k]!.push(runOnce(ticksPerCall, batches[k]!, fn));
    });
  }
  const rates = samples.map(median);
  const ratios = samples.slice(1).map((s) => median(s.map((rate, r) => rate / samples[0]![r]!)));
  return { rates, ratios };
}

const view = new FrameView();
const cases: [string, Tick[]][] = [
  ['1 full', [fullTick(408_065, 0)]],
  ['20 full', Array.from({ length: 20 }, (_, i) => fullTick(408_065 + (i << 8), i))],
  ['500 full', Array.from({ length: 500 }, (_, i) => fullTick(408_065 + (i << 8), i))],
  ['500 mixed (5 kinds)', mixedTicks(500)],
];

const rows: string[] = [];
for (const [name, ticks] of cases) {
  const frame = encodeTicks(ticks);
  const wsBuf = asWsBuffer(frame);
  const arrayBuffer = frame.slice().buffer; // the official client wants a whole ArrayBuffer
  const n = ticks.length;
  const { rates, ratios } = compare(n, [
    () => {
      sink += official.parseBinary(arrayBuffer).length;
    },
    () => {
      sink += decodeFrame(wsBuf).length;
    },
    () => {
      sink += plainDecode(wsBuf).length;
    },
    () => {
      view.reset(wsBuf);
      let acc = 0;
      for (let i = 0; i < view.count; i++) {
        acc += view.token(i) + view.lastPrice(i);
        const vol = view.volumeTraded(i);
        if (!Number.isNaN(vol)) acc += vol; // LTP / index packets have no volume (NaN)
      }
      sink += acc;
    },
  ]);
  const [off, obj, plain, zc] = rates as [number, number, number, number];
  const [objRatio, plainRatio, zcRatio] = ratios as [number, number, number];
  rows.push(
    `| ${name} | ${fmt(off)} | ${fmt(obj)} | ${fmt(plain)} | ${fmt(zc)} | ${objRatio.toFixed(0)}x | ${plainRatio.toFixed(0)}x | ${(plainRatio / objRatio).toFixed(2)} | ${zcRatio.toFixed(0)}x |`,
  );
}

function fmt(rate: number): string {
  return rate >= 1e6 ? `${(rate / 1e6).toFixed(2)} M` : `${(rate / 1e3).toFixed(1)} k`;
}

console.log(
  `${machineLine()}; median of ${RUNS} interleaved runs of >= ${RUN_MS} ms per decoder; ratios are medians of per-run ratios${CPU_CLOCK ? '; rates per CPU-second of the process (BENCH_CLOCK=cpu)' : ''}\n`,
);
console.log(
  '| frame | official kiteconnect (ticks/s) | decodeFrame (ticks/s) | plain loop (ticks/s) | FrameView zero-copy (ticks/s) | decodeFrame / official | plain loop / official | plain loop / decodeFrame | FrameView / official |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const row of rows) console.log(row);
if (sink === 42) console.log(''); // keep results observable so nothing is optimised away
