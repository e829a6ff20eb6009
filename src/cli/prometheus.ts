/**
 * Prometheus text exposition (format 0.0.4) of a stats snapshot, and a tiny HTTP server for it on
 * 127.0.0.1. Written here rather than pulling prom-client: the data is a snapshot we already have,
 * so rendering on each scrape is all that is needed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CliStatsSnapshot } from './snapshot.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Values the CLI itself counts (not in the manager's stats). */
export interface CliCounters {
  /** Output batches dropped because stdout could not keep up. */
  outputDrops?: number;
  /** Frames dropped by the recorder. */
  recordDrops?: number;
}

type Sample = [labels: string, value: number];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function family(
  out: string[],
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  samples: Sample[],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${formatValue(value)}`);
}

/** The exposition text; ends with a newline as the format requires. */
export function renderPrometheus(snapshot: CliStatsSnapshot, counters: CliCounters = {}): string {
  const perConnection = (
    pick: (c: CliStatsSnapshot['apiKeys'][number]['connections'][number]) => number | null,
  ) => {
    const samples: Sample[] = [];
    for (const key of snapshot.apiKeys) {
      for (const c of key.connections) {
        const value = pick(c);
        if (value === null) continue;
        samples.push([`{api_key_id="${escapeLabel(key.apiKeyId)}",connection="${c.index}"}`, value]);
      }
    }
    return samples;
  };
  const out: string[] = [];
  family(out, 'kiteticker_api_keys', 'gauge', 'API keys configured.', [['', snapshot.apiKeys.length]]);
  family(
    out,
    'kiteticker_connections',
    'gauge',
    'WebSocket connections per API key and state (up: connected now).',
    snapshot.apiKeys.flatMap((k): Sample[] => {
      const up = k.connections.filter((c) => c.connected).length;
      const id = escapeLabel(k.apiKeyId);
      return [
        [`{api_key_id="${id}",state="up"}`, up],
        [`{api_key_id="${id}",state="down"}`, k.connections.length - up],
      ];
    }),
  );
  family(
    out,
    'kiteticker_connection_up',
    'gauge',
    '1 when the connection is connected.',
    perConnection((c) => (c.connected ? 1 : 0)),
  );
  family(
    out,
    'kiteticker_symbols',
    'gauge',
    'Instruments subscribed on the connection.',
    perConnection((c) => c.symbols),
  );
  family(
    out,
    'kiteticker_ticks_total',
    'counter',
    'Ticks decoded.',
    perConnection((c) => c.ticks),
  );
  family(
    out,
    'kiteticker_frames_total',
    'counter',
    'Binary market-data frames received (heartbeats excluded).',
    perConnection((c) => c.frames),
  );
  family(
    out,
    'kiteticker_bytes_total',
    'counter',
    'Bytes of every frame received.',
    perConnection((c) => c.bytes),
  );
  family(
    out,
    'kiteticker_reconnects_total',
    'counter',
    'Successful reconnections.',
    perConnection((c) => c.reconnects),
  );
  family(
    out,
    'kiteticker_drops_total',
    'counter',
    'Messages dropped by overflow policies (bounded channels and the internal pump), per API key.',
    snapshot.apiKeys.map((k): Sample => [`{api_key_id="${escapeLabel(k.apiKeyId)}"}`, k.drops]),
  );
  family(
    out,
    'kiteticker_protocol_errors_total',
    'counter',
    'Malformed packets or text frames skipped.',
    perConnection((c) => c.protocolErrors),
  );
  family(
    out,
    'kiteticker_last_frame_age_seconds',
    'gauge',
    'Seconds since the connection last received any frame (heartbeats included).',
    perConnection((c) => (c.lastFrameAgeMs === null ? null : c.lastFrameAgeMs / 1000)),
  );
  family(out, 'kiteticker_uptime_seconds', 'gauge', 'Seconds since the manager started.', [
    ['', snapshot.uptimeMs / 1000],
  ]);
  family(
    out,
    'kiteticker_output_drops_total',
    'counter',
    'Output batches dropped because stdout could not keep up.',
    [['', counters.outputDrops ?? 0]],
  );
  if (counters.recordDrops !== undefined) {
    family(
      out,
      'kiteticker_record_drops_total',
      'counter',
      'Frames the recorder dropped because the disk could not keep up.',
      [['', counters.recordDrops]],
    );
  }
  return `${out.join('\n')}\n`;
}

export interface MetricsServer {
  readonly port: number;
  /** http://127.0.0.1:PORT/metrics */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `render()` at GET /metrics on 127.0.0.1:port (0 = any free port). */
export function startMetricsServer(
  port: number,
  render: () => string,
  host = '127.0.0.1',
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(path === '/metrics' ? 405 : 404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(path === '/metrics' ? 'method not allowed\n' : 'not found: try /metrics\n');
      return;
    }
    let body: string;
    try {
      body = render();
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics unavailable\n');
      return;
    }
    res.writeHead(200, {
      'content-type': PROMETHEUS_CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
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
