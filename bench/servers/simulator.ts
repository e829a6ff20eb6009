/**
 * The simulator as a benchmark server, in its own process: `node --import tsx bench/servers/simulator.ts
 * '<SimulatorOptions JSON>' <tokens>`. Sends `{type:'ready', url, tokens}` (the first `tokens` tradable
 * instrument tokens of its universe), answers `{type:'stats'}` with its CPU time and packets sent, and stops on
 * `{type:'stop'}`.
 */
import { KiteSimulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { cpuMs, fromParent, reportErrors, toParent } from '../lib/child.js';

reportErrors();
const options = JSON.parse(process.argv[2] ?? '{}') as SimulatorOptions;
const wanted = Number(process.argv[3] ?? 0);

const sim = new KiteSimulator({ ...options, host: '127.0.0.1' });
await sim.start();
// Tradable instruments only: indices have no full (184-byte) packet to measure or stamp.
const tokens = sim
  .instruments()
  .filter((i) => i.segment !== 'INDICES')
  .slice(0, wanted)
  .map((i) => i.instrument_token);
toParent({ type: 'ready', url: sim.url, tokens });

process.on('message', (m: { type: string }) => {
  if (m.type !== 'stats') return;
  let ticksSent = 0;
  let connections = 0;
  for (const c of sim.connections()) {
    ticksSent += c.ticksSent;
    connections++;
  }
  toParent({ type: 'stats', cpuMs: cpuMs(), ticksSent, connections, at: performance.now() });
});

await fromParent('stop');
await sim.stop();
process.exit(0);
