import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { killAll, parseLines, runCli, startCli } from './cli-helpers.js';

let nats: NatsServerHandle;
beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true });
});
afterEach(() => killAll());
afterAll(async () => {
  await nats?.dispose();
});

const WANTED = new Set([256265, 408065]);

function expectValidTick(t: Record<string, unknown>): void {
  expect(typeof t.instrument_token).toBe('number');
  expect(t.mode).toBe('quote');
  expect(typeof t.last_price).toBe('number');
  expect(t.last_price as number).toBeGreaterThan(0);
  expect((t.ohlc as { close: number }).close).toBeGreaterThan(0);
  expect(t.apiKeyId).toMatch(/^sim\d$/);
}

describe('cli nats', () => {
  it('cli nats - subscribe prints the ticks stream --nats publishes: filters, --count, queue groups and --latest', async () => {
    const args = ['subscribe', '--nats', nats.url];
    const filtered = startCli([...args, '--filter', '256265', '--filter', 'NSE:408065', '--count', '6']);
    const q1 = startCli([...args, '--queue', 'workers', '--envelope']);
    const q2 = startCli([...args, '--queue', 'workers', '--envelope']);
    await Promise.all(
      [filtered, q1, q2].map((run) => run.waitFor('stderr', /kiteticker: subscribed to/, 12_000)),
    );
    expect(filtered.stderr()).toContain('subscribed to kite.tick.INDICES.256265, kite.tick.NSE.408065');

    const stream = await runCli([
      'stream',
      '--nats',
      nats.url,
      '--nats-jetstream',
      '--duration',
      '3',
      '--format',
      'none',
      '--rate',
      '2',
      '256265',
      '408065',
      '738561',
    ]);
    expect(stream.code).toBe(0);
    expect(stream.stderr).toMatch(/nats drops\s+0/);

    // The filtered subscriber stopped by itself after 6 ticks of exactly the two instruments.
    const f = await filtered.done;
    expect(f.code).toBe(0);
    expect(f.stderr).toMatch(/stopped: count/);
    const ticks = parseLines(f.stdout);
    expect(ticks).toHaveLength(6);
    for (const t of ticks) {
      expectValidTick(t);
      expect(WANTED.has(t.instrument_token as number)).toBe(true);
    }
    expect(new Set(ticks.map((t) => t.instrument_token))).toEqual(WANTED);

    // The queue group shared the feed: every tick went to exactly one member. Wait until the members
    // hold every tick the stream counted (they are still draining the bus when the stream exits).
    const streamed = Number(/ticks\s+([\d,]+)/.exec(stream.stderr)?.[1]?.replace(/,/g, '') ?? 'NaN');
    expect(streamed).toBeGreaterThan(0);
    const lineCount = (): number => (q1.stdout() + q2.stdout()).split('\n').filter((l) => l !== '').length;
    for (const deadline = Date.now() + 5000; lineCount() < streamed && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    q1.child.kill('SIGTERM');
    q2.child.kill('SIGTERM');
    const [a, b] = await Promise.all([q1.done, q2.done]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    const keyOf = (t: Record<string, unknown>): string => `${t.subject}#${t.sequence}`;
    const la = parseLines(a.stdout);
    const lb = parseLines(b.stdout);
    for (const t of [...la, ...lb]) expectValidTick(t);
    const ka = new Set(la.map(keyOf));
    const kb = new Set(lb.map(keyOf));
    expect([...ka].filter((k) => kb.has(k))).toEqual([]);
    const all = new Set([...la, ...lb].map((t) => t.instrument_token));
    expect(all).toEqual(new Set([256265, 408065, 738561]));
    // Together they got every published tick: per subject, sequences 1..last with no gap and no
    // repeat, and at least as many as the stream counted (it may publish a few after its summary).
    const bySubject = new Map<string, number[]>();
    for (const t of [...la, ...lb]) {
      const list = bySubject.get(t.subject as string) ?? [];
      list.push(t.sequence as number);
      bySubject.set(t.subject as string, list);
    }
    expect(bySubject.size).toBe(3);
    for (const [subject, sequences] of bySubject) {
      sequences.sort((x, y) => x - y);
      expect(sequences, subject).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
    }
    expect(la.length + lb.length).toBeGreaterThanOrEqual(streamed);

    // Later: the JetStream snapshot holds the last tick of each of the 3 instruments.
    const latest = await runCli([...args, '--latest', '--count', '3']);
    expect(latest.code).toBe(0);
    expect(latest.stderr).toMatch(/3 ticks from the JetStream snapshot/);
    const snap = parseLines(latest.stdout);
    for (const t of snap) expectValidTick(t);
    expect(new Set(snap.map((t) => t.instrument_token))).toEqual(new Set([256265, 408065, 738561]));
  });

  it('cli nats - unreachable NATS exits 1, a bad filter exits 2', async () => {
    const closedPort = await freePort();
    const [down, bad] = await Promise.all([
      runCli(['subscribe', '--nats', `nats://127.0.0.1:${closedPort}`, '--count', '1']),
      runCli(['subscribe', '--nats', nats.url, '--filter', 'NSE:x']),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+/);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/cannot read filter "NSE:x"/);
  });
});
