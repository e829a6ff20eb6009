/**
 * One ceiling-benchmark client, in its own process: `ceiling.ts <kind>` with kind one of
 *   objects  this project's KiteTicker, a 'ticks' listener reading last_price of every tick object
 *   frame    this project's KiteTicker, a 'frame' listener reading token, last price and volume per packet
 *   official the official kiteconnect KiteTicker, a 'ticks' listener reading last_price of every tick
 *   bare     a bare `ws` client that only adds up each frame's packet count (the transport floor)
 * On `{type:'run', url, tokens, warmMs, measureMs}` it subscribes the tokens in full mode, lets the
 * stream warm up, then counts ticks and its own CPU time over the measuring window, reports
 * `{type:'result', ticks, ms, cpuMs}` and exits (the official client cannot be reused in a process).
 */
import { createRequire } from 'node:module';
import WebSocket from 'ws';
import { KiteTicker } from '../../src/connection/index.js';
import type { FrameView, Tick } from '../../src/protocol/index.js';
import { fromParent, reportErrors, toParent } from '../lib/child.js';

reportErrors();
const kind = process.argv[2] ?? '';
const API_KEY = 'sim_key_1';
const ACCESS_TOKEN = 'sim_token_1';

let ticks = 0;
let sink = 0; // keeps the reads observable so nothing is optimised away

function onTicks(batch: Tick[]): void {
  let acc = 0;
  for (let i = 0; i < batch.length; i++) acc += batch[i]!.last_price;
  sink += acc;
  ticks += batch.length;
}

function onFrame(view: FrameView): void {
  const n = view.count;
  let acc = 0;
  for (let i = 0; i < n; i++) acc += view.token(i) + view.lastPrice(i) + view.volumeTraded(i);
  sink += acc;
  ticks += n;
}

const run = (await fromParent('run')) as unknown as {
  url: string;
  tokens: number[];
  warmMs: number;
  measureMs: number;
};
const { url, tokens } = run;

async function start(): Promise<void> {
  if (kind === 'objects' || kind === 'frame') {
    const ticker = new KiteTicker({ apiKey: API_KEY, accessToken: ACCESS_TOKEN, url });
    if (kind === 'objects') ticker.on('ticks', onTicks);
    else ticker.on('frame', onFrame);
    ticker.subscribe(tokens, 'full');
    await ticker.connect();
  } else if (kind === 'official') {
    const require = createRequire(import.meta.url);
    const { KiteTicker: Official } = require('kiteconnect') as {
      KiteTicker: new (
        p: Record<string, unknown>,
      ) => {
        on(event: string, cb: (...a: never[]) => void): void;
        connect(): void;
        subscribe(t: number[]): void;
        setMode(mode: string, t: number[]): void;
      };
    };
    const official = new Official({
      api_key: API_KEY,
      access_token: ACCESS_TOKEN,
      root: `${url}/`,
      reconnect: false,
    });
    await new Promise<void>((resolve) => {
      official.on('connect', () => {
        official.subscribe(tokens);
        official.setMode('full', tokens);
        resolve();
      });
      official.on('ticks', onTicks as (...a: never[]) => void);
      official.connect();
    });
  } else if (kind === 'bare') {
    const ws = new WebSocket(`${url}/?api_key=${API_KEY}&access_token=${ACCESS_TOKEN}`, {
      perMessageDeflate: false,
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && data.length >= 2) ticks += data.readUInt16BE(0);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        ws.send(JSON.stringify({ a: 'subscribe', v: tokens }));
        ws.send(JSON.stringify({ a: 'mode', v: ['full', tokens] }));
        resolve();
      });
      ws.once('error', reject);
    });
  } else throw new Error(`unknown client kind ${kind}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
await start();
await sleep(run.warmMs);
const ticks0 = ticks;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await sleep(run.measureMs);
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
toParent({
  type: 'result',
  ticks: ticks - ticks0,
  ms,
  cpuMs: (cpu.user + cpu.system) / 1000,
  sink: sink % 7,
});
// Give the IPC message time to leave, then end without a close handshake: the next run starts fresh.
setTimeout(() => process.exit(0), 50);
