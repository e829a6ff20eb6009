/**
 * MultiApiKiteTickerManager against real KiteTickerManagers, real sockets and the Kite simulator on a
 * loopback port. The simulator's view of each socket (api key, subscriptions) is the truth.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import {
  DistributionStrategy,
  type FailoverEvent,
  MultiApiKiteTickerManager,
  type MultiApiKiteTickerManagerBuilder,
  type UnplacedEvent,
} from '../../src/multi/index.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';

const CREDENTIALS = { key1: 'tok1', key2: 'tok2', key3: 'tok3' };
const ID_OF: Record<string, string> = { key1: 'a', key2: 'b', key3: 'c' };

let sim: KiteSimulator | undefined;
let manager: MultiApiKiteTickerManager | undefined;

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await sim?.stop();
  sim = undefined;
});

async function startSim(ticksPerSecond: number): Promise<KiteSimulator> {
  sim = new KiteSimulator({
    credentials: { ...CREDENTIALS },
    ticksPerSecond,
    batchIntervalMs: 100,
    heartbeatIntervalMs: 200,
  });
  await sim.start({ port: 0 });
  return sim;
}

function build(
  s: KiteSimulator,
  configure?: (b: MultiApiKiteTickerManagerBuilder) => void,
): MultiApiKiteTickerManager {
  const builder = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'key1', 'tok1')
    .addApiKey('b', 'key2', 'tok2')
    .addApiKey('c', 'key3', 'tok3')
    .url(s.url)
    .connectionTimeout(5000)
    .baseConfig({
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' },
      livenessTimeoutMs: 2000,
    });
  configure?.(builder);
  manager = builder.build();
  return manager;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function canonical(maps: Iterable<ReadonlyMap<number, Mode>>): string {
  return [...maps]
    .filter((m) => m.size > 0)
    .map((m) =>
      [...m]
        .sort((x, y) => x[0] - y[0])
        .map(([t, mode]) => `${t}:${mode}`)
        .join(','),
    )
    .sort()
    .join('|');
}

/** key id -> canonical subscriptions of its open sockets, as the simulator holds them. */
function simTruth(s: KiteSimulator): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [apiKey, id] of Object.entries(ID_OF)) {
    out[id!] = canonical(
      s
        .connections()
        .filter((c) => c.apiKey === apiKey)
        .map((c) => c.subscriptions),
    );
  }
  return out;
}

function managerTruth(m: MultiApiKiteTickerManager): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, conns] of m.getSymbolDistribution()) out[id] = canonical(conns.values());
  return out;
}

async function converged(s: KiteSimulator, m: MultiApiKiteTickerManager, what: string): Promise<void> {
  await waitFor(() => JSON.stringify(simTruth(s)) === JSON.stringify(managerTruth(m)), 8000, what);
}

