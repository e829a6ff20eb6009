import { mkdtemp, rm } from 'node:fs/promises';
import { get, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InstrumentCache } from '../../src/instruments/index.js';
import { KiteSimulator } from '../../src/simulator/server.js';

let sim: KiteSimulator;
let base: string;
let dir: string;

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 3000, seed: 3 });
  await sim.start();
  base = `http://127.0.0.1:${sim.port}`;
  dir = await mkdtemp(join(tmpdir(), 'kt-sim-rest-'));
});
afterAll(async () => {
  await sim.stop();
  await rm(dir, { recursive: true, force: true });
});

function fetchRaw(
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = get(`${base}${path}`, { headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
  });
}

describe('simulator rest instruments', () => {
  it('simulator rest instruments - GET /instruments is the universe in Kite CSV, gzipped when asked', async () => {
    const plain = await fetchRaw('/instruments');
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/text\/csv/);
    const text = plain.body.toString('utf8');
    expect(text.split('\n')[0]).toBe(
      'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange',
    );
    expect(text.trimEnd().split('\n')).toHaveLength(3001);
    const gz = await fetchRaw('/instruments', { 'Accept-Encoding': 'gzip, deflate' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.body.byteLength).toBeLessThan(plain.body.byteLength / 2);
    expect(gunzipSync(gz.body).toString('utf8')).toBe(text);
    expect(gz.headers.etag).toBe(plain.headers.etag);
  });

  it('simulator rest instruments - conditional requests get 304; per-exchange lists; unknown exchange 404', async () => {
    const first = await fetchRaw('/instruments/NSE');
    expect(first.status).toBe(200);
    const rows = first.body.toString('utf8').trimEnd().split('\n').slice(1);
    expect(rows.length).toBeGreaterThan(100);
    expect(rows.every((r) => r.endsWith(',NSE'))).toBe(true);
    expect((await fetchRaw('/instruments/nse', { 'If-None-Match': String(first.headers.etag) })).status).toBe(
      304,
    );
    expect(
      (await fetchRaw('/instruments/NSE', { 'If-Modified-Since': String(first.headers['last-modified']) }))
        .status,
    ).toBe(304);
    expect((await fetchRaw('/instruments/NSE', { 'If-None-Match': '"other"' })).status).toBe(200);
    expect((await fetchRaw('/instruments/XYZ')).status).toBe(404);
    expect((await fetchRaw('/instruments', {}, 'POST')).status).toBe(405);
    expect((await fetchRaw('/')).status).toBe(426);
  });

  it('simulator rest instruments - the cache downloads it, then revalidates with a 304', async () => {
    let clock = Date.parse('2026-01-07T04:00:00Z');
    const cache = new InstrumentCache({ dir, baseUrl: base, now: () => clock });
    const first = await cache.load();
    expect(first.sources[0]!.outcome).toBe('downloaded');
    expect(first.store.size).toBe(sim.instruments().length);
    for (const ins of sim.instruments().slice(0, 500)) {
      expect(first.store.byToken(ins.instrument_token)).toMatchObject({
        tradingsymbol: ins.tradingsymbol,
        exchange: ins.exchange,
        expiry: ins.expiry,
        strike: ins.strike,
      });
    }
    clock += 86_400_000;
    const second = await cache.load();
    expect(second.sources[0]!.outcome).toBe('not-modified');
    expect(second.store.size).toBe(first.store.size);
  });
});
