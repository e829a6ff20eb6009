import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { FrameView } from '../../src/protocol/index.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { monotonicMs, stampedMs } from '../../src/simulator/stamp.js';

const sims: KiteSimulator[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(sims.splice(0).map((s) => s.stop()));
});

/** The first binary tick frame (not a heartbeat) of a full-mode subscription to a tradable instrument. */
async function firstFrame(stampSendTime: boolean): Promise<{ frame: Buffer; received: number }> {
  const sim = new KiteSimulator({ stampSendTime, universeSize: 50, batchIntervalMs: 20, ticksPerSecond: 50 });
  sims.push(sim);
  await sim.start();
  const token = sim.instruments().find((i) => i.segment !== 'INDICES')!.instrument_token;
  const ws = new WebSocket(`${sim.url}/?api_key=sim_key_1&access_token=sim_token_1`, {
    perMessageDeflate: false,
  });
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(JSON.stringify({ a: 'subscribe', v: [token] }));
      ws.send(JSON.stringify({ a: 'mode', v: ['full', [token]] }));
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      const received = monotonicMs();
      if (!isBinary || data.length < 2) return;
      const view = new FrameView().reset(data);
      if (view.count > 0 && view.length(0) === 184) resolve({ frame: data, received });
    });
  });
}

describe('simulator stampSendTime', () => {
  it('simulator - stampSendTime carries the monotonic send time in full packets', async () => {
    const before = monotonicMs();
    const { frame, received } = await firstFrame(true);
    const view = new FrameView().reset(frame);
    const sent = stampedMs(view.lastTradeTime(0), view.oi(0));
    expect(sent).toBeGreaterThan(before);
    expect(sent).toBeLessThanOrEqual(received);
  });

  it('simulator - without the option last_trade_time stays a market time (Unix seconds)', async () => {
    const { frame } = await firstFrame(false);
    const view = new FrameView().reset(frame);
    expect(Math.abs(view.lastTradeTime(0) - Date.now() / 1000)).toBeLessThan(24 * 3600);
  });
});
