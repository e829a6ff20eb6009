/**
 * The Kite protocol front end (src/kite-server) on its own, with no market: a fake authoriser and a fake
 * frame source that records what the front end tells it. Proves the front end is usable by a second
 * server (the relay of issue 17): upgrade auth and limits, commands, heartbeats, sending, HTTP routes.
 * Real sockets on a loopback port; a raw `net` socket where a WebSocket client would not send the request.
 */
import { connect as netConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { KiteServerConnection } from '../../src/kite-server/connection.js';
import { KiteProtocolServer } from '../../src/kite-server/server.js';
import type {
  Authorisation,
  KiteFrameSender,
  KiteFrameSource,
  KiteServerOptions,
  SubscriptionChange,
  UpgradeRequest,
} from '../../src/kite-server/types.js';

/** Clients `alice` (2 sockets at most, from the authoriser) and `bob` (the server's default). */
const CLIENTS: Record<string, { token: string; maxConnections?: number }> = {
  alice: { token: 'a-secret', maxConnections: 2 },
  bob: { token: 'b-secret' },
};

class FakeSource implements KiteFrameSource {
  readonly events: string[] = [];
  readonly changes: SubscriptionChange[] = [];
  readonly conns = new Map<number, KiteServerConnection>();
  busyFor = new Set<number>();
  throwOnChange = false;
  constructor(readonly sender: KiteFrameSender) {}
  attach(conn: KiteServerConnection): void {
    this.conns.set(conn.id, conn);
    this.events.push(`attach ${conn.id} ${conn.apiKey}`);
  }
  changed(_conn: KiteServerConnection, change: SubscriptionChange): void {
    if (this.throwOnChange) throw new Error('source failed');
    this.changes.push(change);
  }
  detach(conn: KiteServerConnection): void {
    this.conns.delete(conn.id);
    this.events.push(`detach ${conn.id}`);
  }
  busy(conn: KiteServerConnection): boolean {
    return this.busyFor.has(conn.id);
  }
}

class Client {
  readonly ws: WebSocket;
  readonly texts: string[] = [];
  readonly binaries: Buffer[] = [];
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on('error', () => {});
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) this.binaries.push(data as Buffer);
      else this.texts.push(data.toString());
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.ws.once('error', reject);
    });
  }
}

let servers: KiteProtocolServer<FakeSource>[] = [];
let clients: Client[] = [];

afterEach(async () => {
  for (const c of clients) c.ws.terminate();
  clients = [];
  await Promise.all(servers.map((s) => s.shutdown()));
  servers = [];
});

async function startServer(over: Partial<KiteServerOptions<FakeSource>> = {}): Promise<{
  server: KiteProtocolServer<FakeSource>;
  refusals: number[];
  disconnects: number[];
  url: string;
}> {
  const refusals: number[] = [];
  const disconnects: number[] = [];
  const server = new KiteProtocolServer<FakeSource>({
    authoriser: {
      authorise: (r: UpgradeRequest): Authorisation => {
        const c = r.apiKey === undefined ? undefined : CLIENTS[r.apiKey];
        if (!c || c.token !== r.accessToken) return { ok: false, status: 403, reason: 'who are you' };
        return c.maxConnections === undefined
          ? { ok: true, apiKey: r.apiKey! }
          : { ok: true, apiKey: r.apiKey!, maxConnections: c.maxConnections };
      },
      knows: (k) => k in CLIENTS,
    },
    source: (sender) => new FakeSource(sender),
    observer: { refused: (e) => refusals.push(e.status), disconnect: (e) => disconnects.push(e.id) },
    maxConnectionsPerKey: 3,
    connectionLimitStatus: 429,
    maxInstrumentsPerConnection: 3,
    heartbeatIntervalMs: 40,
    commandLogLimit: 100,
    commandLogBytes: 64 * 1024,
    ...over,
  });
  servers.push(server);
  await server.listen(0, '127.0.0.1');
  return { server, refusals, disconnects, url: `ws://127.0.0.1:${server.port}` };
}

