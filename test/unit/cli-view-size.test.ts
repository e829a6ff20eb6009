/** The live view fits the terminal it is drawn on (80x24 included) and follows a resize. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LiveView } from '../../src/cli/live-view.js';
import { type CliStatsSnapshot, RateTracker } from '../../src/cli/snapshot.js';
import { type QuoteRow, renderView, toAnsiFrame, type ViewSize, wrapWords } from '../../src/cli/view.js';

/** 3 keys x 3 connections, like the built-in simulator at 27,000 instruments. */
function snapshot(): CliStatsSnapshot {
  return {
    at: 10_000,
    uptimeMs: 9_000,
    apiKeys: ['sim1', 'sim2', 'sim3'].map((apiKeyId) => ({
      apiKeyId,
      state: 'active',
      drops: 0,
      connections: [0, 1, 2].map((index) => ({
        index,
        status: 'connected',
        connected: true,
        symbols: 3000,
        frames: 10,
        ticks: 123_456,
        bytes: 1000,
        reconnects: 0,
        protocolErrors: 0,
        lastFrameAgeMs: 40,
      })),
    })),
  };
}

const quotes: QuoteRow[] = Array.from({ length: 20 }, (_, i) => ({
  symbol: `NSE:SYMBOL${i}`,
  token: i,
  tick: undefined,
  receivedAt: undefined,
}));

function render(size: ViewSize, notice?: string): string[] {
  return renderView(
    {
      title: 'kiteticker stream · simulator ws://127.0.0.1:40123 · mode quote',
      snapshot: snapshot(),
      rates: new RateTracker(),
      quotes,
      progress: { phase: 'subscribing', done: 1000, total: 27000 },
      ...(notice ? { notice } : {}),
    },
    size,
  );
}

describe('cli view size', () => {
  it('cli view - an 80x24 terminal holds the whole frame: title first, footer last, nothing wider', () => {
    const lines = render({ columns: 80, rows: 24 }, 'metrics http://127.0.0.1:9464/metrics');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines[0]).toMatch(/^kiteticker stream · simulator/);
    expect(lines.at(-1)).toBe('Ctrl-C to stop');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
    const text = lines.join('\n');
    // The totals wrap instead of losing their last fields at 80 columns.
    expect(text).toMatch(/reconnects 0 · drops 0/);
    expect(text).toMatch(/sim3\s+#2\s+connected/);
    // Quotes get the remaining rows, and say how many did not fit.
    expect(text).toMatch(/NSE:SYMBOL0\b/);
    expect(text).toMatch(/\.\.\. \d+ more \(enlarge the terminal\)/);
    // The frame itself does not end in a newline, so 24 lines on 24 rows do not scroll.
    const frame = toAnsiFrame(lines);
    expect(frame.split('\n')).toHaveLength(lines.length);
  });

  it('cli view - every size from 1x1 to 120x40 gives at most rows lines of at most columns', () => {
    for (const rows of [1, 2, 3, 5, 8, 12, 16, 24, 40]) {
      for (const columns of [1, 10, 20, 40, 80, 120]) {
        const lines = render({ columns, rows }, 'a notice that is rather long for a small terminal');
        expect(lines.length, `${columns}x${rows}`).toBeLessThanOrEqual(rows);
        expect(lines.length, `${columns}x${rows}`).toBeGreaterThanOrEqual(1);
        expect(Math.max(...lines.map((l) => l.length)), `${columns}x${rows}`).toBeLessThanOrEqual(columns);
        expect(lines[0]!.startsWith('kiteticker stream'.slice(0, columns))).toBe(true);
      }
    }
  });

  it('cli view - all quotes shown with no "more" line when they fit', () => {
    const lines = render({ columns: 120, rows: 60 });
    expect(lines.filter((l) => l.startsWith('NSE:SYMBOL'))).toHaveLength(20);
    expect(lines.join('\n')).not.toMatch(/more \(enlarge/);
  });

  it('cli live view - a resize redraws at once for the new size', () => {
    const frames: string[] = [];
    const out = new Writable({
      write(chunk, _enc, cb) {
        frames.push(String(chunk));
        cb();
      },
    }) as Writable & { columns: number; rows: number };
    out.columns = 80;
    out.rows = 24;
    const sizes: ViewSize[] = [];
    const view = new LiveView(out, (size) => {
      sizes.push(size);
      return render(size);
    });
    view.start();
    const before = frames.length;
    out.columns = 40;
    out.rows = 10;
    out.emit('resize');
    view.stop();
    expect(sizes[0]).toEqual({ columns: 80, rows: 24 });
    expect(sizes).toContainEqual({ columns: 40, rows: 10 });
    const resized = frames.slice(before).find((f) => f.startsWith('\x1b[H'));
    expect(resized).toBeDefined();
    expect(resized!.split('\n').length).toBeLessThanOrEqual(10);
    // After stop, a resize no longer draws.
    const after = frames.length;
    out.emit('resize');
    expect(frames.length).toBe(after);
  });

  it('cli view - a long notice is wrapped at word boundaries (3 lines at most), not cut', () => {
    const notice =
      'main: Kite refused the access token (HTTP 403): it is invalid or has expired (Kite access tokens expire every morning). Log in again to get a new one and put it in KITE_ACCESS_TOKEN, then run the command again';
    const lines = render({ columns: 80, rows: 24 }, notice);
    expect(lines.length).toBeLessThanOrEqual(24);
    const text = lines.join(' ');
    expect(text).toContain('Log in again to get a new one and put it in KITE_ACCESS_TOKEN');
    expect(wrapWords('a bb ccc dddd', 6, 3)).toEqual(['a bb', 'ccc', 'dddd']);
    expect(wrapWords('a bb ccc dddd', 6, 2)).toEqual(['a bb', 'ccc']);
  });
});
