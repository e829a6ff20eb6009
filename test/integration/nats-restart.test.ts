import { connect, type NatsConnection, type Status } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createNatsSink,
  type NatsTickSink,
  subscribeTicks,
  type TickSubscription,
} from '../../src/sinks/index.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { sampleTicks } from '../helpers/nats-ticks.js';

let server: NatsServerHandle | undefined;
let sink: NatsTickSink | undefined;
let sub: TickSubscription | undefined;
let consumerNc: NatsConnection | undefined;

afterAll(async () => {
  await sub?.close();
  await consumerNc?.close();
  await sink?.close();
  await server?.dispose();
});

async function until(what: string, cond: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolves on the next status of `type` from a connection. */
function nextStatus(nc: NatsConnection, type: Status['type']): Promise<void> {
  return (async () => {
    for await (const s of nc.status()) if (s.type === type) return;
  })();
}

describe('nats restart', () => {
  it('nats - survives a NATS restart mid-stream: the feed goes on, consumers resume, drops are counted exactly', async () => {
    server = await startNatsServer();
    const BUFFER = 50;
    // The sink redials slowly and the consumer quickly, so the consumer is back before the sink hands
    // over its buffer (core NATS does not keep messages for absent subscribers).
    sink = await createNatsSink({
      servers: server.url,
      maxBufferedMessages: BUFFER,
      connectOptions: { reconnectTimeWait: 1_000, reconnectJitter: 0 },
    });
    consumerNc = await connect({
      servers: server.url,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 25,
      reconnectJitter: 0,
    });
    sub = await subscribeTicks(consumerNc);
    const received: number[] = [];
    const reader = (async () => {
      for await (const m of sub!) received.push(m.sequence);
    })();

    // Phase 1: connected.
    let published = 0;
    const publish = (n: number) => {
      sink!.publishTicks(sampleTicks(n, published));
      published += n;
    };
    publish(50);
    await until('phase 1 delivery', () => received.length === 50);

    // Phase 2: the server dies; the tick path keeps publishing and must not throw.
    const sinkRedialing = nextStatus(sink.connection!, 'reconnecting');
    await server.stop('SIGKILL');
    await until('sink to notice the outage', () => !sink!.stats().connected);
    for (let i = 0; i < 20; i++) expect(() => publish(10)).not.toThrow();
    expect(sink.stats()).toMatchObject({ buffered: BUFFER, dropped: 200 - BUFFER, connected: false });

    // Phase 3: the server comes back on the same port, right after a failed redial of the sink.
    await sinkRedialing;
    const consumerBack = nextStatus(consumerNc, 'reconnect');
    await server.restart();
    await consumerBack;
    await until('sink reconnect', () => sink!.stats().connected);
    publish(50);
    await until('the last ticks after the restart', () => received.length >= 50 + BUFFER + 50);

    const stats = sink.stats();
    expect(stats).toMatchObject({
      buffered: 0,
      dropped: 150,
      reconnects: 1,
      disconnects: 1,
      connected: true,
    });
    expect(stats.published).toBe(50 + BUFFER + 50);
    // Honest accounting: every sequence number is either received or reported missing, and what went
    // missing is exactly what the sink says it dropped.
    expect(received.length).toBe(150);
    expect(sub.stats().missed).toBe(150);
    expect(received.length + sub.stats().missed).toBe(published);

    await sub.close();
    await reader;
  });
});
