import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Rig, startRig, type TestClient, waitFor } from './relay-helpers.js';

let rig: Rig | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await rig?.stop();
  rig = undefined;
});

describe('relay isolation', () => {
  it('relay - a client that never reads is bounded, drops its oldest frames, is disconnected with a reason; others are not delayed', async () => {
    // ~2000 full instruments at 10 ticks/s: some 3.7 MB/s, enough to fill a paused socket quickly.
    rig = await startRig(
      { universeSize: 2000, ticksPerSecond: 10, batchIntervalMs: 50 },
      { sendBufferBytes: 256 * 1024, maxSendBufferBytes: 64 * 1024 * 1024, slowClientTimeoutMs: 2500 },
    );
    const tokens = rig.sim.instruments().map((i) => i.instrument_token);
    const fast = await connect(rig.relay.url, 'alpha', 'alpha-token-123');
    const slow = await connect(rig.relay.url, 'beta', 'beta-token-456');
    clients.push(fast, slow);
    for (const c of [fast, slow]) {
      c.send({ a: 'subscribe', v: tokens });
      c.send({ a: 'mode', v: ['full', tokens] });
    }
    await waitFor(() => slow.frames.length > 0 && fast.frames.length > 0, 8000, 'first frames');
    slow.ws.pause(); // never reads again (until the end)

    // Watch the fast client's gaps while the slow one backs up.
    let last = Date.now();
    let worstGap = 0;
    fast.ws.on('message', () => {
      const now = Date.now();
      worstGap = Math.max(worstGap, now - last);
      last = now;
    });
    const relayStats = () => rig!.relay.stats();
    const slowStats = () => relayStats().clients.find((c) => c.clientId === 'beta');
    // What the relay holds for the slow client, sampled until it is disconnected.
    let worstQueued = 0;
    let worstBuffered = 0;
    let worstLag = 0;
    const sampler = setInterval(() => {
      const s = slowStats();
      if (!s) return;
      worstQueued = Math.max(worstQueued, s.queuedBytes);
      worstBuffered = Math.max(worstBuffered, s.socketBufferedBytes);
      worstLag = Math.max(worstLag, s.lagMs);
    }, 20);
    await waitFor(() => (slowStats()?.droppedFrames ?? 0) > 0, 15_000, 'drops for the slow client');
    await waitFor(() => relayStats().slowDisconnects === 1, 15_000, 'slow client disconnected');
    clearInterval(sampler);
    // Bounded: the soft limit plus the newest frame (one upstream frame of 2000 full packets is ~372 KB),
    // and the socket is fed only below half the soft limit.
    const frameBytes = 2000 * 186 + 2;
    expect(worstQueued).toBeGreaterThan(0);
    expect(worstQueued).toBeLessThanOrEqual(256 * 1024 + frameBytes);
    expect(worstBuffered).toBeLessThanOrEqual(128 * 1024 + frameBytes);
    expect(worstLag).toBeGreaterThan(0);
    expect(relayStats().clients.map((c) => c.clientId)).toEqual(['alpha']);
    expect(relayStats().droppedFrames).toBeGreaterThan(0);
    expect(fast.texts).toEqual([]);
    expect(fast.ws.readyState).toBe(1);
    expect(worstGap).toBeLessThan(1000);
    const before = fast.frames.length;
    await waitFor(() => fast.frames.length > before + 10, 8000, 'fast client still served');

    // The slow client, reading at last, finds the close frame and its reason behind its backlog.
    slow.ws.resume();
    const closed = await slow.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^too slow: backlogged for over 2500 ms/);
  }, 60_000);
});
