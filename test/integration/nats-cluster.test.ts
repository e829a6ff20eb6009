/**
 * The NATS sink publishing through a 3-node JetStream cluster survives the loss of the node it is
 * connected to: the client reconnects to another node, the ticks published meanwhile wait in the sink's
 * buffer, and whatever is lost in flight (written to the dying node's socket) is seen and counted by the
 * consumer as a key gap. The measured loss is printed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import { createNatsSink, latestTicks, type NatsTickSink } from '../../src/sinks/index.js';
import { type NatsClusterHandle, startNatsCluster } from '../helpers/nats-cluster.js';
import { sampleTicks } from '../helpers/nats-ticks.js';
import { startTickConsumer } from '../helpers/tick-consumer.js';

let cluster: NatsClusterHandle | undefined;
let sink: NatsTickSink | undefined;
let consumer: Awaited<ReturnType<typeof startTickConsumer>> | undefined;

beforeAll(async () => {
  cluster = await startNatsCluster();
}, 60_000);
afterAll(async () => {
  await consumer?.close();
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
    consumer = await startTickConsumer(survivors, { connectOptions: { reconnectTimeWait: 100 } });
    const { recorder } = consumer;

    // 2 ticks every 5 ms (~400/s) for 1 s, kill the sink's node, go on for 2 s.
    let sent = 0;
    let killedAt = 0;
    const started = Date.now();
    // Every tick different (values move with the index), so a duplicate would be visible.
    const lastByToken = new Map<number, Tick>();
    while (Date.now() - started < 3_000) {
      const ticks = sampleTicks(2, sent);
      for (const t of ticks) lastByToken.set(t.instrument_token, t);
      sink.publishTicks(ticks, 'cluster-key');
      sent += ticks.length;
      if (killedAt === 0 && Date.now() - started >= 1_000) {
        killedAt = Date.now();
        void c.kill(victim!);
      }
      await sleep(5);
    }
    await until('the sink to reconnect', () => sink!.stats().reconnects >= 1);
    // The last tick carries key sequence `sent`: once it is in, every loss before it is known.
    await until('the last tick to arrive', () => {
      const r = recorder.report();
      return r.received + r.missing >= sent;
    });
    const report = recorder.report();
    const stats = consumer.subscription.stats();
    const lost = sent - report.received;
    const sinkStats = sink.stats();
    console.log(
      `nats cluster failover: sent ${sent}, received ${report.received}, lost ${lost} ` +
        `(consumer key gaps ${stats.keyGaps}, ${report.missing} ticks; sink dropped ${sinkStats.dropped}), ` +
        `sink reconnected to ${sink.connection!.getServer()} (killed node ${c.nodes[victim!]!.url})`,
    );
    expect(c.nodes[victim!]!.running).toBe(false);
    expect(c.nodeOf(sink.connection!.getServer())).not.toBe(victim);
    expect(sinkStats).toMatchObject({ connected: true, disconnects: 1, reconnects: 1, dropped: 0 });
    // Every tick either arrived or is reported missing: no silent loss, no duplicate.
    expect(report.received + report.missing).toBe(sent);
    expect(stats.keyMissed).toBe(lost);
    // The same instance before and after: a reconnect is not a handover.
    expect(report).toMatchObject({ handovers: 0, duplicates: 0 });
    expect(report.keys['cluster-key']!.instances).toEqual(['cluster-pub']);

    // The R3 last-tick stream lost one replica of three and still serves the snapshot. The stream
    // captures the sink's core publishes asynchronously (and not while it elects a new leader, when the
    // killed node led it), so publish until it holds the last tick of every instrument.
    const byToken = (ts: Tick[]): Tick[] => [...ts].sort((a, b) => a.instrument_token - b.instrument_token);
    let snapshot: Tick[] = [];
    const staleSince = Date.now();
    await until(
      'the snapshot from the surviving replicas',
      async () => {
        const fresh = sampleTicks(5, sent);
        for (const t of fresh) lastByToken.set(t.instrument_token, t);
        sink!.publishTicks(fresh, 'cluster-key');
        sent += fresh.length;
        await sink!.connection!.flush();
        const latest = await latestTicks(sink!.connection!, { stream: 'CLUSTER_TICKS' }).catch(() => []);
        snapshot = byToken(latest.map((m) => m.tick));
        return JSON.stringify(snapshot) === JSON.stringify(byToken([...lastByToken.values()]));
      },
      // The stream elects a new leader when the killed node led it: measured 3-8 s here, and one CI run
      // (Node 22, right after the Node 20 run) passed 15 s; the test's own limit is 60 s.
      40_000,
    );
    console.log(
      `nats cluster failover: the R3 snapshot was current again ${Date.now() - staleSince} ms after the check began`,
    );
    expect(snapshot).toHaveLength(4); // INFY, NIFTY_FUT, USDINR, NIFTY_50

    // The node comes back and serves JetStream again.
    await c.restart(victim!);
    expect(c.nodes[victim!]!.running).toBe(true);
    await consumer.close();
  }, 60_000);
});
