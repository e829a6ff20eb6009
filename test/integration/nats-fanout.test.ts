import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import { apiKeyIdBytes, EnvelopeWriter } from '../../src/sinks/envelope.js';
import {
  createNatsSink,
  type NatsTickSink,
  subscribeTicks,
  type TickMessage,
  type TickSubscription,
} from '../../src/sinks/index.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { INFY, NIFTY_50, sampleTicks } from '../helpers/nats-ticks.js';

let server: NatsServerHandle;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.dispose();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sink(options: Parameters<typeof createNatsSink>[0] = {}): Promise<NatsTickSink> {
  const s = await createNatsSink({ servers: server.url, ...options });
  cleanups.push(() => s.close());
  return s;
}

async function client(): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url });
  cleanups.push(() => nc.close());
  return nc;
}

async function subscription(options: Parameters<typeof subscribeTicks>[1] = {}): Promise<TickSubscription> {
  const sub = await subscribeTicks(server.url, options);
  cleanups.push(() => sub.close());
  return sub;
}

async function take(sub: TickSubscription, n: number, timeoutMs = 5_000): Promise<TickMessage[]> {
  const out: TickMessage[] = [];
  if (n === 0) return out;
  const iterator = sub[Symbol.asyncIterator]();
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    const left = deadline - Date.now();
    const result = await Promise.race([
      iterator.next(),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), Math.max(0, left))),
    ]);
    if (result === 'timeout') throw new Error(`got ${out.length} of ${n} messages before the timeout`);
    if (result.done) break;
    out.push(result.value);
  }
  return out;
}

/** What a tick looks like after JSON (Dates become ISO strings). */
function asJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

interface ConsumerProcess {
  lines: Record<string, unknown>[];
  ready: Promise<void>;
  done: Promise<void>;
  child: ChildProcess;
}

function spawnConsumer(count: number, filters: string[] = []): ConsumerProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/nats-consumer.ts', server.url, String(count), ...filters],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const parsed = JSON.parse(line) as Record<string, unknown>;
    if (parsed.ready) onReady();
    else lines.push(parsed);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`consumer exited ${code}: ${stderr}`)),
    );
  });
  return { lines, ready: Promise.race([ready, done.then(() => {})]), done, child };
}

