/**
 * The relay at (CI-sized) scale: 50 clients x 500 overlapping instruments over 9,000 upstream
 * instruments on 3 keys, and one client holding all 9,000 on one socket (Kite's limit is 3,000). The
 * full sizes (200 x 500 over 27,000; 1 x 27,000) are `npm run bench:relay` modes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { benchClients, planClients, unionOf } from '../../bench/lib/relay-plan.js';
import { MultiApiKiteTickerManager } from '../../src/manager/manager.js';
import type { Mode } from '../../src/protocol/constants.js';
import type { RelayManager } from '../../src/relay/options.js';
import { KiteRelay } from '../../src/relay/relay.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { simHoldings, waitFor } from './relay-helpers.js';
import { connectLite, type LiteClient, subscribe } from './relay-load-helpers.js';

const UNIVERSE = 9000;
const MODES: Mode[] = ['ltp', 'quote', 'full'];
const RANK: Record<Mode, number> = { ltp: 0, quote: 1, full: 2 };
/** Packet lengths a client in each mode may receive (tradable, then index packets). */
const LENGTHS: Record<Mode, number[]> = { ltp: [8], quote: [44, 28], full: [184, 32] };

let stop: (() => Promise<void>) | undefined;
const open: LiteClient[] = [];

afterEach(async () => {
  for (const c of open.splice(0)) c.ws.terminate();
  await stop?.();
  stop = undefined;
});

/** Simulator (1 tick/s per instrument: each one ticks every second) and a relay over 3 keys x 3 x 1000. */
async function rig(clients: number) {
  const sim = new KiteSimulator({
    universeSize: UNIVERSE,
    seed: 17,
    ticksPerSecond: 1,
    batchIntervalMs: 100,
  });
  await sim.start();
  const builder = MultiApiKiteTickerManager.builder()
    .maxConnectionsPerApi(3)
    .maxSymbolsPerConnection(1000)
    .rawFrames(true)
    .latestQuotes(false)
    .url(sim.url);
  for (let k = 1; k <= 3; k++) builder.addApiKey(`k${k}`, `sim_key_${k}`, `sim_token_${k}`);
  const manager = builder.build() as unknown as RelayManager;
  await manager.start();
  const relay = new KiteRelay({ clients: benchClients(clients), manager, port: 0, lingerMs: 200 });
  await relay.start();
  stop = async () => {
    await relay.stop();
    await manager.stop();
    await sim.stop();
  };
  const universe = sim
    .instruments()
    .slice(0, UNIVERSE)
    .map((i) => i.instrument_token);
  return { sim, relay, universe };
}

async function connectAll(url: string, n: number): Promise<LiteClient[]> {
  const creds = benchClients(n);
  const list = await Promise.all(creds.map((c) => connectLite(url, c.id, c.accessToken)));
  open.push(...list);
  return list;
}

/** Starts each client's record afresh. */
function forget(clients: readonly LiteClient[]): void {
  for (const c of clients) {
    c.seen.clear();
    c.lengths.clear();
  }
}

/** Every client has seen each of its tokens at least once. */
function allSeen(clients: readonly LiteClient[], plan: readonly (readonly number[])[]): boolean {
  return clients.every((c, i) => c.seen.size >= plan[i]!.length);
}

describe('relay at scale', () => {
  it('relay - 50 clients x 500 overlapping instruments over 9,000 upstream on 3 keys: each gets exactly its own, upstream holds the union once at the max mode', async () => {
    const started = Date.now();
    const { sim, relay, universe } = await rig(50);
    const plan = planClients(universe, 50, 500);
    const union = unionOf(plan);
    expect(union.size).toBe(UNIVERSE);
    const clients = await connectAll(relay.url, 50);
    const modeOf = (i: number) => MODES[i % 3]!;
    for (const [i, c] of clients.entries()) subscribe(c.ws, plan[i]!, modeOf(i));
    const wanted = new Map<number, Mode>();
    plan.forEach((tokens, i) => {
      for (const t of tokens) {
        const m = wanted.get(t);
        if (!m || RANK[modeOf(i)] > RANK[m]) wanted.set(t, modeOf(i));
      }
    });

    await waitFor(() => simHoldings(sim).size === UNIVERSE, 15_000, 'upstream union');
    await relay.upstreamIdle();
    const held = simHoldings(sim);
    for (const [t, mode] of wanted) {
      expect(held.get(t), `token ${t}`).toEqual({ count: 1, mode });
    }
    // Placed over all three keys (3 x 3 x 1000 = 9000: the union fills them exactly).
    const keys = new Set(
      sim
        .connections()
        .filter((c) => c.subscriptions.size > 0)
        .map((c) => c.apiKey),
    );
    expect(keys).toEqual(new Set(['sim_key_1', 'sim_key_2', 'sim_key_3']));

    await waitFor(() => allSeen(clients, plan), 15_000, 'every client to see each of its instruments');
    // From here on every mode command has applied (the first packets of a subscribe are Kite's quote).
    forget(clients);
    await waitFor(() => allSeen(clients, plan), 15_000, 'a second round of every instrument');
    clients.forEach((c, i) => {
      expect(c.seen, `client ${i}`).toEqual(new Set(plan[i]));
      for (const len of c.lengths) expect(LENGTHS[modeOf(i)], `client ${i} (${modeOf(i)})`).toContain(len);
    });
    const stats = relay.stats();
    expect(stats.connections).toBe(50);
    expect(stats.droppedFrames).toBe(0);

    // Everyone leaves: after the linger the upstream holds nothing.
    for (const c of open.splice(0)) c.ws.close();
    await waitFor(() => relay.upstreamSubscriptions().size === 0, 10_000, 'upstream to empty');
    await relay.upstreamIdle();
    await waitFor(() => simHoldings(sim).size === 0, 10_000, 'simulator to hold nothing');
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 45_000);

  it('relay - one client with 9,000 instruments on one socket (3x Kite limit) gets every one; upstream spreads them over 3 keys', async () => {
    const { sim, relay, universe } = await rig(1);
    const [c] = await connectAll(relay.url, 1);
    subscribe(c!.ws, universe, 'full');
    await waitFor(() => c!.seen.size >= UNIVERSE, 15_000, 'all 9000 instruments');
    forget([c!]);
    await waitFor(() => c!.seen.size >= UNIVERSE, 15_000, 'a second round of all 9000');
    expect(c!.seen).toEqual(new Set(universe));
    expect([...c!.lengths].every((l) => LENGTHS.full.includes(l))).toBe(true);
    const held = simHoldings(sim);
    expect(held.size).toBe(UNIVERSE);
    expect([...held.values()].every((h) => h.count === 1 && h.mode === 'full')).toBe(true);
    const perKey = new Map<string, number>();
    for (const conn of sim.connections())
      perKey.set(conn.apiKey, (perKey.get(conn.apiKey) ?? 0) + conn.subscriptions.size);
    expect([...perKey.values()].sort()).toEqual([3000, 3000, 3000]);
    expect(relay.stats().clients[0]!.subscriptions).toBe(UNIVERSE);
  }, 45_000);
});
