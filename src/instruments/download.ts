/**
 * One conditional GET of Kite's instruments dump (`/instruments` or `/instruments/<EXCHANGE>`), with
 * gzip, `X-Kite-Version: 3`, `If-None-Match`/`If-Modified-Since`, and a check that the whole body
 * arrived. Nothing here touches the disk: cache.ts decides what to keep.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, inflate as inflateCb } from 'node:zlib';
import { InstrumentsDownloadError, InvalidArgumentError } from '../errors.js';

const gunzip = promisify(gunzipCb);
const inflate = promisify(inflateCb);

export const DEFAULT_KITE_API_URL = 'https://api.kite.trade';

export interface DownloadOptions {
  /** REST root (default https://api.kite.trade). */
  baseUrl?: string;
  /** One exchange (`NSE`, `NFO`...); default: all exchanges. */
  exchange?: string;
  /** With `accessToken`: sent as `Authorization: token api_key:access_token` (never logged). */
  apiKey?: string;
  accessToken?: string;
  /** Validators of the copy already held: a 304 answer means it is still current. */
  etag?: string;
  lastModified?: string;
  /** Whole-request deadline (default 60 s). */
  timeoutMs?: number;
  /** Largest body accepted, compressed and decompressed (default 256 MiB). */
  maxBytes?: number;
  signal?: AbortSignal;
  /** Called as body bytes arrive (`total` from Content-Length, when sent). */
  onProgress?: (received: number, total: number | undefined) => void;
}

export type DownloadResult =
  | { status: 'not-modified' }
  | { status: 'ok'; text: string; etag?: string; lastModified?: string; bytes: number };

/** How long a download may take in all before it is given up (the whole list is about 10 MB). */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60_000;

/** The URL of the dump for `exchange` under `baseUrl`. @throws InvalidArgumentError for a bad URL. */
export function instrumentsUrl(baseUrl: string = DEFAULT_KITE_API_URL, exchange?: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InvalidArgumentError(`invalid REST API URL ${JSON.stringify(safeUrl(baseUrl))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(`REST API URL must be http(s), got ${url.protocol}`);
  }
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = exchange
    ? `${path}/instruments/${encodeURIComponent(exchange.toUpperCase())}`
    : `${path}/instruments`;
  return url;
}

/** A URL fit for messages: no user name, password, query or fragment. */
export function safeUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

export async function downloadInstruments(options: DownloadOptions = {}): Promise<DownloadResult> {
  const url = instrumentsUrl(options.baseUrl, options.exchange);
  const shown = safeUrl(url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  if (!(timeoutMs > 0 && timeoutMs <= 2 ** 31 - 1)) {
    throw new InvalidArgumentError(`timeoutMs must be in 1..${2 ** 31 - 1}, got ${timeoutMs}`);
  }
  const maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
  const headers: Record<string, string> = {
    'X-Kite-Version': '3',
    'Accept-Encoding': 'gzip',
    'User-Agent': 'kiteticker-manager',
  };
  if (options.apiKey && options.accessToken) {
    headers.Authorization = `token ${options.apiKey}:${options.accessToken}`;
  }
  if (options.etag) headers['If-None-Match'] = options.etag;
  if (options.lastModified) headers['If-Modified-Since'] = options.lastModified;

  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers,
      signal: options.signal,
      timeout: timeoutMs,
    });
    const timer = setTimeout(
      () => req.destroy(new InstrumentsDownloadError(`no complete answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    req.once('close', () => clearTimeout(timer));
    req.once('timeout', () => req.destroy(new InstrumentsDownloadError(`socket idle for ${timeoutMs} ms`)));
    req.once('response', resolve);
    req.once('error', (err) =>
      reject(new InstrumentsDownloadError(`GET ${shown} failed: ${err.message}`, { cause: err })),
    );
    req.end();
  });

  if (res.statusCode === 304) {
    res.resume();
    return { status: 'not-modified' };
  }
  const body = await readBody(res, shown, maxBytes, options.onProgress);
  const status = res.statusCode ?? 0;
  if (status !== 200) {
    const snippet = (await decode(res, body, maxBytes).catch(() => Buffer.alloc(0)))
      .toString('utf8')
      .slice(0, 200);
    throw new InstrumentsDownloadError(
      `GET ${shown} answered HTTP ${status}${status === 403 ? ' (credentials refused or expired)' : ''}${snippet ? `: ${oneLine(snippet)}` : ''}`,
      { status },
    );
  }
  let raw: Buffer;
  try {
    raw = await decode(res, body, maxBytes);
  } catch (error) {
    throw new InstrumentsDownloadError(
      `GET ${shown}: the body does not decompress (${(error as Error).message}); truncated?`,
      {
        cause: error,
      },
    );
  }
  const text = raw.toString('utf8');
  const etag = header(res, 'etag');
  const lastModified = header(res, 'last-modified');
  return {
    status: 'ok',
    text,
    bytes: body.byteLength,
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
  };
}

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** Collects the body; rejects if the connection ends early or the body outgrows `maxBytes`. */
function readBody(
  res: IncomingMessage,
  shown: string,
  maxBytes: number,
  onProgress: DownloadOptions['onProgress'],
): Promise<Buffer> {
  const lengthHeader = res.headers['content-length'];
  const expected = lengthHeader !== undefined ? Number(lengthHeader) : undefined;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const fail = (message: string, cause?: unknown): void => {
      if (done) return;
      done = true;
      res.destroy();
      reject(new InstrumentsDownloadError(`GET ${shown}: ${message}`, { cause, status: res.statusCode }));
    };
    res.on('data', (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > maxBytes) {
        fail(`body larger than ${maxBytes} bytes`);
        return;
      }
      chunks.push(chunk);
      try {
        onProgress?.(received, expected);
      } catch {
        // A progress printer must not break the download.
      }
    });
    res.once('error', (err) =>
      fail(`connection failed mid-body after ${received} bytes (${err.message}); truncated`, err),
    );
    res.once('aborted', () => fail(`connection closed mid-body after ${received} bytes; truncated`));
    res.once('close', () => {
      if (!res.complete) fail(`connection closed mid-body after ${received} bytes; truncated`);
    });
    res.once('end', () => {
      if (done) return;
      if (!res.complete) {
        fail(`connection closed mid-body after ${received} bytes; truncated`);
        return;
      }
      if (expected !== undefined && Number.isFinite(expected) && received !== expected) {
        fail(`got ${received} of ${expected} bytes; truncated`);
        return;
      }
      done = true;
      resolve(Buffer.concat(chunks, received));
    });
  });
}

async function decode(res: IncomingMessage, body: Buffer, maxBytes: number): Promise<Buffer> {
  const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return gunzip(body, { maxOutputLength: maxBytes });
  if (encoding === 'deflate') return inflate(body, { maxOutputLength: maxBytes });
  if (encoding === '' || encoding === 'identity') return body;
  throw new InstrumentsDownloadError(`unsupported Content-Encoding ${encoding}`);
}
