/**
 * The simulator's REST instruments dump, on the ticker's own port: `GET /instruments` (every exchange)
 * and `GET /instruments/<EXCHANGE>`, in Kite's CSV format, gzipped when the request accepts gzip, with an
 * ETag and Last-Modified so conditional requests get 304. The universe never changes while the
 * simulator runs, so each body is built once, on first request.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { formatInstrumentsCsv } from '../instruments/format.js';
import type { SimulatorInstrument } from './types.js';

interface Body {
  plain: Buffer;
  gzip: Buffer | undefined;
  etag: string;
}

/** At most this many distinct bodies are kept (all + one per exchange; a universe has a handful). */
const MAX_BODIES = 64;

export class InstrumentsEndpoint {
  readonly #instruments: readonly SimulatorInstrument[];
  readonly #lastModified: string;
  readonly #bodies = new Map<string, Body>();

  constructor(instruments: readonly SimulatorInstrument[], publishedAt: number = Date.now()) {
    this.#instruments = instruments;
    // HTTP dates have whole seconds.
    this.#lastModified = new Date(Math.floor(publishedAt / 1000) * 1000).toUTCString();
  }

  /** Answers `req` if it is an instruments request and returns true; otherwise touches nothing. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const path = (req.url ?? '').split('?')[0]!;
    const m = /^\/instruments(?:\/([A-Za-z0-9_-]{1,16}))?\/?$/.exec(path);
    if (!m) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' });
      res.end('method not allowed\n');
      return true;
    }
    const exchange = m[1]?.toUpperCase() ?? '';
    const body = this.#body(exchange);
    if (!body) {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          status: 'error',
          error_type: 'InputException',
          message: `unknown exchange ${exchange}`,
        }),
      );
      return true;
    }
    const headers: Record<string, string | number> = {
      ETag: body.etag,
      'Last-Modified': this.#lastModified,
      'Cache-Control': 'no-cache',
      Vary: 'Accept-Encoding',
    };
    if (notModified(req, body.etag, this.#lastModified)) {
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const gzip = /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
    let payload = body.plain;
    if (gzip) {
      body.gzip ??= gzipSync(body.plain);
      payload = body.gzip;
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Type'] = 'text/csv; charset=utf-8';
    headers['Content-Length'] = payload.byteLength;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : payload);
    return true;
  }

  #body(exchange: string): Body | undefined {
    const cached = this.#bodies.get(exchange);
    if (cached) return cached;
    const rows = this.#instruments.filter((i) => exchange === '' || i.exchange.toUpperCase() === exchange);
    if (exchange !== '' && rows.length === 0) return undefined;
    const plain = Buffer.from(
      formatInstrumentsCsv(rows.map((i) => ({ exchange_token: Math.floor(i.instrument_token / 256), ...i }))),
    );
    const etag = `"${createHash('sha1').update(plain).digest('hex').slice(0, 20)}"`;
    const body: Body = { plain, gzip: undefined, etag };
    if (this.#bodies.size < MAX_BODIES) this.#bodies.set(exchange, body);
    return body;
  }
}

function notModified(req: IncomingMessage, etag: string, lastModified: string): boolean {
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string') {
    return inm.split(',').some((t) => {
      const tag = t.trim().replace(/^W\//, '');
      return tag === etag || tag === '*';
    });
  }
  const ims = req.headers['if-modified-since'];
  if (typeof ims === 'string') {
    const since = Date.parse(ims);
    return Number.isFinite(since) && Date.parse(lastModified) <= since;
  }
  return false;
}
