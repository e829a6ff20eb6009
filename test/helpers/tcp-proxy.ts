/**
 * A loopback TCP proxy a test controls, to cut one client off a server while others stay connected
 * (a network partition): `blackhole` keeps the sockets open and drops every byte (the client only
 * notices by timeouts), `reset` destroys them and refuses new ones; `restore` forwards again.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  readonly url: string;
  /** Client connections forwarded now (which client holds sockets, when each has a proxy of its own). */
  readonly connections: number;
  cut(mode: 'blackhole' | 'reset'): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, scheme = 'nats'): Promise<TcpProxy> {
  let state: 'open' | 'blackhole' | 'reset' = 'open';
  const pairs = new Set<[Socket, Socket]>();
  const server: Server = createServer((client) => {
    if (state === 'reset') {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forward = (from: Socket, to: Socket) =>
      from.on('data', (chunk) => {
        if (state === 'open') to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  const destroyAll = () => {
    for (const pair of pairs) for (const socket of pair) socket.destroy();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    url: `${scheme}://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    cut(mode) {
      state = mode;
      if (mode === 'reset') destroyAll();
    },
    restore() {
      state = 'open';
    },
    close: async () => {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