async function connect(url: string, key = 'bob', token = CLIENTS[key]?.token ?? 'x'): Promise<Client> {
  const c = new Client(`${url}/?api_key=${key}&access_token=${token}`);
  clients.push(c);
  await c.opened;
  return c;
}

async function until(pred: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('kite-server front end', () => {
  it('kite-server - the authoriser decides who connects; its own socket limit beats the default', async () => {
    const { server, refusals, url } = await startServer();
    await expect(connect(url, 'bob', 'wrong')).rejects.toThrow('HTTP 403');
    await expect(connect(url, 'mallory', 'x')).rejects.toThrow('HTTP 403');
    await connect(url, 'alice');
    await connect(url, 'alice');
    await expect(connect(url, 'alice')).rejects.toThrow('HTTP 429'); // alice: 2, from the authoriser
    for (let i = 0; i < 3; i++) await connect(url, 'bob');
    await expect(connect(url, 'bob')).rejects.toThrow('HTTP 429'); // bob: the server's 3
    expect(refusals).toEqual([403, 403, 429, 429]);
    expect(server.source.events).toEqual([
      'attach 1 alice',
      'attach 2 alice',
      'attach 3 bob',
      'attach 4 bob',
      'attach 5 bob',
    ]);
    expect(server.keyStats('alice')).toMatchObject({ open: 2, accepted: 2, rejected: { 429: 1 } });
  });

  it('kite-server - a malformed upgrade is refused with 400 and holds no slot', async () => {
    const { server, url } = await startServer();
    for (let i = 0; i < 5; i++) {
      // A valid key and token but no Sec-WebSocket-Key: ws refuses it after the authoriser said yes.
      const reply = await new Promise<string>((resolve) => {
        const s = netConnect(server.port, '127.0.0.1', () =>
          s.write(
            'GET /?api_key=alice&access_token=a-secret HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
          ),
        );
        let text = '';
        s.on('data', (d) => {
          text += d.toString();
        });
        s.on('close', () => resolve(text));
        s.on('error', () => resolve(text));
      });
      expect(reply).toMatch(/^HTTP\/1\.1 400/);
    }
    expect(server.keyStats('alice')).toMatchObject({ open: 0, accepted: 0, rejected: { 400: 5 } });
    await connect(url, 'alice');
    await connect(url, 'alice');
  });

  it('kite-server - commands reach the source as changes, with Kite rules and the per-connection limit', async () => {
    const { server, url } = await startServer();
    const c = await connect(url);
    const send = (o: unknown): void => c.ws.send(JSON.stringify(o));
    send({ a: 'subscribe', v: [11, 12] });
    send({ a: 'subscribe', v: [12, 13, 14, 15] }); // 12 already there; room for one more (limit 3)
    send({ a: 'mode', v: ['full', [11, 99]] }); // 99 is not subscribed: ignored
    send({ a: 'unsubscribe', v: [12, 77] });
    // The changes are recorded before the error frame has crossed the socket back: wait for both.
    await until(
      () => server.source.changes.length === 4 && c.texts.length === 1,
      'four changes and the error',
    );
    expect(server.source.changes).toEqual([
      { action: 'subscribe', tokens: [11, 12], mode: 'quote' },
      { action: 'subscribe', tokens: [13], mode: 'quote' },
      { action: 'mode', tokens: [11], mode: 'full' },
      { action: 'unsubscribe', tokens: [12] },
    ]);
    expect(c.texts.map((t) => JSON.parse(t))).toEqual([
      {
        type: 'error',
        data: 'max tokens exceeded: 2 token(s) not subscribed, a connection can subscribe at most 3 instruments',
      },
    ]);
    expect([...server.source.conns.get(1)!.subscriptions]).toEqual([
      [11, 'full'],
      [13, 'quote'],
    ]);
    expect(server.keyStats('bob')!.commands.entries()).toHaveLength(4);
  });

  it('kite-server - a hostile command is answered, counted and never reaches the source', async () => {
    const { server, url } = await startServer();
    const c = await connect(url);
    c.ws.send('{not json');
    c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    c.ws.send(JSON.stringify({ a: 'subscribe', v: ['11'] }));
    server.source.throwOnChange = true; // a source failing on a command does not end the server
    c.ws.send(JSON.stringify({ a: 'subscribe', v: [11] }));
    await until(() => c.texts.length === 4, 'four error frames');
    const errors = c.texts.map((t) => JSON.parse(t) as { type: string; data: string });
    expect(errors.every((e) => e.type === 'error')).toBe(true);
    expect(errors[0]!.data).toMatch(/^invalid message: /);
    expect(errors[1]!.data).toMatch(/^binary messages are not accepted/);
    expect(errors[3]!.data).toBe('invalid message: it could not be processed');
    expect(server.source.changes).toEqual([]);
    expect(server.keyStats('bob')!.invalidCommands).toBe(4);
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('kite-server - idle sockets get 1-byte heartbeats unless the source keeps them busy', async () => {
    const { server, url } = await startServer();
    const idle = await connect(url);
    const busy = await connect(url);
    server.source.busyFor.add(2);
    await until(() => idle.binaries.length >= 3, 'three heartbeats');
    expect(idle.binaries.every((b) => b.length === 1 && b[0] === 0)).toBe(true);
    expect(busy.binaries).toEqual([]);
    expect(server.source.conns.get(1)!.heartbeatsSent).toBe(idle.binaries.length);
  });

  it('kite-server - the source sends through the sender; order and message text frames go per key', async () => {
    const seen: Array<[number, Uint8Array | string]> = [];
    const { server, url } = await startServer({
      heartbeatIntervalMs: 60_000,
      onFrameSent: (id, f) => seen.push([id, f]),
    });
    const bob = await connect(url);
    const alice = await connect(url, 'alice');
    const conn = server.source.conns.get(1)!;
    const frame = Buffer.from([0, 1, 0, 8, 0, 0, 0, 11, 0, 0, 0, 5]);
    server.source.sender.sendTicks(conn, [frame], 1, Date.now());
    server.sendOrderUpdate('alice', { order_id: '1' });
    server.sendMessage('bob', 'hello');
    await until(
      () => bob.binaries.length === 1 && bob.texts.length === 1 && alice.texts.length === 1,
      'frames',
    );
    expect(bob.binaries[0]).toEqual(frame);
    expect(JSON.parse(bob.texts[0]!)).toEqual({ type: 'message', data: 'hello' });
    expect(JSON.parse(alice.texts[0]!)).toEqual({ type: 'order', data: { order_id: '1' } });
    expect(conn).toMatchObject({ framesSent: 1, ticksSent: 1 });
    expect(seen.map(([id, f]) => [id, typeof f])).toEqual([
      [1, 'object'],
      [2, 'string'],
      [1, 'string'],
    ]);
  });

  it('kite-server - a closed socket is detached once and its key slot freed', async () => {
    const { server, disconnects, url } = await startServer();
    const a = await connect(url, 'alice');
    await connect(url, 'alice');
    server.detach(server.source.conns.get(1)!, { code: 1008, reason: 'bye' });
    a.ws.close();
    await until(() => server.keyStats('alice')!.open === 1, 'slot freed');
    expect(server.source.events.filter((e) => e.startsWith('detach'))).toEqual(['detach 1']);
    await connect(url, 'alice');
    expect(disconnects).toEqual([1]);
  });

  it('kite-server - plain HTTP goes to the registered routes, else 426', async () => {
    const { server } = await startServer({ upgradeRequiredText: 'speak WebSocket\n' });
    server.addRoute({
      handle: (req, res) => {
        if (req.url !== '/hello') return false;
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('hi\n');
        return true;
      },
    });
    const base = `http://127.0.0.1:${server.port}`;
    const hello = await fetch(`${base}/hello`);
    expect([hello.status, await hello.text()]).toEqual([200, 'hi\n']);
    const other = await fetch(`${base}/other`);
    expect([other.status, await other.text()]).toEqual([426, 'speak WebSocket\n']);
  });
});