describe('nats fan-out', () => {
  it('nats - ticks reach consumers in other processes intact, every field, in order', async () => {
    const s = await sink({ apiKeyId: 'primary' });
    const all = spawnConsumer(100);
    const indices = spawnConsumer(40, ['INDICES']);
    await Promise.all([all.ready, indices.ready]);

    const ticks = sampleTicks(100);
    const before = Date.now();
    for (let i = 0; i < ticks.length; i += 10) s.publishTicks(ticks.slice(i, i + 10), 'key-A');
    await Promise.race([
      Promise.all([all.done, indices.done]),
      new Promise((_, reject) => setTimeout(() => reject(new Error('consumers did not finish')), 15_000)),
    ]);

    expect(all.lines).toHaveLength(100);
    expect(all.lines.map((l) => l.tick)).toEqual(asJson(ticks));
    for (const line of all.lines) {
      expect(line.apiKeyId).toBe('key-A');
      expect(line.gap).toBe(0);
      expect(line.receivedAt).toBeGreaterThanOrEqual(before);
      expect(line.publisherId).toBe(s.publisherId);
    }
    // Sequences count per subject: INFY is every fifth tick.
    const infy = all.lines.filter((l) => l.subject === `kite.tick.NSE.${INFY}`);
    expect(infy.map((l) => l.sequence)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));

    const expectedIndices = ticks.filter((t) => t.exchange === 'INDICES');
    expect(indices.lines.map((l) => l.tick)).toEqual(asJson(expectedIndices));
    expect(new Set(indices.lines.map((l) => l.subject))).toEqual(new Set([`kite.tick.INDICES.${NIFTY_50}`]));
    expect(s.stats()).toMatchObject({ published: 100, dropped: 0, buffered: 0, connected: true });
  });

  it('nats - subject filters select one instrument, one exchange, or everything', async () => {
    const s = await sink();
    const one = await subscription({ filter: { token: INFY } });
    const exchange = await subscription({ filter: { exchange: 'INDICES' } });
    const both = await subscription({ filter: [{ token: INFY }, { exchange: 'CDS' }] });
    const everything = await subscription();

    const ticks = sampleTicks(50);
    s.publishTicks(ticks);
    const count = (pred: (t: Tick) => boolean) => ticks.filter(pred).length;

    const gotOne = await take(
      one,
      count((t) => t.instrument_token === INFY),
    );
    const gotExchange = await take(
      exchange,
      count((t) => t.exchange === 'INDICES'),
    );
    const gotBoth = await take(
      both,
      count((t) => t.instrument_token === INFY || t.exchange === 'CDS'),
    );
    const gotAll = await take(everything, 50);

    expect(gotOne.every((m) => m.tick.instrument_token === INFY)).toBe(true);
    expect(gotOne).toHaveLength(10);
    expect(gotExchange.every((m) => m.tick.exchange === 'INDICES')).toBe(true);
    expect(gotExchange).toHaveLength(20);
    expect(gotBoth.map((m) => m.tick.exchange).sort()).toEqual([
      ...Array(10).fill('CDS'),
      ...Array(10).fill('NSE'),
    ]);
    expect(gotAll.map((m) => m.tick)).toEqual(ticks);
    // Nothing extra arrives on the narrow filters.
    await s.connection!.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(one.stats().received).toBe(10);
    expect(exchange.stats().received).toBe(20);
  });

  it('nats - a jump in the sequence is reported as a gap', async () => {
    const nc = await client();
    const sub = await subscription({ filter: { token: INFY } });
    const writer = new EnvelopeWriter();
    const [tick] = sampleTicks(1);
    const key = apiKeyIdBytes('k');
    const subject = `kite.tick.NSE.${INFY}`;
    for (const seq of [1, 2, 5, 6, 10]) nc.publish(subject, writer.writeV1(tick!, key, 7, seq, Date.now()));
    // A restarted publisher (new id) starting again at 1 is not a gap.
    nc.publish(subject, writer.writeV1(tick!, key, 8, 1, Date.now()));
    nc.publish(subject, writer.writeV1(tick!, key, 8, 3, Date.now()));

    const got = await take(sub, 7);
    expect(got.map((m) => m.gap)).toEqual([0, 0, 2, 0, 3, 0, 1]);
    expect(sub.stats()).toMatchObject({ received: 7, missed: 6, decodeErrors: 0 });
  });

  it('nats - a tick that cannot be encoded is dropped, counted, and seen as a gap', async () => {
    const s = await sink();
    const sub = await subscription({ filter: { token: INFY } });
    const [good1, , , , , good2] = sampleTicks(6);
    const bad = { ...good1!, last_price: Number.NaN } as Tick;
    s.publishTicks([good1!, bad, good2!]);
    const got = await take(sub, 2);
    expect(got.map((m) => [m.sequence, m.gap])).toEqual([
      [1, 0],
      [3, 1],
    ]);
    expect(s.stats()).toMatchObject({ published: 2, dropped: 1 });
  });

  it('nats - bytes awaiting the server are bounded: the excess waits in the outbox, then goes out in order', async () => {
    const s = await sink({ maxPendingBytes: 4096 });
    const sub = await subscription();
    const ticks = sampleTicks(500);
    s.publishTicks(ticks);
    // ~90 bytes a message: far more than 4 KiB cannot have been handed to the client in one go.
    expect(s.stats().buffered).toBeGreaterThan(400);
    const got = await take(sub, 500);
    expect(got.map((m) => m.tick)).toEqual(ticks);
    expect(s.stats()).toMatchObject({ published: 500, buffered: 0, dropped: 0 });
    expect(sub.stats().missed).toBe(0);
  });

  it('nats - JSON encoding carries the same ticks', async () => {
    const s = await sink({ encoding: 'json', apiKeyId: 'j' });
    const sub = await subscription();
    const ticks = sampleTicks(10);
    s.publishTicks(ticks);
    const got = await take(sub, 10);
    expect(got.map((m) => m.tick)).toEqual(ticks);
    expect(got.every((m) => m.apiKeyId === 'j' && m.gap === 0)).toBe(true);
  });

  it('nats - a queue group shares the ticks: each one reaches exactly one member', async () => {
    const s = await sink();
    const a = await subscription({ queue: 'strategies' });
    const b = await subscription({ queue: 'strategies' });
    s.publishTicks(sampleTicks(200));
    await s.connection!.flush();
    const deadline = Date.now() + 5_000;
    while (a.stats().received + b.stats().received < 200 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const got = [...(await take(a, a.stats().received)), ...(await take(b, b.stats().received))];
    expect(got).toHaveLength(200);
    expect(new Set(got.map((m) => `${m.subject}#${m.sequence}`)).size).toBe(200);
    expect(got.every((m) => m.gap === 0)).toBe(true);
  });

  it('nats - attach() publishes ticks and status of the one manager shape (with an id override), and detaches', async () => {
    const s = await sink({ apiKeyId: 'single' });
    const nc = await client();
    const statuses: { subject: string; body: Record<string, unknown> }[] = [];
    nc.subscribe('kite.status.>', {
      callback: (_e, m) => {
        statuses.push({ subject: m.subject, body: m.json() });
      },
    });
    await nc.flush();
    const sub = await subscription();

    const multi = new EventEmitter();
    const single = new EventEmitter();
    const detachMulti = s.attach(multi);
    s.attach(single, { apiKeyId: 'single' });
    const [t1, t2, t3] = sampleTicks(3);
    multi.emit('ticks', [t1], 'key.B', 2); // multi-key manager: (ticks, apiKeyId, connectionIndex)
    single.emit('ticks', [t2], 'k', 1); // the same shape, published under the override id
    multi.emit('status', { status: 'connected', attempt: 1 }, 'key.B', 2);
    detachMulti();
    multi.emit('ticks', [t3], 'key.B', 2);

    const got = await take(sub, 2);
    expect(got.map((m) => [m.apiKeyId, m.tick.instrument_token])).toEqual([
      ['key.B', t1!.instrument_token],
      ['single', t2!.instrument_token],
    ]);
    await s.connection!.flush();
    await nc.flush();
    expect(statuses).toEqual([
      {
        subject: 'kite.status.key_B',
        body: expect.objectContaining({
          apiKeyId: 'key.B',
          connectionIndex: 2,
          event: { status: 'connected', attempt: 1 },
        }),
      },
    ]);
    expect(multi.listenerCount('ticks')).toBe(0);
    expect(s.stats().published).toBe(3);
  });

  it('nats - publishing never throws, even with the sink closed or NATS unreachable', async () => {
    const { NatsTickSink } = await import('../../src/sinks/index.js');
    const offline = new NatsTickSink({
      servers: 'nats://127.0.0.1:1',
      maxBufferedMessages: 5,
      connectTimeoutMs: 500,
    });
    await expect(offline.connect()).rejects.toMatchObject({ code: 'ERR_CONNECTION' });
    expect(() => offline.publishTicks(sampleTicks(8))).not.toThrow();
    expect(offline.stats()).toMatchObject({ published: 0, buffered: 5, dropped: 3, connected: false });
    await offline.close();
    expect(offline.stats()).toMatchObject({ buffered: 0, dropped: 8 });
    expect(() => offline.publishTicks(sampleTicks(2))).not.toThrow();
    expect(offline.stats().dropped).toBe(10);
  });
});
