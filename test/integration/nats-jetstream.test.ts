import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import { createNatsSink, latestTicks, type NatsTickSink } from '../../src/sinks/index.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { NIFTY_50, sampleTicks } from '../helpers/nats-ticks.js';

let server: NatsServerHandle;
let sink: NatsTickSink;
let late: NatsConnection;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: true });
});
afterAll(async () => {
  await late?.close();
  await sink?.close();
  await server?.dispose();
});

describe('nats jetstream', () => {
  it('nats - a late consumer reads the last tick of every instrument at once', async () => {
    sink = await createNatsSink({ servers: server.url, jetstream: { storage: 'file' } });
    const ticks = sampleTicks(53);
    sink.publishTicks(ticks, 'js-key');

    late = await connect({ servers: server.url });
    const jsm = await jetstreamManager(late);
    // The stream captures core publishes asynchronously: wait until all 53 went through it.
    const deadline = Date.now() + 5_000;
    let info = await jsm.streams.info('KITE_TICKS');
    while (info.state.last_seq < 53 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      info = await jsm.streams.info('KITE_TICKS');
    }
    expect(info.config.max_msgs_per_subject).toBe(1);
    expect(info.state.messages).toBe(4); // one per instrument

    const lastBySubject = new Map<number, { tick: Tick; sequence: number }>();
    const seqs = new Map<number, number>();
    for (const t of ticks) {
      const seq = (seqs.get(t.instrument_token) ?? 0) + 1;
      seqs.set(t.instrument_token, seq);
      lastBySubject.set(t.instrument_token, { tick: t, sequence: seq });
    }

    const latest = await latestTicks(late);
    expect(latest).toHaveLength(4);
    for (const m of latest) {
      const expected = lastBySubject.get(m.tick.instrument_token)!;
      expect(m.tick).toEqual(expected.tick);
      expect(m.sequence).toBe(expected.sequence);
      expect(m.apiKeyId).toBe('js-key');
    }

    const indices = await latestTicks(late, { filter: { exchange: 'INDICES' } });
    expect(indices.map((m) => m.tick.instrument_token)).toEqual([NIFTY_50]);
    expect(indices[0]!.tick).toEqual(lastBySubject.get(NIFTY_50)!.tick);
  });

  it('nats - an existing stream is made to keep one message per subject', async () => {
    const nc = await connect({ servers: server.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'OTHER', subjects: ['other.tick.>'], max_msgs_per_subject: 10 });
      const s = await createNatsSink({
        servers: server.url,
        subjectPrefix: 'other',
        jetstream: { stream: 'OTHER' },
      });
      await s.close();
      expect((await jsm.streams.info('OTHER')).config.max_msgs_per_subject).toBe(1);
      expect(await latestTicks(nc, { stream: 'OTHER', subjectPrefix: 'other' })).toEqual([]);
    } finally {
      await nc.close();
    }
  });
});
