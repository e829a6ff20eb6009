/**
 * HA test fixtures: a simulator that knows a few API keys, and controllers over it that each own
 * their key host (one manager per held key), so several "instances" run in one test process.
 */
import { HaController, type HaControllerOptions, ManagerKeyHost } from '../../src/ha/index.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';

export const HA_KEYS = [
  { id: 'alpha', apiKey: 'ha_key_alpha', accessToken: 'ha_token_alpha' },
  { id: 'beta', apiKey: 'ha_key_beta', accessToken: 'ha_token_beta' },
  { id: 'gamma', apiKey: 'ha_key_gamma', accessToken: 'ha_token_gamma' },
] as const;

export async function startHaSimulator(): Promise<KiteSimulator> {
  const sim = new KiteSimulator({
    credentials: Object.fromEntries(HA_KEYS.map((k) => [k.apiKey, k.accessToken])),
    ticksPerSecond: 2,
    batchIntervalMs: 50,
    heartbeatIntervalMs: 200,
  });
  await sim.start({ port: 0 });
  return sim;
}

export interface TestInstance {
  controller: HaController;
  host: ManagerKeyHost;
  errors: Error[];
}

export function haInstance(
  sim: KiteSimulator,
  options: Partial<HaControllerOptions> & { servers: string; instance: string; keyCount?: number },
): TestInstance {
  const keys = HA_KEYS.slice(0, options.keyCount ?? 1);
  const host = new ManagerKeyHost({
    keys,
    configure: (b) =>
      b
        .url(sim.url)
        .maxConnectionsPerApi(3)
        .baseConfig({ reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' } }),
  });
  const controller = new HaController({
    group: 'test',
    apiKeyIds: keys.map((k) => k.id),
    host,
    storage: 'memory',
    ...options,
  });
  const errors: Error[] = [];
  controller.on('error', (e) => errors.push(e));
  host.on('error', (e) => errors.push(e));
  return { controller, host, errors };
}

/** The simulator's open sockets of a key, and what each subscribes. */
export function socketsOf(sim: KiteSimulator, apiKey: string): Map<number, Mode>[] {
  return sim
    .connections()
    .filter((c) => c.apiKey === apiKey)
    .map((c) => new Map(c.subscriptions));
}

export async function until(what: string, cond: () => boolean, timeoutMs = 8_000): Promise<number> {
  const start = performance.now();
  while (!cond()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now() - start;
}
