/**
 * Opening the lease bucket on a slow NATS: creating a bucket (a replicated one forms a raft group) may
 * take longer than a lease operation's timeout. The store retries the create, which the server goes on
 * with after the client timed out, instead of failing the instance's start-up. A proxy delays every
 * server -> client byte for the first second, so each request of that second times out.
 */
import { createServer, connect as dialTcp, type Server, type Socket } from 'node:net';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionError } from '../../src/errors.js';
import { LeaseStore } from '../../src/ha/store.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';

let nats: NatsServerHandle;
let server: Server | undefined;
let nc: NatsConnection | undefined;
const sockets = new Set<Socket>();
let delayMs = 0;

/** Forwards to the server; bytes back to the client are held `delayMs` each, in order. */
async function startDelayProxy(targetPort: number): Promise<number> {
  server = createServer((client) => {
    const upstream = dialTcp(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    const queue: { at: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const pump = (): void => {
      timer = undefined;
      while (queue.length > 0 && queue[0]!.at <= Date.now()) client.write(queue.shift()!.chunk);
      if (queue.length > 0) timer = setTimeout(pump, queue[0]!.at - Date.now());
    };
    upstream.on('data', (chunk) => {
      const last = queue.at(-1)?.at ?? 0;
      queue.push({ at: Math.max(Date.now() + delayMs, last), chunk });
      if (!timer) pump();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
});

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await nats?.dispose();
});

describe('ha store', () => {
  it('ha store - opening the bucket outlasts lease-operation timeouts on a slow NATS: retried, not failed', async () => {
    const port = await startDelayProxy(nats.port);
    nc = await connect({ servers: `nats://127.0.0.1:${port}` });
    delayMs = 400;
    const slowUntil = Date.now() + 1_000;
    const fast = setTimeout(() => {
      delayMs = 0;
    }, 1_000);
    try {
      // Each request of the first second is answered after 400 ms: past the 200 ms timeout.
      const store = await LeaseStore.open(nc, 'slowopen', {
        cleanupMs: 60_000,
        timeoutMs: 200,
        storage: 'memory',
      });
      expect(Date.now()).toBeGreaterThanOrEqual(slowUntil - 50);
      const revision = await store.put('member.x', new TextEncoder().encode('{}'));
      expect((await store.get('member.x'))?.revision).toBe(revision);
    } finally {
      clearTimeout(fast);
    }
  }, 30_000);

  it('ha store - a NATS that stays too slow still fails the open, after openTimeoutMs', async () => {
    delayMs = 400;
    const started = Date.now();
    await expect(
      LeaseStore.open(nc!, 'slowopen2', {
        cleanupMs: 60_000,
        timeoutMs: 200,
        openTimeoutMs: 1_000,
        storage: 'memory',
      }),
    ).rejects.toThrow(ConnectionError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    delayMs = 0;
  }, 30_000);
});
