import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import type { ContinuityEvent } from '../../src/sinks/continuity.js';
import { apiKeyIdBytes, EnvelopeWriter } from '../../src/sinks/envelope.js';
import {
  createNatsSink,
  decodeEnvelope,
  type NatsTickSink,
  subscribeTicks,
  type TickMessage,
  type TickSubscription,
} from '../../src/sinks/index.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { INFY, sampleTicks } from '../helpers/nats-ticks.js';
import { killAll, startCli } from './cli-helpers.js';

let server: NatsServerHandle;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
});
afterAll(async () => {
  await server?.dispose();
});
afterEach(async () => {
  killAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(options: Parameters<typeof createNatsSink>[0] = {}): Promise<NatsTickSink> {
  const s = await createNatsSink({ servers: server.url, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function subscription(options: Parameters<typeof subscribeTicks>[1] = {}): Promise<TickSubscription> {
  const sub = await subscribeTicks(server.url, options);
  cleanups.push(() => sub.close());
  return sub;
}

async function take(sub: TickSubscription, n: number, timeoutMs = 5_000): Promise<TickMessage[]> {
  const out: TickMessage[] = [];
  const iterator = sub[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const result = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, deadline - Date.now()))),
    ]);
    if (result === 'timeout') throw new Error(`got ${out.length} of ${n} messages before the timeout`);
    if (result.done) break;
    out.push(result.value);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `n` distinct ltp ticks, each on its own NSE instrument (one subject each). */
function distinctTicks(n: number): Tick[] {
  return Array.from({ length: n }, (_, i) => ({
    mode: 'ltp' as const,
    tradable: true,
    exchange: 'NSE' as const,
    instrument_token: ((5_000 + i) << 8) | 1,
    last_price: 100 + i,
  }));
}

describe('nats continuity', () => {
  it('nats continuity - a handover between instances keeps the subjects and is reported with its gap; overlap is not a second one', async () => {
    const events: ContinuityEvent[] = [];
    const sub = await subscription({ onContinuity: (e) => events.push(e) });
    const a = await sink({ instanceId: 'dc1-a' });
    const b = await sink({ instanceId: 'dc2-b' });
    const ticks = sampleTicks(10);

    a.publishTicks(ticks.slice(0, 5), 'key1');
    const before = await take(sub, 5);
    await sleep(150);
    b.publishTicks(ticks.slice(5), 'key1');
    const after = await take(sub, 5);
    // For a moment both publish: A's late ticks are overlap, delivered but no hand-back.
    a.publishTicks(ticks.slice(0, 2), 'key1');
    b.publishTicks(ticks.slice(2, 3), 'key1');
    const tail = await take(sub, 3);

    expect(before.every((m) => m.instanceId === 'dc1-a')).toBe(true);
    expect(after.every((m) => m.instanceId === 'dc2-b')).toBe(true);
    // Per-key sequences run across subjects, per instance.
    expect(before.map((m) => m.keySequence)).toEqual([1, 2, 3, 4, 5]);
    expect(after.map((m) => m.keySequence)).toEqual([1, 2, 3, 4, 5]);
    // The same instruments, the same subjects, whoever publishes.
    expect(new Set(after.map((m) => m.subject))).toEqual(new Set(before.map((m) => m.subject)));
    expect(tail.map((m) => m.instanceId).sort()).toEqual(['dc1-a', 'dc1-a', 'dc2-b']);

    expect(events).toHaveLength(1);
    const handover = events[0]!;
    expect(handover).toMatchObject({ type: 'handover', apiKeyId: 'key1', from: 'dc1-a', to: 'dc2-b' });
    if (handover.type !== 'handover') throw new Error('not a handover');
    expect(handover.lastReceivedAt).toBe(before[4]!.receivedAt);
    expect(handover.firstReceivedAt).toBe(after[0]!.receivedAt);
    expect(handover.gapMs).toBeGreaterThanOrEqual(140);
    expect(handover.arrivalGapMs).toBeGreaterThanOrEqual(140);
    expect(sub.stats()).toMatchObject({ handovers: 1, overlapping: 2, keyGaps: 0, received: 13 });
  });

  it('nats continuity - a key sequence gap within one instance is reported per key; a filtered consumer reports subject gaps instead', async () => {
    const all: ContinuityEvent[] = [];
    const filtered: ContinuityEvent[] = [];
    const subAll = await subscription({ onContinuity: (e) => all.push(e) });
    const subOne = await subscription({ filter: { token: INFY }, onContinuity: (e) => filtered.push(e) });
    const nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const writer = new EnvelopeWriter();
    const [infy] = sampleTicks(1);
    const key = apiKeyIdBytes('key2');
    const instance = apiKeyIdBytes('dc1-a');
    const subject = `kite.tick.NSE.${INFY}`;
    // Key sequence 1, 2, 5 (3 and 4 lost); subject sequence 1, 2, 3 (the lost ones were other instruments).
    for (const [sequence, keySequence] of [
      [1, 1],
      [2, 2],
      [3, 5],
    ] as const) {
      nc.publish(
        subject,
        writer.write(infy!, key, instance, { publisherId: 7, sequence, keySequence, receivedAt: Date.now() }),
      );
    }
    // Then subject sequence 3 -> 6 with key sequence 5 -> 6 (crafted: it tells the two modes apart). The
    // consumer of every tick counts by key (nothing missing); the filtered one by subject (2 missing).
    nc.publish(
      subject,
      writer.write(infy!, key, instance, {
        publisherId: 7,
        sequence: 6,
        keySequence: 6,
        receivedAt: Date.now(),
      }),
    );
    await take(subAll, 4);
    await take(subOne, 4);
    expect(all).toEqual([{ type: 'gap', apiKeyId: 'key2', instanceId: 'dc1-a', missing: 2, sequence: 5 }]);
    expect(filtered).toEqual([
      { type: 'gap', apiKeyId: 'key2', instanceId: 'dc1-a', missing: 2, sequence: 6 },
    ]);
    expect(subAll.stats()).toMatchObject({ keyGaps: 1, keyMissed: 2, missed: 2 });
  });

  it('nats continuity - a consumer callback that throws does not stop the subscription', async () => {
    const sub = await subscription({
      onContinuity: () => {
        throw new Error('consumer bug');
      },
    });
    const a = await sink({ instanceId: 'x' });
    const b = await sink({ instanceId: 'y' });
    a.publishTicks(sampleTicks(1), 'k3');
    await take(sub, 1);
    b.publishTicks(sampleTicks(2), 'k3');
    expect(await take(sub, 2)).toHaveLength(2);
    expect(sub.stats().handovers).toBe(1);
  });

  it('cli nats - subscribe reports a handover on stderr and in its summary; --envelope shows the instance', async () => {
    const run = startCli(['subscribe', '--nats', server.url, '--envelope', '--count', '6']);
    await run.waitFor('stderr', /kiteticker: subscribed to/, 12_000);
    const a = await sink({ instanceId: 'host-a:1' });
    const b = await sink({ instanceId: 'host-b:2' });
    a.publishTicks(sampleTicks(3), 'cli-key');
    await run.waitFor('stdout', /(keySequence.*\n.*){3}/, 5_000);
    b.publishTicks(sampleTicks(3), 'cli-key');
    const { code, stdout, stderr } = await run.done;
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.instanceId, l.keySequence])).toEqual([
      ['host-a:1', 1],
      ['host-a:1', 2],
      ['host-a:1', 3],
      ['host-b:2', 1],
      ['host-b:2', 2],
      ['host-b:2', 3],
    ]);
    expect(stderr).toMatch(
      /key "cli-key": handover from "host-a:1" to "host-b:2", gap -?\d+ ms \(publishers' clocks; \d+ ms here\)/,
    );
    expect(stderr).toMatch(/handovers +1 \(publisher changes per key\)/);
    expect(stderr).toMatch(/key gaps +0 \(0 ticks\)/);
  });
});

