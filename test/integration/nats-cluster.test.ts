/**
 * The NATS sink publishing through a 3-node JetStream cluster survives the loss of the node it is
 * connected to: the client reconnects to another node, the ticks published meanwhile wait in the sink's
 * buffer, and whatever is lost in flight (written to the dying node's socket) is seen and counted by the
 * consumer as a key gap. The measured loss is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ContinuityEvent } from '../../src/sinks/continuity.js';
import {
  createNatsSink,
  latestTicks,
  type NatsTickSink,
  subscribeTicks,
  type TickSubscription,
} from '../../src/sinks/index.js';
import { type NatsClusterHandle, startNatsCluster } from '../helpers/nats-cluster.js';
import { sampleTicks } from '../helpers/nats-ticks.js';

let cluster: NatsClusterHandle | undefined;
let sink: NatsTickSink | undefined;
let sub: TickSubscription | undefined;

beforeAll(async () => {
  cluster = await startNatsCluster();
}, 60_000);
afterAll(async () => {
  await sub?.close();
  await sink?.close();
  await cluster?.dispose();
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(
  what: string,
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('nats cluster', () => {
  it('nats cluster - the sink survives killing its node: it reconnects to another, every lost tick is counted', async () => {
    const c = cluster!;
    sink = await createNatsSink({
      servers: c.urls,
      instanceId: 'cluster-pub',
      jetstream: { stream: 'CLUSTER_TICKS', replicas: 3 },
      connectOptions: { reconnectTimeWait: 100, reconnectJitter: 0 },
    });
    const victim = c.nodeOf(sink.connection!.getServer());
    expect(victim).toBeDefined();
    // The consumer stays on the surviving nodes: what it misses is what the cluster lost.
    const survivors = c.urls.filter((_, i) => i !== victim);
    const events: ContinuityEvent[] = [];
    sub = await subscribeTicks(survivors, {
      onContinuity: (e) => events.push(e),
      connectOptions: { reconnectTimeWait: 100 },
    });
    let lastKeySequence = 0;
    const reader = (async () => {
      for await (const m of sub!) lastKeySequence = m.keySequence;
    })();

    // 2 ticks every 5 ms (~400/s) for 1 s, kill the sink's node, go on for 2 s.
    let sent = 0;
    let killedAt = 0;
    const started = Date.now();
    const ticks = sampleTicks(2);
    while (Date.now() - started < 3_000) {
      sink.publishTicks(ticks, 'cluster-key');
      sent += ticks.length;
      if (killedAt === 0 && Date.now() - started >= 1_000) {
        killedAt = Date.now();
        void c.kill(victim!);
      }
      await sleep(5);
    }
    await until('the sink to reconnect', () => sink!.stats().reconnects >= 1);
    await until('the last tick to arrive', () => lastKeySequence === sent);
    const stats = sub.stats();
    const lost = sent - stats.received;
    const sinkStats = sink.stats();
    console.log(
      `nats cluster failover: sent ${sent}, received ${stats.received}, lost ${lost} ` +
        `(consumer key gaps ${stats.keyGaps}, ${stats.keyMissed} ticks; sink dropped ${sinkStats.dropped}), ` +
        `sink reconnected to ${sink.connection!.getServer()} (killed node ${c.nodes[victim!]!.url})`,
    );
    expect(c.nodes[victim!]!.running).toBe(false);
    expect(c.nodeOf(sink.connection!.getServer())).not.toBe(victim);
    expect(sinkStats).toMatchObject({ connected: true, disconnects: 1, reconnects: 1, dropped: 0 });
    // Every tick either arrived or is reported missing: no silent loss.
    expect(stats.received + stats.keyMissed).toBe(sent);
    expect(stats.keyMissed).toBe(lost);
    // The same instance before and after: a reconnect is not a handover.
    expect(events.filter((e) => e.type === 'handover')).toEqual([]);

    // The R3 last-tick stream lost one replica of three and still serves the snapshot: the last tick
    // of both instruments.
    let snapshot: Awaited<ReturnType<typeof latestTicks>> = [];
    await until(
      'the snapshot from the surviving replicas',
      async () => {
        snapshot = await latestTicks(sink!.connection!, { stream: 'CLUSTER_TICKS' }).catch(() => []);
        return snapshot.length === 2;
      },
      15_000,
    );
    expect(snapshot.map((m) => m.tick).sort((a, b) => a.instrument_token - b.instrument_token)).toEqual(
      [...ticks].sort((a, b) => a.instrument_token - b.instrument_token),
    );

    // The node comes back and serves JetStream again.
    await c.restart(victim!);
    expect(c.nodes[victim!]!.running).toBe(true);
    await sub.close();
    await reader;
  }, 60_000);
});
