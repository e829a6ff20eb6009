/**
 * KiteRelay as a benchmark server, in its own process so its CPU is its own: `relay.ts '<JSON>'` with
 * `{ simUrl, clients, keys }`. It builds the relay over `keys` simulator keys (sim_key_N/sim_token_N,
 * the manager's defaults: 3 sockets x 3000 instruments per key) with `clients` relay clients
 * (bench/lib/relay-plan.ts), sends `{type:'ready', url}`, and answers
 *   `{type:'stats'}`  with its CPU time, the ticks it delivered, the upstream's size, and since the last
 *                     stats: its work per upstream frame (p50/p99/max ms) and its event-loop delay p99;
 *   `{type:'memory'}` with process.memoryUsage() after a full GC (run it with --expose-gc).
 * Stops on `{type:'stop'}`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { KiteRelay } from '../../src/relay/index.js';
import { cpuMs, fromParent, reportErrors, toParent } from '../lib/child.js';
import { LatencyHistogram } from '../lib/histogram.js';
import { benchClients } from '../lib/relay-plan.js';

reportErrors();
const config = JSON.parse(process.argv[2] ?? '{}') as { simUrl: string; clients: number; keys: number };

const relay = new KiteRelay({
  clients: benchClients(config.clients),
  port: 0,
  upstream: {
    url: config.simUrl,
    apiKeys: Array.from({ length: config.keys }, (_, k) => ({
      id: `key${k + 1}`,
      apiKey: `sim_key_${k + 1}`,
      accessToken: `sim_token_${k + 1}`,
    })),
  },
});
// The relay's own work per upstream frame: a 'frame' listener added before start() runs before the
// relay's dispatch, one added after runs after it (EventEmitter order, synchronous), so the two stamps
// bracket the cutting and every ws.send of that frame. What the clients see beyond this is waiting:
// for the relay's event loop (measured below) or for a CPU.
const work = new LatencyHistogram();
let frameStart = 0;
relay.manager.on('frame', () => {
  frameStart = performance.now();
});
await relay.start();
relay.manager.on('frame', () => work.record(performance.now() - frameStart));
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();
toParent({ type: 'ready', url: relay.url });

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', (m: { type: string }) => {
  if (m.type === 'stats') {
    const s = relay.stats();
    let ticksSent = 0;
    let framesSent = 0;
    for (const c of s.clients) {
      ticksSent += c.ticksSent;
      framesSent += c.framesSent;
    }
    toParent({
      type: 'stats',
      cpuMs: cpuMs(),
      at: performance.now(),
      // Closed sockets' counts leave the stats with them; the bench reads deltas over open clients.
      ticksSent,
      framesSent,
      packetsIn: s.packetsIn,
      connections: s.connections,
      upstreamTokens: s.upstreamTokens,
      droppedFrames: s.droppedFrames,
      slowDisconnects: s.slowDisconnects,
      workP50: work.percentile(50),
      workP99: work.percentile(99),
      workMax: work.max,
      loopDelayP99: loopDelay.percentile(99) / 1e6,
    });
    work.reset();
    loopDelay.reset();
  } else if (m.type === 'memory') {
    gc?.();
    const mem = process.memoryUsage();
    toParent({
      type: 'memory',
      gc: gc !== undefined,
      rss: mem.rss,
      heapUsed: mem.heapUsed,
      external: mem.external + mem.arrayBuffers,
    });
  }
});

await fromParent('stop');
await relay.stop();
process.exit(0);
