/**
 * A live NIFTY chain against the simulator: the index's price is driven deterministically (injected
 * LTP frames, no market ticks) and the subscribed strikes must follow, within capacity, each token
 * subscribed once while held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { toSimulatorInstruments } from '../../src/cli/sim-host.js';
import { LiveChain, type RecenterEvent } from '../../src/instruments/live-chain.js';
import { InstrumentStore } from '../../src/instruments/store.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import { encodeTicks } from '../../src/protocol/encode.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import { derivativesCsv, derivativesList } from '../helpers/instrument-lists.js';

const NIFTY_50 = 256265;
let sim: KiteSimulator | undefined;
let manager: MultiApiKiteTickerManager | undefined;

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await sim?.stop();
  sim = undefined;
});

async function setup(capacity: number): Promise<{ sim: KiteSimulator; manager: MultiApiKiteTickerManager }> {
  sim = new KiteSimulator({
    instruments: toSimulatorInstruments(derivativesList()),
    marketTicks: false,
    credentials: { k1: 't1' },
    heartbeatIntervalMs: 200,
  });
  await sim.start();
  manager = MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'k1', 't1')
    .url(sim.url)
    .maxConnectionsPerApi(1)
    .maxSymbolsPerConnection(capacity)
    .connectionTimeout(5000)
    .build();
  await manager.start();
  return { sim, manager };
}

/** Sends NIFTY 50 at `price` to every socket. */
function drive(s: KiteSimulator, price: number): void {
  s.injectFrame(
    'all',
    encodeTicks([
      { mode: 'ltp', instrument_token: NIFTY_50, tradable: false, exchange: 'INDICES', last_price: price },
    ]),
  );
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Replays the simulator's command log: throws if a token is subscribed while already subscribed. */
function assertNoDoubleSubscribe(s: KiteSimulator): { subscribes: number; unsubscribes: number } {
  const held = new Set<number>();
  let subscribes = 0;
  let unsubscribes = 0;
  for (const c of s.keyInfo('k1').commands) {
    const msg = JSON.parse(c.text) as { a: string; v: unknown };
    if (msg.a === 'subscribe') {
      subscribes++;
      for (const t of msg.v as number[]) {
        if (held.has(t)) throw new Error(`token ${t} subscribed twice`);
        held.add(t);
      }
    } else if (msg.a === 'unsubscribe') {
      unsubscribes++;
      for (const t of msg.v as number[]) held.delete(t);
    }
  }
  return { subscribes, unsubscribes };
}

function serverTokens(s: KiteSimulator): Set<number> {
  const out = new Set<number>();
  for (const c of s.connections()) for (const t of c.subscriptions.keys()) out.add(t);
  return out;
}

describe('live chain', () => {
  it('live chain - the strikes follow the underlying as it drifts, within capacity, never subscribed twice', async () => {
    const { sim: s, manager: m } = await setup(20);
    const store = InstrumentStore.fromString(derivativesCsv(), { today: '2026-01-07' });
    const chain = new LiveChain(store, m, {
      underlying: 'NIFTY',
      strikes: 3,
      recenterStrikes: 1,
      mode: 'ltp',
    });
    const events: RecenterEvent[] = [];
    const desiredSizes: number[] = [];
    chain.on('recenter', (e) => {
      events.push(e);
      desiredSizes.push(m.getDesiredState().size);
      expect(m.getUnplacedSymbols().size).toBe(0);
    });
    expect(chain.spot.tradingsymbol).toBe('NIFTY 50');
    expect(chain.expiry).toBe('2026-01-13');
    await chain.start(); // the list's last price (24010) centres it at once
    expect(chain.centre).toBe(24000);
    expect(chain.tokens()).toHaveLength(14);
    await until(() => serverTokens(s).size === 15, 'the first chain on the server');

    // Drift up 10 strikes, 2 at a time (each move > recenterStrikes), then a small wobble that must not move it.
    let expectedEvents = 1;
    for (let k = 1; k <= 5; k++) {
      drive(s, 24010 + k * 100);
      expectedEvents++;
      await until(() => events.length === expectedEvents, `re-centre ${k}`);
      expect(chain.centre).toBe(24000 + k * 100);
    }
    drive(s, 24530); // 24500 +- 1 strike: stays
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toHaveLength(expectedEvents);

    const chainStrikes = store.optionChain('NIFTY', { expiry: '2026-01-13', price: 24500, strikes: 3 });
    expect(chainStrikes.strikes.map((x) => x.strike)).toEqual([
      24350, 24400, 24450, 24500, 24550, 24600, 24650,
    ]);
    await until(() => {
      const onServer = serverTokens(s);
      return onServer.size === 15 && chainStrikes.tokens.every((t) => onServer.has(t));
    }, 'the server to hold exactly the re-centred chain and the index');
    expect(new Set(chain.tokens())).toEqual(new Set(chainStrikes.tokens));
    for (const e of events.slice(1)) {
      expect(e.added).toHaveLength(4); // 2 strikes x CE/PE in
      expect(e.removed).toHaveLength(4); // 2 strikes x CE/PE out
      expect(e.from! + 100).toBe(e.to);
    }
    expect(Math.max(...desiredSizes)).toBeLessThanOrEqual(20);
    const log = assertNoDoubleSubscribe(s);
    expect(log.unsubscribes).toBe(5);
    chain.stop();
  });

  it('live chain - with less room than the chain, the wings nearest the money win and nothing overflows', async () => {
    const { sim: s, manager: m } = await setup(9);
    const store = InstrumentStore.fromString(derivativesCsv(), { today: '2026-01-07' });
    const chain = new LiveChain(store, m, {
      underlying: 'NIFTY',
      strikes: 3,
      recenterStrikes: 0,
      isPinned: (t) => t === store.get('NFO:NIFTY2611323900CE').instrument_token,
    });
    const events: RecenterEvent[] = [];
    chain.on('recenter', (e) => events.push(e));
    await chain.start(24000);
    // Room 8 after the index: ATM, +-1 and one more pair are kept; the pinned 23900CE is not sent.
    expect(events[0]!.added.length).toBe(8);
    expect(events[0]!.skipped.length).toBeGreaterThan(0);
    expect(m.getDesiredState().size).toBe(9);
    drive(s, 24400);
    await until(() => events.length === 2, 'a re-centre');
    expect(m.getDesiredState().size).toBeLessThanOrEqual(9);
    expect(m.getUnplacedSymbols().size).toBe(0);
    const atm = store.get('NFO:NIFTY2611324400CE').instrument_token;
    await until(() => serverTokens(s).has(atm), 'the new ATM on the server');
    assertNoDoubleSubscribe(s);
    chain.stop();
  });

  it('live chain - a bad underlying or expiry fails at construction with a clear error', async () => {
    const { manager: m } = await setup(20);
    const store = InstrumentStore.fromString(derivativesCsv(), { today: '2026-01-07' });
    expect(() => new LiveChain(store, m, { underlying: 'NIFT' })).toThrow(
      /unknown underlying: "NIFT"; closest: NIFTY/,
    );
    expect(() => new LiveChain(store, m, { underlying: 'NIFTY', expiry: '2026-01-06' })).toThrow(
      /before today/,
    );
    expect(() => new LiveChain(store, m, { underlying: 'NIFTY', strikes: -1 })).toThrow(/strikes each side/);
  });
});
