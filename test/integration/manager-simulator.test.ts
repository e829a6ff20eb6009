/**
 * KiteTickerManager against the real KiteTicker and the Kite simulator on a loopback port.
 * The simulator's view of each socket (its subscriptions) is the truth the manager must match.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CapacityError } from '../../src/errors.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import type { KiteTickerManagerOptions } from '../../src/manager/types.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';

const API_KEY = 'mgr_key';
const TOKEN = 'mgr_token';

let sim: KiteSimulator;
let manager: KiteTickerManager | undefined;
let universe: number[];

beforeEach(async () => {
  // Slow market: thousands of instruments, but few ticks, so two shared cores stay free.
  sim = new KiteSimulator({
    credentials: { [API_KEY]: TOKEN },
    ticksPerSecond: 0.5,
    batchIntervalMs: 50,
    heartbeatIntervalMs: 200,
  });
  await sim.start({ port: 0 });
  universe = sim.instruments().map((i) => i.instrument_token);
});

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await sim.stop();
});

function startManager(options: KiteTickerManagerOptions = {}): KiteTickerManager {
  manager = new KiteTickerManager(API_KEY, TOKEN, {
    url: sim.url,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' },
    livenessTimeoutMs: 2000,
    connectionTimeoutMs: 5000,
    ...options,
  });
  return manager;
}

async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Each open socket's subscriptions as a canonical string, sorted: comparable across both sides. */
function canonical(maps: Iterable<ReadonlyMap<number, Mode>>): string[] {
  return [...maps]
    .map((m) =>
      [...m.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([t, mode]) => `${t}:${mode}`)
        .join(','),
    )
    .sort();
}

function simTruth(): string[] {
  return canonical(
    sim
      .connections()
      .filter((c) => c.apiKey === API_KEY)
      .map((c) => c.subscriptions),
  );
}

function managerTruth(m: KiteTickerManager): string[] {
  return canonical(m.getSymbolDistribution().values());
}

async function converged(m: KiteTickerManager, what: string): Promise<void> {
  await waitFor(() => simTruth().join('|') === managerTruth(m).join('|'), 5000, what);
}

