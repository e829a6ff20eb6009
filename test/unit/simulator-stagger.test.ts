import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { InvalidArgumentError } from '../../src/errors.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { parseStagger, staggerOffsetMs } from '../../src/simulator/stagger.js';

const sims: KiteSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

const INTERVAL = 200;

/** Yields to I/O (setImmediate is left real by the fake clock below). */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 20_000; i++) {
    if (cond()) return;
    await tick();
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Three sockets subscribed on a simulator driven by a fake clock (timers and Date only; sockets stay
 * real), stepped one millisecond at a time for `steps` batch intervals. Returns, per connection id, the
 * fake-clock offsets within the interval at which its tick frames were sent.
 */
async function sendOffsets(stagger: 'spread' | 'none' | undefined, seed: number, steps: number) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  const sent: Array<{ id: number; at: number }> = [];
  const sim = new KiteSimulator({
    seed,
    universeSize: 20,
    batchIntervalMs: INTERVAL,
    ticksPerSecond: 1000 / INTERVAL, // one tick per instrument per step
    heartbeatIntervalMs: 60_000,
    ...(stagger ? { stagger } : {}),
    onFrameSent: (id, frame) => {
      if (typeof frame !== 'string' && frame.byteLength > 2) sent.push({ id, at: Date.now() });
    },
  });
  sims.push(sim);
  const t0 = Date.now();
  await sim.start(); // the step timer starts at t0: steps fall on t0 + k * INTERVAL
  const token = sim.instruments()[0]!.instrument_token;
  for (let k = 0; k < 3; k++) {
    const ws = new WebSocket(`${sim.url}/?api_key=sim_key_${k + 1}&access_token=sim_token_${k + 1}`);
    sockets.push(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ a: 'subscribe', v: [token] }));
  }
  await until(
    () => sim.connections().filter((c) => c.subscriptions.size > 0).length === 3,
    'three subscriptions',
  );
  for (let ms = 0; ms < steps * INTERVAL; ms++) vi.advanceTimersByTime(1);
  const ids = sim.connections().map((c) => c.id);
  const offsets = new Map<number, number[]>();
  for (const id of ids) offsets.set(id, []);
  for (const s of sent) offsets.get(s.id)?.push((s.at - t0) % INTERVAL);
  return { ids, offsets };
}

describe('simulator stagger', () => {
  it('simulator stagger - spread sends each connection at its own fixed offset in the interval', async () => {
    const seed = 7;
    const { ids, offsets } = await sendOffsets(undefined, seed, 5); // 'spread' is the default
    const expected = ids.map((id) => staggerOffsetMs('spread', seed, id, INTERVAL));
    // Offsets differ between connections (not one burst)...
    expect(new Set(expected).size).toBe(3);
    for (const [k, id] of ids.entries()) {
      const got = offsets.get(id)!;
      expect(got.length).toBeGreaterThanOrEqual(4);
      // ...and every frame of a connection goes out exactly at its offset after each step.
      expect(new Set(got)).toEqual(new Set([expected[k]]));
    }
  });

  it("simulator stagger - 'none' sends every connection's frame at the step instant", async () => {
    const { ids, offsets } = await sendOffsets('none', 7, 5);
    for (const id of ids) {
      expect(offsets.get(id)!.length).toBeGreaterThanOrEqual(4);
      expect(new Set(offsets.get(id))).toEqual(new Set([0]));
    }
  });

  it('simulator stagger - frames held past the next step still carry the state of when they are sent', async () => {
    // A seed that gives connection 1 offset 0 (sent inside the step) and the others a real offset.
    const interval = 20;
    let seed = 1;
    while (
      staggerOffsetMs('spread', seed, 1, interval) !== 0 ||
      staggerOffsetMs('spread', seed, 2, interval) === 0 ||
      staggerOffsetMs('spread', seed, 3, interval) === 0
    )
      seed++;
    const problems: string[] = [];
    const checked = new Map<number, number>();
    let blocked = false;
    let sim: KiteSimulator | undefined;
    sim = new KiteSimulator({
      seed,
      universeSize: 20,
      batchIntervalMs: interval,
      ticksPerSecond: 1000 / interval, // every instrument moves every step
      onFrameSent: (id, frame) => {
        if (typeof frame === 'string' || frame.byteLength <= 2) return;
        for (const t of decodeFrame(frame)) {
          if (!isDeepStrictEqual(t, sim!.snapshot(t.instrument_token, t.mode)))
            problems.push(`connection ${id}: ${t.instrument_token} sent with stale values`);
        }
        if (blocked) checked.set(id, (checked.get(id) ?? 0) + 1);
        if (id === 1 && !blocked && sim!.connections().every((c) => c.subscriptions.size > 0)) {
          // A slow step: the other connections' timers are armed only after this, so the next step
          // comes due before their frames of this step are sent.
          blocked = true;
          const end = performance.now() + 3 * interval;
          while (performance.now() < end);
        }
      },
    });
    sims.push(sim);
    await sim.start();
    const tokens = sim.instruments().map((i) => i.instrument_token);
    for (let k = 0; k < 3; k++) {
      const ws = new WebSocket(`${sim.url}/?api_key=sim_key_${k + 1}&access_token=sim_token_${k + 1}`);
      sockets.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      });
    }
    await until(() => sim.connections().length === 3, 'three connections');
    // All three subscribe in one go, so the blocking step is one where every connection has a frame.
    for (const ws of sockets) ws.send(JSON.stringify({ a: 'subscribe', v: tokens }));
    const deadline = Date.now() + 5000;
    while ([1, 2, 3].some((id) => (checked.get(id) ?? 0) < 5) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(blocked).toBe(true);
    expect([1, 2, 3].map((id) => (checked.get(id) ?? 0) >= 5)).toEqual([true, true, true]);
    expect(problems).toEqual([]);
  });

  it('simulator stagger - offsets depend only on seed and connection id, and spread evenly', () => {
    for (const seed of [1, 2, 99, 0xffff_ffff]) {
      const a = Array.from({ length: 9 }, (_, i) => staggerOffsetMs('spread', seed, i + 1, 1000));
      const b = Array.from({ length: 9 }, (_, i) => staggerOffsetMs('spread', seed, i + 1, 1000));
      expect(a).toEqual(b);
      for (const x of a) {
        expect(Number.isInteger(x)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(0);
        expect(x).toBeLessThan(1000);
      }
      // Nine sockets: no two closer than a third of an even share of the interval (circularly).
      const sorted = [...a].sort((x, y) => x - y);
      const gaps = sorted.map((x, i) => (i + 1 < sorted.length ? sorted[i + 1]! : sorted[0]! + 1000) - x);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / 9 / 3);
    }
    expect(staggerOffsetMs('spread', 1, 1, 1000)).not.toBe(staggerOffsetMs('spread', 2, 1, 1000));
    expect(staggerOffsetMs('none', 1, 5, 1000)).toBe(0);
  });

  it('simulator stagger - a bad value is a typed error', () => {
    expect(parseStagger(undefined)).toBe('spread');
    expect(() => parseStagger('sometimes')).toThrow(InvalidArgumentError);
    expect(() => new KiteSimulator({ stagger: 'sometimes' as 'none' })).toThrow(InvalidArgumentError);
  });
});
