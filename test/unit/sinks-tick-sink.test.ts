/**
 * The TickSink interface: the recorder and the Prometheus exporter driven only through it, over the
 * CLI's feed (a fake manager: an EventEmitter with the manager's event arguments).
 */
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecording } from '../../src/cli/recording.js';
import { ManagerFeed } from '../../src/cli/stream/feed.js';
import type { StatusEvent } from '../../src/connection/types.js';
import type { Tick } from '../../src/protocol/types.js';
import { NatsTickSink } from '../../src/sinks/index.js';
import { PrometheusSink } from '../../src/sinks/prometheus/index.js';
import { RecorderSink, type RecordingMetadata, RecordKind } from '../../src/sinks/recorder/index.js';
import type { FeedSnapshot, TickFeedEvents, TickSink } from '../../src/sinks/tick-sink.js';

type FakeManager = EventEmitter<Pick<TickFeedEvents, 'ticks' | 'status' | 'order'>>;

function snapshotWith(ticks: number): FeedSnapshot {
  return {
    at: Date.now(),
    uptimeMs: 2000,
    apiKeys: [
      {
        apiKeyId: 'primary',
        state: 'active',
        drops: 0,
        connections: [
          {
            index: 0,
            status: 'connected',
            connected: true,
            symbols: 3,
            frames: 1,
            ticks,
            bytes: 10,
            reconnects: 0,
            protocolErrors: 0,
            lastFrameAgeMs: 5,
          },
        ],
      },
    ],
  };
}

const meta: RecordingMetadata = {
  createdAt: '2026-01-01T00:00:00.000Z',
  tool: 'kiteticker',
  endpoint: 'simulator',
  mode: 'full',
  sources: ['primary', 'backup'],
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-sinks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sinks TickSink', () => {
  it('sinks feed - listeners added before the manager exists get its events once bound; raw frames and off work', () => {
    const feed = new ManagerFeed();
    const seen: string[] = [];
    const early = (ticks: Tick[], apiKeyId: string, index: number) =>
      seen.push(`early ${ticks.length} ${apiKeyId}#${index}`);
    const removed = () => seen.push('removed');
    feed.on('ticks', early);
    feed.on('status', removed);
    feed.off('status', removed);
    feed.on('rawFrame', (data, apiKeyId, index) => seen.push(`raw ${data.length} ${apiKeyId}#${index}`));
    expect(feed.snapshot().apiKeys).toEqual([]);
    const manager: FakeManager = new EventEmitter();
    feed.bind(manager, () => snapshotWith(7));
    manager.emit('ticks', [{ instrument_token: 1 } as Tick], 'primary', 2);
    manager.emit('status', { status: 'connected' } as StatusEvent, 'primary', 0);
    feed.tapRawFrame(new Uint8Array(4), 'backup', 1);
    feed.off('ticks', early);
    manager.emit('ticks', [], 'primary', 0);
    expect(seen).toEqual(['early 1 primary#2', 'raw 4 backup#1']);
    expect(feed.snapshot().apiKeys[0]?.connections[0]?.ticks).toBe(7);
  });

  it('sinks recorder - through TickSink: records raw frames and orders by key and socket, counts them, stops at close', async () => {
    const path = join(dir, 'one.ktrec');
    const sink: TickSink = new RecorderSink({ path, metadata: meta });
    expect(sink.name).toBe('recorder');
    expect(sink.wantsRawFrames).toBe(true);
    const feed = new ManagerFeed();
    await sink.attach(feed);
    const manager: FakeManager = new EventEmitter();
    feed.bind(manager, () => snapshotWith(0));
    feed.tapRawFrame(Uint8Array.of(0, 1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8), 'backup', 2);
    manager.emit('order', { order_id: 'X1' } as never, 'primary', 0);
    const orderText = JSON.stringify({ type: 'order', data: { order_id: 'X1' } });
    expect(sink.stats()).toEqual({ path, records: 2, bytes: 16 * 2 + 12 + orderText.length, dropped: 0 });
    await sink.close();
    await sink.close();
    // Detached: nothing more is written (a write after the end would fail the file).
    feed.tapRawFrame(Uint8Array.of(9, 9), 'primary', 0);
    expect(sink.stats()).toMatchObject({ records: 2 });
    const events = [];
    for await (const e of readRecording(path)) events.push(e);
    const records = events.filter((e) => e.type === 'record');
    expect(records.map((r) => [r.kind, r.source, r.connection])).toEqual([
      [RecordKind.Binary, 1, 2],
      [RecordKind.Text, 0, 0],
    ]);
    expect(JSON.parse(Buffer.from(records[1]!.payload).toString())).toEqual({
      type: 'order',
      data: { order_id: 'X1' },
    });
  });

  it('sinks recorder - attach rejects with EEXIST for an existing file unless overwrite, and keeps the file', async () => {
    const path = join(dir, 'exists.ktrec');
    const first = new RecorderSink({ path, metadata: meta });
    await first.attach(new ManagerFeed());
    await first.close();
    const second: TickSink = new RecorderSink({ path, metadata: meta });
    await expect(second.attach(new ManagerFeed())).rejects.toMatchObject({ code: 'EEXIST' });
    const third: TickSink = new RecorderSink({ path, metadata: meta, overwrite: true });
    await third.attach(new ManagerFeed());
    await third.close();
  });

  it('sinks prometheus - through TickSink: serves the feed and the extra counters at /metrics, and stops at close', async () => {
    const prometheus = new PrometheusSink({ port: 0, counters: () => ({ outputDrops: 3, recordDrops: 1 }) });
    const sink: TickSink = prometheus;
    const feed = new ManagerFeed();
    feed.bind(new EventEmitter() as FakeManager, () => snapshotWith(42));
    await sink.attach(feed);
    const url = prometheus.url!;
    expect(url).toBe(`http://127.0.0.1:${prometheus.port}/metrics`);
    const text = await (await fetch(url)).text();
    expect(text).toContain('kiteticker_ticks_total{api_key_id="primary",connection="0"} 42');
    expect(text).toContain('kiteticker_output_drops_total 3');
    expect(text).toContain('kiteticker_record_drops_total 1');
    expect(sink.stats()).toEqual({ url, scrapes: 1 });
    await sink.close();
    await expect(fetch(url)).rejects.toThrow();
  });

  it('sinks prometheus - attach rejects with EADDRINUSE when the port is taken, and a route beside /metrics answers', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(new PrometheusSink({ port }).attach(new ManagerFeed())).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    const sink = new PrometheusSink({
      port: 0,
      routes: { '/healthz': () => ({ status: 200, contentType: 'text/plain', body: 'ok\n' }) },
    });
    await sink.attach(new ManagerFeed());
    try {
      const res = await fetch(`http://127.0.0.1:${sink.port}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('ok\n');
      expect((await fetch(`http://127.0.0.1:${sink.port}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await sink.close();
    }
  });

  it('sinks nats - the NATS sink is a TickSink too (attaches to the same feed)', async () => {
    const sink: TickSink = new NatsTickSink({ servers: 'nats://127.0.0.1:1' });
    expect(sink.name).toBe('nats');
    const feed = new ManagerFeed();
    const manager: FakeManager = new EventEmitter();
    feed.bind(manager, () => snapshotWith(0));
    sink.attach(feed);
    manager.emit('ticks', [{ instrument_token: 408065, mode: 'ltp', last_price: 1 } as Tick], 'primary', 0);
    // Not connected: the message waits in the bounded outbox.
    expect(sink.stats()).toMatchObject({ buffered: 1, published: 0 });
    await sink.close();
    expect(manager.listenerCount('ticks')).toBe(0);
  });
});
