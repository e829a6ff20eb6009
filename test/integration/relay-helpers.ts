/**
 * Shared pieces of the relay's integration tests: a simulator, a relay in front of it, raw WebSocket
 * clients that record what they receive, and "did the simulator send this tick in this mode" checks.
 */
import WebSocket from 'ws';
import { MultiApiKiteTickerManager } from '../../src/manager/manager.js';
import type { Mode } from '../../src/protocol/constants.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { encodeTicks } from '../../src/protocol/encode.js';
import type { Tick } from '../../src/protocol/types.js';
import type { KiteRelayOptions, RelayManager } from '../../src/relay/options.js';
import { KiteRelay } from '../../src/relay/relay.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import type { SimulatorOptions } from '../../src/simulator/types.js';

export const CLIENTS = [
  { id: 'alpha', accessToken: 'alpha-token-123' },
  { id: 'beta', accessToken: 'beta-token-456' },
  { id: 'gamma', accessToken: 'gamma-token-789' },
];

export interface Rig {
  sim: KiteSimulator;
  relay: KiteRelay;
  /** Every tick frame the simulator sent. */
  simFrames: Uint8Array[];
  stop(): Promise<void>;
}

export async function startRig(
  simOptions: SimulatorOptions = {},
  relayOptions: Partial<KiteRelayOptions> = {},
  manager?: (url: string) => RelayManager,
): Promise<Rig> {
  const simFrames: Uint8Array[] = [];
  const sim = new KiteSimulator({
    universeSize: 2000,
    seed: 17,
    ticksPerSecond: 10,
    batchIntervalMs: 50,
    onFrameSent: (_id, frame) => {
      if (typeof frame !== 'string' && frame.byteLength > 1) simFrames.push(Buffer.from(frame));
    },
    ...simOptions,
  });
  await sim.start();
  const given = manager?.(sim.url);
  if (given) await given.start();
  const relay = new KiteRelay({
    clients: CLIENTS,
    port: 0,
    lingerMs: 300,
    ...(given
      ? { manager: given }
      : {
          upstream: {
            apiKeys: [{ id: 'k1', apiKey: 'sim_key_1', accessToken: 'sim_token_1' }],
            url: sim.url,
          },
        }),
    ...relayOptions,
  });
  await relay.start();
  return {
    sim,
    relay,
    simFrames,
    async stop() {
      await relay.stop();
      await given?.stop();
      await sim.stop();
    },
  };
}

/** A manager over the simulator with small capacity (for capacity errors). */
export function smallManager(url: string, perSocket: number): RelayManager {
  return MultiApiKiteTickerManager.builder()
    .addApiKey('k1', 'sim_key_1', 'sim_token_1')
    .maxConnectionsPerApi(1)
    .maxSymbolsPerConnection(perSocket)
    .rawFrames(true)
    .latestQuotes(false)
    .url(url)
    .build() as unknown as RelayManager;
}

export interface TestClient {
  ws: WebSocket;
  ticks: Tick[];
  frames: Buffer[];
  texts: Array<{ type: string; data: unknown }>;
  heartbeats: number;
  closed: Promise<{ code: number; reason: string }>;
  send(command: unknown): void;
}

/** Connects a raw WebSocket client to the relay; rejects with the HTTP status of a refused upgrade. */
export function connect(
  url: string,
  id: string,
  token: string,
  options: WebSocket.ClientOptions = {},
): Promise<TestClient> {
  const ws = new WebSocket(
    `${url}/?api_key=${encodeURIComponent(id)}&access_token=${encodeURIComponent(token)}`,
    options,
  );
  const c: TestClient = {
    ws,
    ticks: [],
    frames: [],
    texts: [],
    heartbeats: 0,
    closed: new Promise((res) =>
      ws.once('close', (code, reason) => res({ code, reason: reason.toString() })),
    ),
    send: (command) => ws.send(typeof command === 'string' ? command : JSON.stringify(command)),
  };
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary) {
      c.texts.push(JSON.parse(data.toString()));
      return;
    }
    if (data.byteLength === 1) {
      c.heartbeats++;
      return;
    }
    c.frames.push(data);
    c.ticks.push(...decodeFrame(data));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(c));
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

export async function waitFor(check: () => boolean, ms = 8000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const RANK: Record<Mode, number> = { ltp: 0, quote: 1, full: 2 };

/** Keys sorted at every level, so two ticks compare by value whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * Every tick the simulator sent, as it reads in each mode at or below the one it was sent in (via the
 * codec: encode in the lower mode, decode), passed through `shape` and made canonical.
 */
export function sentTicks(
  frames: readonly Uint8Array[],
  shape: (t: Tick) => unknown = (t) => t,
): Set<string> {
  const out = new Set<string>();
  for (const f of frames) {
    for (const t of decodeFrame(f)) {
      for (const m of ['ltp', 'quote', 'full'] as Mode[]) {
        if (RANK[m] > RANK[t.mode]) continue;
        const [projected] = decodeFrame(encodeTicks([{ ...t, mode: m } as Tick]));
        out.add(canonical(shape(projected!)));
      }
    }
  }
  return out;
}

/** token -> (connection count holding it, mode) across the simulator's open connections. */
export function simHoldings(sim: KiteSimulator): Map<number, { count: number; mode: Mode }> {
  const out = new Map<number, { count: number; mode: Mode }>();
  for (const c of sim.connections()) {
    for (const [t, mode] of c.subscriptions) {
      const e = out.get(t);
      out.set(t, { count: (e?.count ?? 0) + 1, mode });
    }
  }
  return out;
}
