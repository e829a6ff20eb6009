/**
 * A tiny HTTP server for /metrics (and any other read-only endpoint beside it, such as health checks),
 * bound to 127.0.0.1 by default: the numbers say which keys and instruments are in use.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from './exposition.js';

/** One GET endpoint's answer, computed on each request. */
export interface HttpReply {
  status: number;
  contentType: string;
  body: string;
}

export type HttpRoute = () => HttpReply;

export interface MetricsServer {
  readonly port: number;
  /** http://127.0.0.1:PORT/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `render()` at GET /metrics on host:port (0 = any free port), and each of `routes` at its
 * path. A route that throws answers 500 without its message (it may name internals).
 */
export function startMetricsServer(
  port: number,
  render: () => string,
  host = '127.0.0.1',
  routes: Readonly<Record<string, HttpRoute>> = {},
): Promise<MetricsServer> {
  const all = new Map<string, HttpRoute>(Object.entries(routes));
  all.set('/metrics', () => ({ status: 200, contentType: PROMETHEUS_CONTENT_TYPE, body: render() }));
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const route = all.get(path);
    if (route === undefined || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(route ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(route ? 'method not allowed\n' : 'not found: try /metrics\n');
      return;
    }
    let reply: HttpReply;
    try {
      reply = route();
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(path === '/metrics' ? 'metrics unavailable\n' : 'unavailable\n');
      return;
    }
    res.writeHead(reply.status, {
      'content-type': reply.contentType,
      'content-length': Buffer.byteLength(reply.body),
    });
    res.end(req.method === 'HEAD' ? undefined : reply.body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = (server.address() as AddressInfo).port;
      resolve({
        port: actual,
        url: `http://${host}:${actual}/metrics`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
