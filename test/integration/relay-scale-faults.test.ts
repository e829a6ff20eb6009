/**
 * The relay's client-side faults at scale: 1,000 clients connecting at once, a client that never reads
 * among 50 others, clients vanishing in the middle of a frame (theirs or the relay's). Each is bounded
 * in time; each checks that the others are served as before.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../../bench/lib/histogram.js';
import { benchClients, planClients } from '../../bench/lib/relay-plan.js';
import type { KiteRelayOptions } from '../../src/relay/options.js';
import { KiteRelay } from '../../src/relay/relay.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import type { SimulatorOptions } from '../../src/simulator/types.js';
import { simHoldings, waitFor } from './relay-helpers.js';
import {
  clientFrame,
  connectLite,
  type LiteClient,
  percentile,
  rawClient,
  subscribe,
} from './relay-load-helpers.js';

let stop: (() => Promise<void>) | undefined;
const open: LiteClient[] = [];
const raw: { destroy(): void }[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  for (const s of raw.splice(0)) s.destroy();
  await stop?.();
  stop = undefined;
});

async function rig(sim: SimulatorOptions, relayOptions: Partial<KiteRelayOptions>, clients: number) {
  const s = new KiteSimulator({ seed: 17, batchIntervalMs: 100, ...sim });
  await s.start();
  const relay = new KiteRelay({
    clients: benchClients(clients),
    port: 0,
    lingerMs: 200,
    upstream: { apiKeys: [{ id: 'k1', apiKey: 'sim_key_1', accessToken: 'sim_token_1' }], url: s.url },
    ...relayOptions,
  });
  await relay.start();
  stop = async () => {
    await relay.stop();
    await s.stop();
  };
  const universe = s.instruments().map((i) => i.instrument_token);
  return { sim: s, relay, universe };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('relay client faults at scale', () => {
  it('relay - 1,000 clients connecting at once are all accepted and served, in bounded time and memory', async () => {
    const { relay, universe } = await rig({ universeSize: 2000, ticksPerSecond: 1 }, {}, 1000);
    const plan = planClients(universe, 1000, 5);
    const rss0 = process.memoryUsage().rss;
    const started = performance.now();
    const creds = benchClients(1000);
    const results = await Promise.allSettled(creds.map((c) => connectLite(relay.url, c.id, c.accessToken)));
    const acceptedAllMs = performance.now() - started;
    const clients = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    open.push(...clients);
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(refused).toEqual([]);
    expect(relay.stats().connections).toBe(1000);
    const openMs = clients.map((c) => c.openMs);
    const p50 = percentile(openMs, 50);
    const p99 = percentile(openMs, 99);
    console.info(
      `relay accept storm: 1000 clients in ${acceptedAllMs.toFixed(0)} ms; time to open p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms`,
    );
    // Bounded, not fast: on a shared 2-core machine the 1,000 client handshakes of this same process
    // dominate (bench:relay measures the storm with the clients in their own process).
    expect(p99).toBeLessThan(20_000);

    // Served: each one gets every one of its 5 instruments (overlapping: 1,000 x 5 over 2,000).
    for (const [i, c] of clients.entries()) subscribe(c.ws, plan[i]!, 'ltp');
    await waitFor(
      () => clients.every((c, i) => c.seen.size >= plan[i]!.length),
      15_000,
      'every client served',
    );
    for (const [i, c] of clients.entries()) expect(c.seen, `client ${i}`).toEqual(new Set(plan[i]));
    // Memory bounded: both ends of 1,000 sockets, the relay's sessions and the clients' records.
    expect(process.memoryUsage().rss - rss0).toBeLessThan(400 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(40_000);
  }, 90_000);

  it("relay - a client that never reads is dropped, then disconnected; the 50 others' latency and ticks are unaffected", async () => {
    const { relay, universe } = await rig(
      { universeSize: 1000, ticksPerSecond: 2, stampSendTime: true },
      { sendBufferBytes: 64 * 1024, maxSendBufferBytes: 256 * 1024, slowClientTimeoutMs: 5000 },
      51,
    );
    const tokens = universe.slice(0, 1000);
    const plan = planClients(tokens, 50, 100);
    const hist = new LatencyHistogram();
    const creds = benchClients(51);
    const others = await Promise.all(
      creds.slice(0, 50).map((c) => connectLite(relay.url, c.id, c.accessToken, hist)),
    );
    open.push(...others);
    for (const [i, c] of others.entries()) subscribe(c.ws, plan[i]!, 'full');
    await waitFor(() => others.every((c, i) => c.seen.size >= plan[i]!.length), 10_000, 'others served');

    const measure = async () => {
      hist.reset();
      const ticks0 = others.map((c) => c.ticks);
      await sleep(2500);
      return { p99: hist.percentile(99), least: Math.min(...others.map((c, i) => c.ticks - ticks0[i]!)) };
    };
    const without = await measure();

    // The never-reader: every instrument in full, then its socket stops reading for good.
    const nr = await rawClient(relay.port, creds[50]!.id, creds[50]!.accessToken);
    raw.push(nr.socket);
    nr.socket.write(clientFrame(Buffer.from(JSON.stringify({ a: 'subscribe', v: tokens }))));
    nr.socket.write(clientFrame(Buffer.from(JSON.stringify({ a: 'mode', v: ['full', tokens] }))));
    nr.socket.pause();
    const slowStats = () => relay.stats().clients.find((c) => c.clientId === creds[50]!.id);
    // It is really backlogged: frames wait in the relay and the oldest are being dropped.
    await waitFor(() => (slowStats()?.droppedFrames ?? 0) > 0, 15_000, 'the never-reader to drop frames');
    const withIt = await measure();
    const backlog = slowStats();
    console.info(
      `relay never-reader: others' p99 ${without.p99.toFixed(2)} ms without, ${withIt.p99.toFixed(2)} ms with it; its queue ${backlog?.queuedBytes} bytes, ${backlog?.droppedFrames} frames dropped`,
    );
    // Its memory is bounded by the soft limit plus the socket's low-water mark and one frame.
    expect(backlog!.queuedBytes).toBeLessThan(64 * 1024 + 32 * 1024 + 200 * 1000);
    // The others: as fast as before, never dropped, still fed. The margin is for a shared 2-core machine
    // (p99 swings by tens of ms there); a relay that made them wait on the never-reader is off by seconds.
    expect(withIt.p99).toBeLessThan(without.p99 * 3 + 100);
    expect(withIt.least).toBeGreaterThan(without.least / 2);
    for (const c of relay.stats().clients) if (c.clientId !== creds[50]!.id) expect(c.droppedFrames).toBe(0);

    // Backlogged past slowClientTimeoutMs: disconnected with a reason, the others untouched.
    await waitFor(() => relay.stats().slowDisconnects === 1, 15_000, 'the never-reader to be disconnected');
    expect(relay.stats().connections).toBe(50);
    expect(others.every((c) => c.ws.readyState === c.ws.OPEN)).toBe(true);
  }, 60_000);

  it('relay - clients vanishing mid-frame (half a command sent, or reset while the relay writes) leave the relay serving the rest', async () => {
    const { sim, relay, universe } = await rig({ universeSize: 2000, ticksPerSecond: 2 }, {}, 30);
    const steadyTokens = universe.slice(0, 100);
    const creds = benchClients(30);
    const steady = await connectLite(relay.url, creds[0]!.id, creds[0]!.accessToken);
    open.push(steady);
    subscribe(steady.ws, steadyTokens, 'quote');
    await waitFor(() => steady.seen.size >= 100, 10_000, 'steady client served');

    // Half of a subscribe frame, then a TCP reset: the relay never gets the rest of the frame.
    for (let i = 1; i <= 10; i++) {
      const c = await rawClient(relay.port, creds[i]!.id, creds[i]!.accessToken);
      raw.push(c.socket);
      const frame = clientFrame(Buffer.from(JSON.stringify({ a: 'subscribe', v: universe.slice(0, 1500) })));
      c.socket.write(frame.subarray(0, frame.length >> 1));
      await sleep(20);
      c.socket.resetAndDestroy();
    }
    // Subscribed to 1,500 instruments in full (frames of ~90 KB every 100 ms), then reset while frames
    // are being written to them.
    for (let i = 11; i < 30; i++) {
      const c = await rawClient(relay.port, creds[i]!.id, creds[i]!.accessToken);
      raw.push(c.socket);
      const v = universe.slice(i * 10, i * 10 + 1500);
      c.socket.write(clientFrame(Buffer.from(JSON.stringify({ a: 'subscribe', v }))));
      c.socket.write(clientFrame(Buffer.from(JSON.stringify({ a: 'mode', v: ['full', v] }))));
      await waitFor(() => c.received() > 200_000, 10_000, `client ${i} to receive frames`);
      c.socket.resetAndDestroy();
    }
    await waitFor(() => relay.stats().connections === 1, 10_000, 'the vanished clients to be gone');
    const stats = relay.stats();
    expect(stats.wantedTokens).toBe(100);
    // The upstream shrinks back to the steady client's instruments after the linger.
    await waitFor(() => simHoldings(sim).size === 100, 10_000, 'upstream back to the steady set');
    // And the steady client is still served, all of its instruments, nothing else.
    steady.seen.clear();
    await waitFor(() => steady.seen.size >= 100, 10_000, 'steady client still served');
    expect(steady.seen).toEqual(new Set(steadyTokens));
    expect(steady.ws.readyState).toBe(steady.ws.OPEN);
  }, 60_000);
});
