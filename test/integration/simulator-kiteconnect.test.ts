/**
 * The official `kiteconnect` npm client against the simulator. That client keeps its socket in module
 * globals and calls process.exit on some paths, so it runs in a child process (never in the vitest
 * worker) and reports what it received as one JSON line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeFrame } from '../../src/protocol/decode.js';
import type { Tick } from '../../src/protocol/types.js';
import { KiteSimulator } from '../../src/simulator/server.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const CHILD = `
import kiteconnect from 'kiteconnect';
const { root, subscribe, full, ltp, wanted } = JSON.parse(process.env.SIM_TEST);
const ticker = new kiteconnect.KiteTicker({ api_key: 'sim_key_1', access_token: 'sim_token_1', root, reconnect: false });
const ticks = [];
const orders = [];
const done = (code) => {
  process.stdout.write(JSON.stringify({ ticks, orders }) + '\\n', () => process.exit(code));
};
ticker.on('connect', () => {
  ticker.subscribe(subscribe);
  ticker.setMode('full', full);
  ticker.setMode('ltp', ltp);
  process.stdout.write('"connected"\\n');
});
ticker.on('ticks', (batch) => {
  ticks.push(...batch);
  if (ticks.length >= wanted && orders.length > 0) done(0);
});
ticker.on('order_update', (order) => {
  orders.push(order);
  if (ticks.length >= wanted) done(0);
});
setTimeout(() => done(2), 10000);
ticker.connect();
`;

let sim: KiteSimulator | undefined;
let child: ChildProcess | undefined;

afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await sim?.stop();
  sim = undefined;
});

/** Our decoded tick in the official client's shape: without our two additions, via JSON like the child. */
function officialShape(t: Tick): unknown {
  const { exchange: _e, net_change: _n, ...rest } = t as Tick & { net_change?: number };
  return JSON.parse(JSON.stringify(rest));
}

describe('simulator with the official kiteconnect client', () => {
  it('simulator - kiteconnect KiteTicker connects, subscribes in each mode, ticks match what was sent', async () => {
    const frames: Buffer[] = [];
    sim = new KiteSimulator({
      universeSize: 3000,
      seed: 21,
      ticksPerSecond: 5,
      batchIntervalMs: 50,
      onFrameSent: (_id, frame) => {
        if (typeof frame !== 'string') frames.push(Buffer.from(frame));
      },
    });
    await sim.start();
    const u = sim.instruments();
    const find = (pred: (i: (typeof u)[number]) => boolean) => u.find(pred)!.instrument_token;
    const nifty = 256265;
    const sensex = 265;
    const infy = 408065;
    const cds = find((i) => i.exchange === 'CDS' && i.instrument_type === 'FUT');
    const bcd = find((i) => i.exchange === 'BCD');
    const opt = find((i) => i.segment === 'NFO-OPT');
    const mcx = find((i) => i.exchange === 'MCX');
    const env = {
      root: `${sim.url}/`,
      subscribe: [nifty, sensex, infy, cds, bcd, opt, mcx],
      full: [nifty, infy, cds, opt],
      ltp: [sensex, mcx],
      wanted: 60,
    };
    child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      cwd: root,
      env: { ...process.env, SIM_TEST: JSON.stringify(env) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => {
      err += d;
    });
    const exited = new Promise<number | null>((res) => child!.once('exit', (code) => res(code)));
    const order = {
      order_id: '220303000308932',
      status: 'COMPLETE',
      tradingsymbol: 'SBIN',
      instrument_token: 779521,
    };
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('"connected"') && !out.includes('sent')) {
        out += '"sent"\n';
        // Give the subscribe/mode commands time to land before the order update.
        setTimeout(() => sim?.sendOrderUpdate('sim_key_1', order), 100);
      }
    });
    const code = await exited;
    expect(err).toBe('');
    expect(code).toBe(0);
    const line = out.split('\n').find((l) => l.startsWith('{'))!;
    const received = JSON.parse(line) as { ticks: Array<Record<string, unknown>>; orders: unknown[] };

    expect(received.orders).toEqual([order]);
    // The server saw the official client's URL (uid param) and its commands.
    const log = sim.keyInfo('sim_key_1').commands.map((c) => JSON.parse(c.text));
    expect(log[0]).toEqual({ a: 'subscribe', v: env.subscribe });
    expect(log).toContainEqual({ a: 'mode', v: ['full', env.full] });

    // Tick for tick, the official client read exactly what our decoder reads from the frames sent.
    const sent = frames.flatMap((f) => decodeFrame(f));
    expect(received.ticks.length).toBeGreaterThanOrEqual(env.wanted);
    expect(received.ticks).toEqual(sent.slice(0, received.ticks.length).map(officialShape));

    // Each token arrived in its mode (after the mode command), index packets included.
    const last = new Map<number, Record<string, unknown>>();
    for (const t of received.ticks) last.set(t.instrument_token as number, t);
    expect(last.get(nifty)).toMatchObject({ mode: 'full', tradable: false });
    expect(last.get(nifty)!.exchange_timestamp).toEqual(expect.any(String));
    expect(last.get(infy)).toMatchObject({ mode: 'full', tradable: true });
    expect((last.get(infy)!.depth as { buy: unknown[] }).buy).toHaveLength(5);
    expect(last.get(sensex)).toMatchObject({ mode: 'ltp' });
    expect(last.get(bcd)).toMatchObject({ mode: 'quote' });
    const cdsTick = last.get(cds)!;
    expect(cdsTick.last_price as number).toBeGreaterThan(50); // 1e7 divisor in the official client too
    expect(cdsTick.last_price as number).toBeLessThan(200);
  });
});