describe('multi integration', () => {
  it('multi - 3 keys x 3 connections x 3000 = 27 000 tokens tick; simulator and stats agree', async () => {
    const s = await startSim(0.2);
    const m = build(s);
    await m.start();
    const universe = s.instruments().map((i) => i.instrument_token);
    const tokens = universe.slice(0, 27_000);
    const seen = new Set<number>();
    m.on('ticks', (ticks) => {
      for (const t of ticks) seen.add(t.instrument_token);
    });
    await m.subscribeSymbols(tokens.slice(0, 9000), 'ltp');
    await m.subscribeSymbols(tokens.slice(9000, 18_000), 'quote');
    await m.subscribeSymbols(tokens.slice(18_000), 'ltp');
    await converged(s, m, '27 000 on the simulator');
    const sizes = s.connections().map((c) => c.subscriptions.size);
    expect(sizes).toHaveLength(9);
    expect(sizes.every((n) => n === 3000)).toBe(true);
    const stats = m.getStats();
    expect(stats).toMatchObject({
      totalApiKeys: 3,
      totalConnections: 9,
      totalSymbols: 27_000,
      unplacedSymbols: 0,
    });
    expect(stats.perApiStats.map((k) => k.totalSymbols)).toEqual([9000, 9000, 9000]);
    await waitFor(() => seen.size === 27_000, 10_000, 'a tick from every token');

    // Full: one more token is refused, with "capacity" in the message, and nothing is sent.
    const error = await m.subscribeSymbols([universe[27_000]!]).catch((e: Error) => e);
    expect(error).toMatchObject({ code: ErrorCode.Capacity });
    expect((error as Error).message).toContain('capacity');

    // Quiet point: unsubscribe everything, let the in-flight frames land, then count both sides.
    await m.unsubscribeSymbols(tokens);
    await converged(s, m, 'everything unsubscribed');
    const sent = (): number => s.connections().reduce((n, c) => n + c.ticksSent, 0);
    await waitFor(() => m.getStats().totalTicks === sent(), 5000, 'tick counts to agree');
    const final = m.getStats();
    expect(final.totalTicks).toBe(sent());
    expect(final.totalTicks).toBeGreaterThanOrEqual(27_000);
    expect(final.perApiStats.reduce((n, k) => n + k.totalTicks, 0)).toBe(final.totalTicks);
    expect(final.totalMessagesReceived).toBeGreaterThan(0);
    expect(final.totalSymbols).toBe(0);
  });

  it('multi - manual and round-robin placement, moves, unsubscribe and modes match the simulator', async () => {
    const s = await startSim(0.5);
    const universe = s.instruments().map((i) => i.instrument_token);
    const t = (i: number): number => universe[i]!;
    const m = build(s, (b) => b.maxConnectionsPerApi(2).maxSymbolsPerConnection(20));
    await m.start();
    // Round-robin: 30 -> 10 per key.
    await m.subscribeSymbols(universe.slice(0, 30), 'quote');
    await converged(s, m, 'round-robin');
    expect(m.getStats().perApiStats.map((k) => k.totalSymbols)).toEqual([10, 10, 10]);
    // Manual onto one key, mixed modes.
    await m.subscribeSymbolsToApi('c', universe.slice(30, 40), 'full');
    await converged(s, m, 'manual');
    // Move a token from its owner to another key: on exactly one key afterwards.
    const owner = m.getDesiredState().get(t(0))!.apiKeyId!;
    const target = owner === 'a' ? 'b' : 'a';
    await m.subscribeSymbolsToApi(target, [t(0)]);
    await converged(s, m, 'move');
    const holders = s.connections().filter((c) => c.subscriptions.has(t(0)));
    expect(holders.map((c) => ID_OF[c.apiKey])).toEqual([target]);
    expect(holders[0]!.subscriptions.get(t(0))).toBe('quote');
    // Unsubscribe and mode changes across keys.
    await m.unsubscribeSymbols([t(1), t(2), t(35)]);
    await m.changeMode([t(3), t(4), t(5), t(36)], 'ltp');
    await converged(s, m, 'unsubscribe + mode');
    expect(s.connections().some((c) => c.subscriptions.has(t(1)))).toBe(false);
    // Capacity of one key (40) and overall (120).
    await expect(m.subscribeSymbolsToApi('c', universe.slice(100, 125))).rejects.toThrow('capacity');
    await expect(m.subscribeSymbols(universe.slice(200, 300))).rejects.toThrow('capacity');
    await converged(s, m, 'nothing changed by refused calls');
    expect(m.getStats().totalSymbols).toBe(37);
  });

  it('multi - a revoked key fails over: tokens move, ticks resume, the rest is unplaced until the token rotates', async () => {
    const s = await startSim(2);
    const m = build(s, (b) => b.maxConnectionsPerApi(2).maxSymbolsPerConnection(50).failoverAfter(3000));
    await m.start();
    const universe = s.instruments().map((i) => i.instrument_token);
    const tokens = universe.slice(0, 240); // 80 per key; 20 free on each
    await m.subscribeSymbols(tokens, 'ltp');
    await m.changeMode(tokens.slice(0, 20), 'full');
    await converged(s, m, 'initial');
    const ownedByA = [...m.getDesiredState()].filter(([, e]) => e.apiKeyId === 'a').map(([tok]) => tok);
    expect(ownedByA).toHaveLength(80);

    const failovers: FailoverEvent[] = [];
    const unplaced: UnplacedEvent[] = [];
    m.on('failover', (e) => failovers.push(e));
    m.on('unplaced', (e) => unplaced.push(e));
    const tickedAfter = new Set<number>();
    let armed = false;
    m.on('ticks', (ticks, apiKeyId) => {
      if (!armed || apiKeyId === 'a') return;
      for (const tick of ticks) tickedAfter.add(tick.instrument_token);
    });
    s.revokeToken('key1');
    await waitFor(() => failovers.length === 1, 5000, 'failover');
    armed = true;
    expect(failovers[0]).toMatchObject({ apiKeyId: 'a', reason: 'auth_failed' });
    const moved = [...failovers[0]!.moved.values()].flat();
    expect(moved).toHaveLength(40);
    expect(failovers[0]!.unplaced).toHaveLength(40);
    expect(unplaced[0]!.totalUnplaced).toBe(40);
    expect(m.getStats()).toMatchObject({ unplacedSymbols: 40, totalSymbols: 200 });
    expect(m.getApiStats('a')).toMatchObject({ state: 'failed', failureReason: 'auth_failed' });
    await converged(s, m, 'after failover');
    // Modes travel with the tokens.
    const desired = m.getDesiredState();
    for (const tok of moved) expect(desired.get(tok)!.mode).toBe(tokens.indexOf(tok) < 20 ? 'full' : 'ltp');
    // Ticks resume for the moved tokens on their new keys.
    await waitFor(() => moved.every((tok) => tickedAfter.has(tok)), 5000, 'moved tokens to tick');

    // Rotate the token: key a reconnects and takes the 40 waiting tokens.
    s.setAccessToken('key1', 'tok1-new');
    await m.updateAccessToken('a', 'tok1-new');
    await waitFor(() => m.getStats().unplacedSymbols === 0, 8000, 'unplaced tokens placed');
    expect(m.getApiStats('a')).toMatchObject({ state: 'active', totalSymbols: 40 });
    await converged(s, m, 'after rotation');
    const onSim = new Set(s.connections().flatMap((c) => [...c.subscriptions.keys()]));
    expect(tokens.every((tok) => onSim.has(tok))).toBe(true);
    expect(JSON.stringify(m.getStats())).not.toContain('tok1');
  });

  it('multi - a key unreachable past failoverAfter fails over and takes tokens again once it reconnects', async () => {
    const s = await startSim(1);
    const m = build(s, (b) => b.maxConnectionsPerApi(1).maxSymbolsPerConnection(30).failoverAfter(300));
    await m.start();
    const universe = s.instruments().map((i) => i.instrument_token);
    await m.subscribeSymbols(universe.slice(0, 60)); // 20 per key, 10 free each
    const events: string[] = [];
    m.on('failover', (e) => events.push(`failover:${e.apiKeyId}:${e.reason}:${e.unplaced.length}`));
    m.on('recovered', (id) => events.push(`recovered:${id}`));
    s.refuseUpgrades(503, 1200, 'key2');
    s.dropConnection({ apiKey: 'key2' });
    await waitFor(() => events.length === 1, 3000, 'unreachable failover');
    expect(events).toEqual(['failover:b:unreachable:0']);
    expect(m.getStats().perApiStats.map((k) => k.totalSymbols)).toEqual([30, 0, 30]);
    await converged(s, m, 'after unreachable failover');
    await waitFor(() => events.length === 2, 5000, 'recovery');
    expect(events[1]).toBe('recovered:b');
    expect(m.getApiStats('b')).toMatchObject({ state: 'active', availableCapacity: 30 });
    await m.subscribeSymbols(universe.slice(100, 110));
    expect(m.getApiStats('b').totalSymbols).toBe(10);
    await converged(s, m, 'new tokens on the recovered key');
  });

  it('multi - an order update sent to every socket of two keys reaches consumers once', async () => {
    const s = await startSim(0.5);
    const m = build(s, (b) => b.distributionStrategy(DistributionStrategy.Manual));
    await m.start();
    const universe = s.instruments().map((i) => i.instrument_token);
    // Open a second socket on key a so the update arrives there twice as well.
    await m.subscribeSymbolsToApi('a', universe.slice(0, 3001));
    const orders: string[] = [];
    m.on('order', (o) => orders.push(`${o.order_id}:${o.status}`));
    const channel = m.getUnifiedChannel();
    const update = { order_id: '42', status: 'COMPLETE', filled_quantity: 1, exchange_update_timestamp: 'x' };
    s.sendOrderUpdate('key1', update);
    s.sendOrderUpdate('key2', update);
    s.sendOrderUpdate('key3', { ...update, status: 'CANCELLED' });
    await waitFor(() => orders.length === 2, 3000, 'orders');
    await new Promise((r) => setTimeout(r, 100));
    expect(orders.sort()).toEqual(['42:CANCELLED', '42:COMPLETE']);
    let orderMessages = 0;
    for (let msg = channel.tryReceive(); msg; msg = channel.tryReceive())
      if (msg.message.type === 'order') orderMessages++;
    expect(orderMessages).toBe(2);
    // One de-duplicator for every socket of every key: key a's second socket's copy and key b's copy
    // are both dropped, each counted for the key that brought it.
    const stats = m.getStats();
    expect(stats.duplicateOrders).toBe(2);
    expect(stats.perApiStats.find((k) => k.apiKeyId === 'a')?.duplicateOrders).toBe(1);
  });
});
