import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RecordKind } from '../../src/cli/recording.js';
import { KiteTicker } from '../../src/connection/index.js';
import { decodeFrame, encodeTicks } from '../../src/protocol/index.js';
import type { OrderUpdate, Tick } from '../../src/protocol/types.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { RecordingWriter } from '../../src/sinks/recorder/writer.js';
import { killAll, runCli, startCli } from './cli-helpers.js';

const SUBSCRIBED = [408065, 256265];
const NOT_SUBSCRIBED = 738561;
const FRAMES = 10;
const FRAME_GAP_MS = 100;

let dir: string;
let file: string;
/** The frames written to the recording, in order. */
const recorded: Uint8Array[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-replay-serve-'));
  file = join(dir, 'session.ktrec');
  // Real-looking ticks from a simulator's market (not started: snapshot() reads its state).
  const market = new KiteSimulator({ universeSize: 2000 });
  const writer = await RecordingWriter.open(file, {
    createdAt: new Date().toISOString(),
    tool: 'test',
    endpoint: 'simulator',
    mode: 'quote',
    sources: ['a', 'b'],
    instruments: 3,
    quoteSymbols: [{ token: 408065, symbol: 'NSE:INFY' }],
  });
  const t0 = Date.now();
  for (let i = 0; i < FRAMES; i++) {
    const ticks = [...SUBSCRIBED, NOT_SUBSCRIBED].map((token, k) => {
      const tick = market.snapshot(token, k === 0 ? 'full' : 'quote')!;
      // Distinct prices per frame, so order and identity are checked too.
      (tick as { last_price: number }).last_price = 1000 + i + k / 10;
      return tick;
    });
    const frame = encodeTicks(ticks);
    recorded.push(frame);
    writer.write(t0 + i * FRAME_GAP_MS, RecordKind.Binary, i % 2 === 0 ? 'a' : 'b', 0, frame);
    if (i === 5) {
      const order = JSON.stringify({ type: 'order', data: { order_id: 'ORD1', status: 'COMPLETE' } });
      writer.write(t0 + i * FRAME_GAP_MS + 1, RecordKind.Text, 'a', 0, new TextEncoder().encode(order));
    }
  }
  await writer.close();
});
afterEach(() => killAll());
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli replay --serve', () => {
  it('cli replay - --serve plays the recorded ticks of subscribed tokens to our KiteTicker, paced by --speed', async () => {
    const server = startCli(['replay', file, '--serve', '--speed', '2']);
    await server.waitFor('stdout', /Ctrl-C to stop/);
    const out = server.stdout();
    const url = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    expect(url).toBeDefined();
    expect(out).toContain('sim_key_1  sim_token_1');
    expect(out).toMatch(/kiteticker stream --url ws:\/\/127\.0\.0\.1:\d+ 408065/);

    const ticker = new KiteTicker({ apiKey: 'sim_key_1', accessToken: 'sim_token_1', url: url! });
    const received: { tick: Tick; at: number }[] = [];
    const orders: OrderUpdate[] = [];
    let heartbeats = 0;
    ticker.on('ticks', (ticks) => {
      for (const tick of ticks) received.push({ tick, at: Date.now() });
    });
    ticker.on('order', (order) => orders.push(order));
    ticker.on('rawFrame', (data) => {
      if (data.byteLength === 1) heartbeats++;
    });
    ticker.on('error', () => undefined);
    try {
      await ticker.connect();
      // Idle before subscribing: the server still sends heartbeats (every second). The first is due
      // 1.0-1.25 s after the upgrade; allow a busy machine more than that before calling it missing.
      const deadline = Date.now() + 3000;
      while (heartbeats === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(heartbeats).toBeGreaterThanOrEqual(1);
      expect(received).toHaveLength(0);
      ticker.subscribe(SUBSCRIBED, 'full');
      const end = await server.done;
      expect(end.code).toBe(0);
      expect(end.stderr).toMatch(/stopped: end of recording/);
      expect(end.stderr).toMatch(/frames\s+11 played/);
    } finally {
      await ticker.close();
    }

    // Exactly the recorded packets of the subscribed tokens, in order, as recorded (the 'full' mode
    // request does not change recorded quote packets).
    const expected = recorded.flatMap((f) =>
      decodeFrame(f).filter((t) => t.instrument_token !== NOT_SUBSCRIBED),
    );
    expect(received.map((r) => r.tick)).toEqual(expected);
    expect(received.some((r) => r.tick.instrument_token === 256265 && r.tick.mode === 'quote')).toBe(true);
    expect(orders).toEqual([{ order_id: 'ORD1', status: 'COMPLETE' }]);
    // 9 gaps of 100 ms at x2 = ~450 ms between the first and the last frame.
    const span = received.at(-1)!.at - received[0]!.at;
    expect(span).toBeGreaterThan(300);
    expect(span).toBeLessThan(1500);
  });

  it('cli replay - serve-only flags without --serve, and --format with --serve, are usage errors', async () => {
    const [a, b] = await Promise.all([
      runCli(['replay', file, '--loop']),
      runCli(['replay', file, '--serve', '--format', 'ndjson']),
    ]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--loop needs --serve/);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--format cannot be combined with --serve/);
  });
});
