import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ticksToNdjson, tickToNdjson } from '../../src/cli/ndjson.js';
import { OutputSink } from '../../src/cli/output.js';
import {
  pickDefaultSet,
  resolveInstrumentArgs,
  type SelectableInstrument,
  underlyingOf,
} from '../../src/cli/selection.js';
import { type CliStatsSnapshot, fromMultiStats, RateTracker, totalsOf } from '../../src/cli/snapshot.js';
import { renderSummary } from '../../src/cli/summary.js';
import { formatAge, renderView, toAnsiFrame } from '../../src/cli/view.js';
import { InstrumentIndex, parseInstrumentsCsv } from '../../src/instruments/index.js';
import type { FullTick, IndexTick } from '../../src/protocol/types.js';
import {
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  startMetricsServer,
} from '../../src/sinks/prometheus/index.js';

function snapshot(
  at: number,
  ticks: [number, number],
  overrides: Partial<CliStatsSnapshot> = {},
): CliStatsSnapshot {
  const conn = (index: number, t: number) => ({
    index,
    status: 'connected',
    connected: true,
    symbols: 100,
    frames: 10,
    ticks: t,
    bytes: 1000,
    reconnects: index,
    protocolErrors: 0,
    lastFrameAgeMs: 120,
  });
  return {
    at,
    uptimeMs: 65_000,
    apiKeys: [
      { apiKeyId: 'primary', state: 'active', drops: 2, connections: [conn(0, ticks[0]), conn(1, ticks[1])] },
      { apiKeyId: 'we"ird\\id', state: 'failed', drops: 0, connections: [] },
    ],
    ...overrides,
  };
}

const fullTick: FullTick = {
  tradable: true,
  mode: 'full',
  instrument_token: 408065,
  exchange: 'NSE',
  last_price: 1573.7,
  last_traded_quantity: 5,
  average_traded_price: 1570.1,
  volume_traded: 1234567,
  total_buy_quantity: 1,
  total_sell_quantity: 2,
  ohlc: { open: 1, high: 2, low: 0.5, close: 1560 },
  change: 0.878,
  net_change: 13.7,
  last_trade_time: new Date('2026-01-02T03:04:05.000Z'),
  oi: 0,
  oi_day_high: 0,
  oi_day_low: 0,
  exchange_timestamp: null,
  depth: {
    buy: [{ quantity: 10, price: 1573.65, orders: 2 }],
    sell: [{ quantity: 12, price: 1573.75, orders: 3 }],
  },
};

describe('cli output', () => {
  it('cli ndjson - one line per tick: the tick as delivered plus apiKeyId, Dates as ISO strings', () => {
    const line = tickToNdjson(fullTick, 'k"1');
    const parsed = JSON.parse(line);
    expect(parsed.apiKeyId).toBe('k"1');
    expect(parsed.last_trade_time).toBe('2026-01-02T03:04:05.000Z');
    expect(parsed.exchange_timestamp).toBeNull();
    const { apiKeyId: _, ...rest } = parsed;
    expect(rest).toEqual(JSON.parse(JSON.stringify(fullTick)));
    const batch = ticksToNdjson([fullTick, fullTick], 'a');
    expect(batch.split('\n')).toHaveLength(3);
    expect(batch.endsWith('\n')).toBe(true);
    expect(ticksToNdjson([], 'a')).toBe('');
  });

  it('cli output - a closed pipe is reported once and later writes are no-ops', () => {
    const written: string[] = [];
    const target = new Writable({
      write(chunk, _enc, cb) {
        written.push(String(chunk));
        cb();
      },
    });
    let closed = 0;
    const sink = new OutputSink(target, { onClosed: () => closed++ });
    sink.write('a\n');
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    target.emit('error', epipe);
    target.emit('error', epipe);
    sink.write('b\n');
    expect(closed).toBe(1);
    expect(sink.closed).toBe(true);
    expect(written).toEqual(['a\n']);
  });

  it('cli output - flush resolves once a short queue is written, though no drain event is due', async () => {
    const written: string[] = [];
    const target = new Writable({
      highWaterMark: 1024, // the queue below stays under it: no 'drain' will follow
      write(chunk, _encoding, callback) {
        setTimeout(() => {
          written.push(String(chunk));
          callback();
        }, 20);
      },
    });
    const sink = new OutputSink(target);
    sink.write('a\n');
    sink.write('b\n');
    expect(target.writableLength).toBeGreaterThan(0);
    const outcome = await Promise.race([
      sink.flush().then(() => 'flushed'),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 1000)),
    ]);
    expect(outcome).toBe('flushed');
    expect(written.join('')).toBe('a\nb\n');
    expect(target.writableLength).toBe(0);
  });

  it('cli output - a slow reader makes the sink drop and count batches instead of buffering', () => {
    const target = new Writable({ highWaterMark: 1, write: () => undefined }); // never completes a write
    const sink = new OutputSink(target, { maxBufferedBytes: 10 });
    sink.write('0123456789ab\n');
    sink.write('more\n');
    sink.write('more\n');
    expect(sink.batches).toBe(1);
    expect(sink.droppedBatches).toBe(2);
  });
});

