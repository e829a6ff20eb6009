import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, InstrumentsDownloadError } from '../../src/errors.js';
import { defaultCacheDir, downloadInstruments, InstrumentCache } from '../../src/instruments/index.js';
import { mocksGate } from '../helpers/fixtures.js';
import { derivativesCsv, HEADER, mockInstrumentCsvs } from '../helpers/instrument-lists.js';

const mocks = mocksGate('instruments_all.csv', import.meta.url);

/** A stand-in for api.kite.trade on 127.0.0.1: each test sets `handler`; requests are recorded. */
let server: Server;
let base: string;
let handler: (req: IncomingMessage, res: ServerResponse) => void;
const requests: IncomingMessage[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const CSV_V1 = derivativesCsv();
const CSV_V2 = `${HEADER}\n408065,1594,INFY,INFOSYS,0.0,,0.0,0.05,1,EQ,NSE,NSE\n`;
const ETAG_V1 = '"v1"';

/** Serves `body` gzipped when asked, with an ETag; answers 304 to a matching If-None-Match. */
function serve(body: string, etag: string): void {
  handler = (req, res) => {
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { ETag: etag });
      res.end();
      return;
    }
    const gz = /\bgzip\b/.test(String(req.headers['accept-encoding']));
    const payload = gz ? gzipSync(body) : Buffer.from(body);
    res.writeHead(200, {
      'Content-Type': 'text/csv',
      ETag: etag,
      'Last-Modified': 'Wed, 07 Jan 2026 02:00:00 GMT',
      'Content-Length': payload.byteLength,
      ...(gz ? { 'Content-Encoding': 'gzip' } : {}),
    });
    res.end(payload);
  };
}

let dir: string;
let clock: number;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-cache-'));
  requests.length = 0;
  clock = Date.parse('2026-01-07T04:00:00Z'); // 09:30 IST: today's list is out
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cache = (extra: { apiKey?: string; accessToken?: string } = {}): InstrumentCache =>
  new InstrumentCache({ dir, baseUrl: base, now: () => clock, ...extra });