describe('nats jetstream de-duplication', () => {
  it('nats dedupe - two instances publishing the same ticks to one stream: a JetStream consumer gets each once', async () => {
    const stream = 'DEDUPE_TICKS';
    const options = { jetstream: { stream, duplicateWindowMs: 20_000 }, subjectPrefix: 'dd' };
    const a = await sink({ ...options, instanceId: 'a' });
    const b = await sink({ ...options, instanceId: 'b' });
    const nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    expect((await jsm.streams.info(stream)).config.duplicate_window).toBe(20_000 * 1_000_000);

    const ticks = distinctTicks(40);
    // Overlap as in a handover: both publish the first 30, then only B the rest (interleaved sends).
    a.publishTicks(ticks.slice(0, 30), 'k');
    b.publishTicks(ticks.slice(0, 30), 'k');
    b.publishTicks(ticks.slice(30), 'k');
    await Promise.all([a.connection!.flush(), b.connection!.flush()]);

    const deadline = Date.now() + 5_000;
    let info = await jsm.streams.info(stream);
    while (info.state.last_seq < 40 && Date.now() < deadline) {
      await sleep(20);
      info = await jsm.streams.info(stream);
    }
    await sleep(100); // would-be duplicates have had time to land
    info = await jsm.streams.info(stream);
    expect(info.state.last_seq).toBe(40); // 70 messages published, 40 stored

    const consumer = await jetstream(nc).consumers.get(stream);
    const got: Tick[] = [];
    const messages = await consumer.fetch({ max_messages: 100, expires: 1_000 });
    for await (const m of messages) {
      got.push(decodeEnvelope(m.data).tick);
      expect(m.headers?.get('Nats-Msg-Id')).toMatch(/^k:\d+:ltp:-:[0-9a-f]{16}$/);
    }
    expect(got.map((t) => t.instrument_token).sort()).toEqual(ticks.map((t) => t.instrument_token).sort());
  });

  it('nats dedupe - dedupe: false publishes without msg ids, so both copies are stored', async () => {
    const stream = 'NODEDUPE_TICKS';
    const options = { jetstream: { stream, dedupe: false }, subjectPrefix: 'nd' };
    const a = await sink(options);
    const b = await sink(options);
    const ticks = distinctTicks(10);
    a.publishTicks(ticks, 'k');
    b.publishTicks(ticks, 'k');
    await Promise.all([a.connection!.flush(), b.connection!.flush()]);
    const nc = await connect({ servers: server.url });
    cleanups.push(() => nc.close());
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + 5_000;
    let info = await jsm.streams.info(stream);
    while (info.state.last_seq < 20 && Date.now() < deadline) {
      await sleep(20);
      info = await jsm.streams.info(stream);
    }
    expect(info.state.last_seq).toBe(20);
  });
});