describe('cli live view', () => {
  it('cli view - shows totals, one row per connection, a key without connections, and the quote table', () => {
    const rates = new RateTracker(1);
    rates.update(snapshot(1000, [100, 200]));
    rates.update(snapshot(2000, [150, 400]));
    const lines = renderView(
      {
        title: 'kiteticker stream · test',
        snapshot: snapshot(2000, [150, 400]),
        rates,
        quotes: [
          { symbol: 'NSE:INFY', token: 408065, tick: fullTick, receivedAt: 1500 },
          { symbol: 'NSE:NIFTY 50', token: 256265, tick: undefined, receivedAt: undefined },
        ],
        progress: { phase: 'subscribing', done: 1000, total: 4000 },
      },
      { columns: 200, rows: 50 },
    );
    const text = lines.join('\n');
    expect(lines[0]).toBe('kiteticker stream · test · up 00:01:05');
    expect(text).toContain(
      'keys 2 · connections 2/2 · instruments 200 · ticks 550 (250/s) · reconnects 1 · drops 2',
    );
    expect(text).toMatch(/subscribing \[#{8}\.{22}\] 1,000\/4,000 \(25%\)/);
    expect(text).toMatch(/primary\s+#0\s+connected\s+100\s+50\.0\s+150\s+0\s+120ms/);
    expect(text).toMatch(/primary\s+#1\s+connected\s+100\s+200\s+400\s+1\s+120ms/);
    expect(text).toContain('failed, no connections');
    expect(text).toMatch(/NSE:INFY\s+1,573\.70\s+\+0\.88%\s+1,234,567\s+1,573\.65\s+1,573\.75\s+500ms/);
    expect(text).toMatch(/NSE:NIFTY 50\s+-\s+-/);
  });

  it('cli view - fits the terminal: lines cut to the width, quote rows to the height', () => {
    const quotes = Array.from({ length: 50 }, (_, i) => ({
      symbol: `NSE:S${i}`,
      token: i,
      tick: undefined,
      receivedAt: undefined,
    }));
    const lines = renderView(
      { title: 'x'.repeat(300), snapshot: snapshot(0, [0, 0]), rates: new RateTracker(), quotes },
      { columns: 60, rows: 20 },
    );
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(60);
    expect(lines.join('\n')).toMatch(/\.\.\. \d+ more/);
  });

  it('cli view - index ticks show change without depth; ANSI frame homes the cursor and clears', () => {
    const idx: IndexTick = {
      tradable: false,
      mode: 'quote',
      instrument_token: 256265,
      exchange: 'INDICES',
      last_price: 24000,
      ohlc: { open: 1, high: 1, low: 1, close: 1 },
      change: -1.5,
      net_change: -10,
    };
    const lines = renderView(
      {
        title: 't',
        snapshot: snapshot(0, [0, 0]),
        rates: new RateTracker(),
        quotes: [{ symbol: 'NIFTY', token: 1, tick: idx, receivedAt: 0 }],
      },
      { columns: 200, rows: 40 },
    );
    // No depth in any row: the bid/ask columns are left out.
    expect(lines.join('\n')).toMatch(/SYMBOL\s+LTP\s+CHG%\s+VOLUME\s+AGE/);
    expect(lines.join('\n')).toMatch(/NIFTY\s+24,000\.00\s+-1\.50%\s+-\s+0ms/);
    const frame = toAnsiFrame(['a', 'b']);
    expect(frame.startsWith('\x1b[H')).toBe(true);
    expect(frame).toBe('\x1b[Ha\x1b[K\nb\x1b[K\x1b[J');
    expect(formatAge(null)).toBe('-');
    expect(formatAge(1500)).toBe('1.5s');
    expect(formatAge(184_000)).toBe('3m04s');
  });

  it('cli summary - ticks, rate, reconnects and drops', () => {
    const text = renderSummary(snapshot(0, [600, 400]), 2000, { outputDrops: 3, reason: 'SIGINT' });
    expect(text).toContain('kiteticker summary (stopped: SIGINT)');
    expect(text).toMatch(/ticks\s+1,000 \(500\/s\)/);
    expect(text).toMatch(/reconnects\s+1/);
    expect(text).toMatch(/drops\s+2 \(channels\), 3 \(output\)/);
    expect(text).toMatch(/instruments\s+200 on 2 keys, 2 connections/);
  });
});

describe('cli metrics', () => {
  it('cli prometheus - valid 0.0.4 text with the documented families and escaped labels', () => {
    const text = renderPrometheus(snapshot(0, [150, 400]), { outputDrops: 4 });
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? [-+0-9.eInfNa]+)$/);
    }
    expect(text).toContain('# TYPE kiteticker_ticks_total counter');
    expect(text).toContain('kiteticker_ticks_total{api_key_id="primary",connection="0"} 150');
    expect(text).toContain('kiteticker_ticks_total{api_key_id="primary",connection="1"} 400');
    expect(text).toContain('kiteticker_connections{api_key_id="primary",state="up"} 2');
    expect(text).toContain('kiteticker_connections{api_key_id="we\\"ird\\\\id",state="down"} 0');
    expect(text).toContain('kiteticker_symbols{api_key_id="primary",connection="0"} 100');
    expect(text).toContain('kiteticker_reconnects_total{api_key_id="primary",connection="1"} 1');
    expect(text).toContain('kiteticker_drops_total{api_key_id="primary"} 2');
    expect(text).toContain('kiteticker_last_frame_age_seconds{api_key_id="primary",connection="0"} 0.12');
    expect(text).toContain('kiteticker_uptime_seconds 65');
    expect(text).toContain('kiteticker_output_drops_total 4');
    // Each family's TYPE appears exactly once.
    const types = text.split('\n').filter((l) => l.startsWith('# TYPE'));
    expect(new Set(types).size).toBe(types.length);
  });

  it('cli prometheus - served on 127.0.0.1 at /metrics with the exposition content type', async () => {
    const server = await startMetricsServer(0, () => renderPrometheus(snapshot(0, [1, 2])));
    try {
      expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
      expect(await res.text()).toContain('kiteticker_ticks_total{api_key_id="primary",connection="1"} 2');
      expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });

  it('cli snapshot - adapts the multi-manager stats; rates follow tick deltas', () => {
    const s = fromMultiStats(
      {
        uptimeMs: 5,
        perApiStats: [
          {
            apiKeyId: 'a',
            state: 'active',
            totalDrops: 7,
            manager: {
              connections: [
                {
                  index: 0,
                  status: 'connected',
                  connected: true,
                  symbols: 3,
                  frames: 1,
                  ticks: 9,
                  bytes: 4,
                  reconnects: 1,
                  protocolErrors: 0,
                  lastFrameAgeMs: null,
                },
              ],
            },
          },
        ],
      },
      42,
    );
    expect(totalsOf(s)).toMatchObject({
      apiKeys: 1,
      connections: 1,
      connected: 1,
      symbols: 3,
      ticks: 9,
      drops: 7,
      reconnects: 1,
    });
    const r = new RateTracker(1);
    r.update({ ...s, at: 0 });
    expect(r.rate('a', 0)).toBe(0);
    r.update({
      ...s,
      at: 500,
      apiKeys: [{ ...s.apiKeys[0]!, connections: [{ ...s.apiKeys[0]!.connections[0]!, ticks: 59 }] }],
    });
    expect(r.rate('a', 0)).toBe(100);
    expect(r.totalRate()).toBe(100);
  });
});

describe('cli instrument selection', () => {
  it('cli selection - tokens and symbols resolve in order without duplicates; unknown symbols are listed', () => {
    // Written here so the test stands alone on a fresh clone (rows shaped like Kite's instrument dump).
    const list = parseInstrumentsCsv(
      [
        'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange',
        '2560257,10001,ACMEPOWER,ACME POWER LTD,0.0,,0.0,0.05,1,EQ,NSE,NSE',
        '12800258,50001,NIFTY24DEC24000CE,,0.0,2024-12-26,24000.0,0.05,25,CE,NFO-OPT,NFO',
        '128000260,500001,ACMEPOWER,ACME POWER LTD,0.0,,0.0,0.05,1,EQ,BSE,BSE',
      ].join('\n'),
    );
    const index = new InstrumentIndex(list);
    const first = list[0]!;
    const symbol = `${first.exchange}:${first.tradingsymbol}`;
    expect(
      resolveInstrumentArgs(['256265', symbol.toLowerCase(), String(first.instrument_token)], index),
    ).toEqual([256265, first.instrument_token]);
    expect(() => resolveInstrumentArgs(['NSE:NOPE', 'NSE:NOPE2'], index)).toThrow(
      /unknown instrument symbols: "NSE:NOPE", "NSE:NOPE2"/,
    );
    expect(() => resolveInstrumentArgs(['NSE:INFY'], undefined)).toThrow(/--instruments FILE/);
    expect(() => resolveInstrumentArgs(['INFY'], index)).toThrow(
      /expected a token .* or EXCHANGE:TRADINGSYMBOL/,
    );
    expect(() => resolveInstrumentArgs(['4294967296'], index)).toThrow(/invalid instrument token/);
  });

  it('cli selection - the default set leads with NIFTY 50, then equities and the NIFTY chain nearest the money', () => {
    const ins = (
      token: number,
      tradingsymbol: string,
      type: string,
      extra: Partial<SelectableInstrument> = {},
    ): SelectableInstrument => ({
      instrument_token: token,
      tradingsymbol,
      exchange: type === 'CE' || type === 'PE' ? 'NFO' : 'NSE',
      instrument_type: type,
      segment: (token & 0xff) === 9 ? 'INDICES' : 'NSE',
      name: '',
      expiry: '',
      strike: 0,
      last_price: 100,
      ...extra,
    });
    const universe = [
      ins(265 * 256 + 9, 'NIFTY BANK', 'EQ', { last_price: 51000 }),
      ins(256265, 'NIFTY 50', 'EQ', { last_price: 24010 }),
      ins(408065, 'INFY', 'EQ'),
      ins(738561, 'RELIANCE', 'EQ'),
      ins(1002, 'NIFTY26JAN24500CE', 'CE', { strike: 24500, expiry: '2026-01-29' }),
      ins(1003, 'NIFTY26JAN24000CE', 'CE', { strike: 24000, expiry: '2026-01-29' }),
      ins(1004, 'NIFTY26JAN24000PE', 'PE', { strike: 24000, expiry: '2026-01-29' }),
      ins(1005, 'NIFTY26FEB24000CE', 'CE', { strike: 24000, expiry: '2026-02-26' }),
    ];
    expect(pickDefaultSet(universe, 5)).toEqual([256265, 408065, 738561, 1003, 1004]);
    expect(pickDefaultSet(universe, 100)).toHaveLength(universe.length);
    expect(underlyingOf({ name: '', tradingsymbol: 'BANKNIFTY2412551800CE' })).toBe('BANKNIFTY');
    expect(underlyingOf({ name: 'NIFTY', tradingsymbol: 'X' })).toBe('NIFTY');
  });
});