describe('manager integration', () => {
  it('manager - 9000 tokens in one call land as 3 x 3000; the 9001st subscribes nothing', async () => {
    const m = startManager();
    await m.start();
    const tokens = universe.slice(0, 9000);
    await m.subscribeSymbols(tokens, 'ltp');
    await waitFor(
      () => {
        const sizes = sim
          .connections()
          .filter((c) => c.apiKey === API_KEY)
          .map((c) => c.subscriptions.size);
        return sizes.length === 3 && sizes.every((s) => s === 3000);
      },
      10_000,
      '3 x 3000 on the simulator',
    );
    expect(sim.keyInfo(API_KEY).openConnections).toBe(3);
    expect(m.availableCapacity()).toBe(0);

    const before = simTruth();
    const commandsBefore = sim.keyInfo(API_KEY).commands.length;
    // One new token plus a mode change of an existing one: the whole call must be refused.
    const error = await m.subscribeSymbols([universe[9000]!, tokens[0]!], 'full').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CapacityError);
    expect((error as CapacityError).available).toBe(0);
    await new Promise((r) => setTimeout(r, 100));
    expect(sim.keyInfo(API_KEY).commands.length).toBe(commandsBefore);
    expect(simTruth()).toEqual(before);
    expect(sim.keyInfo(API_KEY).openConnections).toBe(3);
  });

  it('manager - unsubscribe, resubscribe and mode changes keep the simulator and the distribution equal', async () => {
    const m = startManager({ maxSymbolsPerConnection: 50 });
    await m.start();
    const t = universe.slice(0, 140);
    await m.subscribeSymbols(t.slice(0, 120), 'quote');
    await converged(m, 'initial subscribe');
    expect([...m.getSymbolDistribution().values()].map((x) => x.size)).toEqual([50, 50, 20]);

    await m.unsubscribeSymbols([...t.slice(10, 30), 999_999_999]);
    await converged(m, 'unsubscribe');
    await m.changeMode(t.slice(0, 5), 'full');
    await m.changeMode(t.slice(60, 70), 'ltp');
    await converged(m, 'mode change');
    // Resubscribe: fills the gap on connection 0 first; mixed with existing tokens in a new mode.
    await m.subscribeSymbols([...t.slice(10, 40), ...t.slice(0, 3)], 'ltp');
    await converged(m, 'resubscribe');
    const dist = m.getSymbolDistribution();
    expect(dist.get(0)!.size).toBe(50);
    expect(dist.get(0)!.get(t[0]!)).toBe('ltp');
    expect(dist.get(0)!.get(t[4]!)).toBe('full');
    expect(m.getStats().totalSymbols).toBe(120);
  });

  it('manager - a dropped connection comes back with its exact tokens and modes while the others tick', async () => {
    const m = startManager({ maxSymbolsPerConnection: 20 });
    const ticksBy = [0, 0, 0];
    m.on('ticks', (ticks, _apiKeyId, index) => {
      ticksBy[index] = (ticksBy[index] ?? 0) + ticks.length;
    });
    await m.start();
    const t = universe.slice(0, 60);
    await m.subscribeSymbols(t.slice(0, 40), 'full');
    await m.subscribeSymbols(t.slice(40, 60), 'ltp');
    await m.changeMode(t.slice(20, 25), 'ltp');
    await converged(m, 'initial');
    const victimToken = t[25]!; // on connection 1
    const victim = sim.connections().find((c) => c.subscriptions.has(victimToken))!;
    const expected = canonical([victim.subscriptions])[0];
    await waitFor(() => ticksBy.every((n) => n > 0), 8000, 'ticks on every connection');

    const othersBefore = [ticksBy[0]!, ticksBy[2]!];
    const reconnectsBefore = m.getStats().totalReconnects;
    sim.dropConnection(victim.id);
    await waitFor(
      () => {
        const back = sim.connections().find((c) => c.subscriptions.has(victimToken));
        return back !== undefined && back.id !== victim.id && canonical([back.subscriptions])[0] === expected;
      },
      8000,
      'the dropped connection to come back',
    );
    await waitFor(() => m.getStats().totalReconnects > reconnectsBefore, 3000, 'reconnect counted');
    expect(sim.keyInfo(API_KEY).openConnections).toBe(3);
    await converged(m, 'after reconnect');
    await waitFor(
      () => ticksBy[0]! > othersBefore[0]! && ticksBy[2]! > othersBefore[1]!,
      5000,
      'the other connections to go on ticking',
    );
    await waitFor(() => m.getHealth().healthy, 3000, 'health to recover');
  });

  it('manager - stop ends for-await loops over every channel and leaves no active handles', async () => {
    const count = (type: string) => process.getActiveResourcesInfo().filter((r) => r === type).length;
    const baseSockets = count('TCPSocketWrap');
    const baseTimers = count('Timeout');
    const m = startManager({ maxSymbolsPerConnection: 5, healthCheckIntervalMs: 100 });
    await m.start();
    await m.subscribeSymbols(universe.slice(0, 15), 'quote');
    const channels = [m.getChannel(0)!, m.getChannel(1)!, m.getChannel(2)!, m.getMergedChannel()];
    const loops = channels.map(async (ch) => {
      let n = 0;
      for await (const _ of ch) n++;
      return n;
    });
    await waitFor(() => m.getStats().totalTicks > 0, 8000, 'ticks');
    expect(count('TCPSocketWrap')).toBeGreaterThan(baseSockets);
    await m.stop();
    const counts = await Promise.all(loops);
    expect(counts.length).toBe(4);
    expect(counts[3]).toBeGreaterThan(0);
    expect(channels.every((c) => c.closed)).toBe(true);
    // The client sockets are gone, and with them the simulator's per-socket timers.
    await waitFor(
      () => count('TCPSocketWrap') <= baseSockets && count('Timeout') <= baseTimers,
      3000,
      'handles to be released',
    );
    expect(sim.keyInfo(API_KEY).openConnections).toBe(0);
  });
  it('manager - an order update sent to every socket of the key reaches consumers once', async () => {
    const m = startManager({ maxSymbolsPerConnection: 2 });
    await m.start();
    await m.subscribeSymbols(universe.slice(0, 6), 'ltp');
    await waitFor(() => sim.keyInfo(API_KEY).openConnections === 3, 5000, '3 sockets');
    const orders: string[] = [];
    m.on('order', (o) => orders.push(`${o.order_id}:${o.status}`));
    const merged = m.getMergedChannel();
    const base = {
      order_id: 'X1',
      status: 'OPEN',
      filled_quantity: 0,
      exchange_update_timestamp: '2024-01-01 09:15:00',
    };
    sim.sendOrderUpdate(API_KEY, base);
    sim.sendOrderUpdate(API_KEY, { ...base, status: 'COMPLETE', filled_quantity: 1 });
    await waitFor(() => orders.length >= 2, 3000, 'order updates');
    await new Promise((r) => setTimeout(r, 150));
    expect(orders).toEqual(['X1:OPEN', 'X1:COMPLETE']);
    let orderMessages = 0;
    for (let msg = merged.tryReceive(); msg; msg = merged.tryReceive())
      if (msg.type === 'order') orderMessages++;
    expect(orderMessages).toBe(2);
  });

  it('manager - health shows auth_failed after a revoked token and recovers after updateAccessToken', async () => {
    const m = startManager();
    await m.start();
    await m.subscribeSymbols(universe.slice(0, 10), 'quote');
    sim.revokeToken(API_KEY);
    await waitFor(() => m.getHealth().connections[0]?.state === 'auth_failed', 5000, 'auth_failed');
    expect(m.getHealth().healthy).toBe(false);
    sim.setAccessToken(API_KEY, 'fresh_token');
    m.updateAccessToken('fresh_token');
    await waitFor(() => m.getHealth().healthy, 5000, 'health to recover');
    await converged(m, 'resubscribed after the new token');
    expect(JSON.stringify(m.getStats())).not.toContain('fresh_token');
  });
});