describe('instruments cache', () => {
  it('instruments cache - the default directory follows XDG_CACHE_HOME, else ~/.cache', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/kiteticker');
    expect(defaultCacheDir({})).toMatch(/\.cache\/kiteticker$/);
  });

  it('instruments cache - a miss downloads (gzip, X-Kite-Version 3, token auth) and a same-day call hits', async () => {
    serve(CSV_V1, ETAG_V1);
    const withCredentials = cache({ apiKey: 'k1', accessToken: 'secret-token' });
    expect(
      inspect(withCredentials, { showHidden: true, depth: 10 }) + JSON.stringify(withCredentials),
    ).not.toContain('secret-token');
    const first = await withCredentials.load([], 'auto', {
      today: '2026-01-07',
    });
    expect(first.sources[0]).toMatchObject({ outcome: 'downloaded', rows: first.store.size });
    expect(first.store.get('NSE:NIFTY 50').instrument_token).toBe(256265);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.url).toBe('/instruments');
    expect(requests[0]!.headers['x-kite-version']).toBe('3');
    expect(requests[0]!.headers['accept-encoding']).toMatch(/gzip/);
    expect(requests[0]!.headers.authorization).toBe('token k1:secret-token');
    expect(await readFile(join(dir, 'instruments.csv'), 'utf8')).toBe(CSV_V1);
    const meta = await readFile(join(dir, 'instruments.csv.meta.json'), 'utf8');
    expect(meta).not.toContain('secret-token');
    expect(JSON.parse(meta)).toMatchObject({ etag: ETAG_V1, fetchedAt: clock });

    clock += 3 * 3_600_000; // later the same day: no request
    const second = await cache().load();
    expect(second.sources[0]!.outcome).toBe('cache');
    expect(second.store.size).toBe(first.store.size);
    expect(requests).toHaveLength(1);
  });

  it("instruments cache - a copy from before the day's 08:30 IST publication is revalidated; 304 keeps it", async () => {
    serve(CSV_V1, ETAG_V1);
    await cache().load();
    clock = Date.parse('2026-01-08T02:00:00Z'); // 07:30 IST next day: still yesterday's publication
    expect((await cache().load()).sources[0]!.outcome).toBe('cache');
    expect(requests).toHaveLength(1);
    clock = Date.parse('2026-01-08T03:05:00Z'); // 08:35 IST: a new list is out
    const again = await cache().load();
    expect(again.sources[0]!.outcome).toBe('not-modified');
    expect(requests).toHaveLength(2);
    expect(requests[1]!.headers['if-none-match']).toBe(ETAG_V1);
    expect(requests[1]!.headers['if-modified-since']).toBe('Wed, 07 Jan 2026 02:00:00 GMT');
    expect(again.store.size).toBeGreaterThan(100);
    // The 304 counts as fresh: no request until the next publication.
    expect((await cache().load()).sources[0]!.outcome).toBe('cache');
    expect(requests).toHaveLength(2);
    // A changed list replaces the copy.
    serve(CSV_V2, '"v2"');
    clock = Date.parse('2026-01-09T03:05:00Z');
    const changed = await cache().load();
    expect(changed.sources[0]!.outcome).toBe('downloaded');
    expect(changed.store.size).toBe(1);
  });

  it('instruments cache - a truncated download replaces nothing and leaves no temp file', async () => {
    serve(CSV_V1, ETAG_V1);
    await cache().load();
    clock = Date.parse('2026-01-08T04:00:00Z');
    const whole = Buffer.from(CSV_V2.repeat(1));
    // Promise 10x the bytes, send half, then cut the connection.
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Length': whole.byteLength * 10, ETag: '"v3"' });
      res.write(whole.subarray(0, whole.byteLength >> 1), () => res.socket?.destroy());
    };
    const c = cache();
    await expect(c.refresh(undefined, undefined)).rejects.toThrow(/truncated/);
    // auto mode: the stale copy is used, with a warning naming it.
    const got = await c.load();
    expect(got.sources[0]!.outcome).toBe('stale');
    expect(got.warnings[0]).toMatch(/could not refresh .*truncated.*using the copy from/);
    expect(await readFile(join(dir, 'instruments.csv'), 'utf8')).toBe(CSV_V1);
    expect((await readdir(dir)).sort()).toEqual(['instruments.csv', 'instruments.csv.meta.json']);
  });

  it('instruments cache - a gzip body cut short, or a complete body with a half last row, replaces nothing', async () => {
    serve(CSV_V1, ETAG_V1);
    await cache().load();
    const gz = gzipSync(CSV_V2);
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gz.subarray(0, gz.byteLength - 12));
    };
    await expect(cache().refresh()).rejects.toThrow(/does not decompress/);
    handler = (_req, res) => {
      res.writeHead(200);
      res.end(`${CSV_V2}256265,1001,NIFTY`);
    };
    await expect(cache().refresh()).rejects.toThrow(/line 3: 3 fields.*the cached copy was kept/);
    expect(await readFile(join(dir, 'instruments.csv'), 'utf8')).toBe(CSV_V1);
  });

  it('instruments cache - HTTP errors are typed, name the URL without credentials; a missing copy throws', async () => {
    handler = (_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(
        '{"status":"error","error_type":"TokenException","message":"Incorrect api_key or access_token."}',
      );
    };
    const err = await cache({ apiKey: 'k', accessToken: 'tok-abc' })
      .load(['nfo'])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstrumentsDownloadError);
    expect((err as InstrumentsDownloadError).code).toBe(ErrorCode.InstrumentsDownload);
    expect((err as Error).message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/instruments\/NFO answered HTTP 403 \(credentials refused/,
    );
    expect((err as Error).message).not.toContain('tok-abc');
    await expect(cache().load([], 'never')).rejects.toThrow(
      /no cached instruments list.*kiteticker instruments/,
    );
  });

  it('instruments cache - one file per exchange, merged into one store', async () => {
    handler = (req, res) => {
      const body =
        req.url === '/instruments/NSE'
          ? `${HEADER}\n408065,1594,INFY,INFOSYS,0.0,,0.0,0.05,1,EQ,NSE,NSE\n`
          : `${HEADER}\n9,9,NIFTY26JANFUT,NIFTY,0.0,2026-01-27,0.0,0.05,75,FUT,NFO-FUT,NFO\n`;
      res.writeHead(200);
      res.end(body);
    };
    const got = await cache().load(['NSE', 'nfo']);
    expect(got.sources.map((s) => [s.exchange, s.rows])).toEqual([
      ['NSE', 1],
      ['NFO', 1],
    ]);
    expect(got.store.size).toBe(2);
    expect((await readdir(dir)).filter((f) => f.endsWith('.csv')).sort()).toEqual([
      'instruments-NFO.csv',
      'instruments-NSE.csv',
    ]);
  });

  it('instruments cache - a cached file that no longer parses is a clear error', async () => {
    serve(CSV_V1, ETAG_V1);
    await cache().load();
    await writeFile(join(dir, 'instruments.csv'), 'garbage\n');
    await expect(cache().load()).rejects.toThrow(
      /cached instruments .*instruments\.csv: .*no "instrument_token" column/,
    );
  });

  it.skipIf(mocks.skip)(
    'instruments cache - the shared kiteconnect-mocks CSVs download gzipped, cache and reload byte for byte',
    async () => {
      for (const file of mockInstrumentCsvs()) {
        const text = await readFile(file, 'utf8');
        serve(text, `"${file.length}"`);
        await rm(join(dir, 'instruments.csv.meta.json'), { force: true });
        const got = await cache().load();
        expect(got.sources[0]!.outcome).toBe('downloaded');
        expect(got.store.size).toBe(text.trimEnd().split('\n').length - 1);
        expect(await readFile(join(dir, 'instruments.csv'), 'utf8')).toBe(text);
      }
    },
  );

  it('instruments cache - download without gzip support on the server still works', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.end(CSV_V2);
    };
    const got = await downloadInstruments({ baseUrl: `${base}/` });
    expect(got).toMatchObject({ status: 'ok', text: CSV_V2 });
  });
});
