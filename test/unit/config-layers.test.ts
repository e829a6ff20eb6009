/**
 * Every layer refuses a duration that a Node timer cannot hold (Node fires it after 1 ms) and a
 * buffer size that would take the heap, with the one message format of src/config/validate.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KiteTicker as CompatTicker } from '../../src/compat/index.js';
import { MAX_TIMER_MS } from '../../src/config/validate.js';
import { backoffDelay } from '../../src/connection/backoff.js';
import { KiteTicker } from '../../src/connection/index.js';
import { resolveTickerOptions } from '../../src/connection/options.js';
import type { KiteTickerOptions } from '../../src/connection/types.js';
import { BoundedChannel } from '../../src/delivery/bounded-channel.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import { MultiApiKiteTickerManager, type MultiApiKiteTickerManagerBuilder } from '../../src/multi/index.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { NatsTickSink, subscribeTicks } from '../../src/sinks/index.js';

const TOO_LONG = [3e9, 2 ** 31];

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return (error as Error).message;
  }
  throw new Error('expected an InvalidArgumentError, nothing was thrown');
}

const ticker = (options: Partial<KiteTickerOptions>) => () =>
  new KiteTicker({ apiKey: 'k', accessToken: 't', ...options });

describe('option limits by layer', () => {
  it('limits - the connection refuses durations past 2^31-1 ms, reconnect delays included', () => {
    for (const ms of TOO_LONG) {
      expect(refusal(ticker({ connectTimeoutMs: ms }))).toMatch(/^connectTimeoutMs: .*milliseconds/);
      expect(refusal(ticker({ livenessTimeoutMs: ms }))).toMatch(/^livenessTimeoutMs: /);
      expect(refusal(ticker({ reconnect: { maxDelayMs: ms, jitter: 'none' } }))).toMatch(
        /^reconnect\.maxDelayMs: .* to 2147483647, got/,
      );
      expect(refusal(ticker({ reconnect: { initialDelayMs: ms } }))).toMatch(/^reconnect\.initialDelayMs: /);
      expect(refusal(ticker({ reconnect: { resetAfterMs: ms } }))).toMatch(/^reconnect\.resetAfterMs: /);
    }
    expect(
      resolveTickerOptions({ apiKey: 'k', accessToken: 't', connectTimeoutMs: MAX_TIMER_MS }),
    ).toMatchObject({ connectTimeoutMs: MAX_TIMER_MS });
  });

  it('limits - the manager refuses them too, and a channel capacity past 1,000,000', () => {
    const manager = (options: object) => () => new KiteTickerManager('k', 't', options);
    for (const ms of TOO_LONG) {
      expect(refusal(manager({ connectionTimeoutMs: ms }))).toMatch(/^connectionTimeoutMs: /);
      expect(refusal(manager({ healthCheckIntervalMs: ms }))).toMatch(/^healthCheckIntervalMs: /);
      expect(refusal(manager({ livenessTimeoutMs: ms }))).toMatch(/^livenessTimeoutMs: /);
      expect(refusal(manager({ reconnect: { maxDelayMs: ms } }))).toMatch(/^reconnect\.maxDelayMs: /);
    }
    expect(refusal(manager({ channelCapacity: 1e9 }))).toMatch(/^channelCapacity: .* to 1000000, got/);
  });

  it('limits - the builder refuses them in every setter and in baseConfig', () => {
    const base = () => MultiApiKiteTickerManager.builder().addApiKey('a', 'k', 't');
    const cases: [string, (b: MultiApiKiteTickerManagerBuilder) => unknown][] = [
      ['connectionTimeout', (b) => b.connectionTimeout(2 ** 31)],
      ['healthCheckInterval', (b) => b.healthCheckInterval(3e9)],
      ['failoverAfter', (b) => b.failoverAfter(3e9)],
      ['orderDedupeWindow', (b) => b.orderDedupeWindow(2 ** 31)],
      ['reconnect.maxDelayMs', (b) => b.baseConfig({ reconnect: { maxDelayMs: 3e9 } })],
      ['channelCapacity', (b) => b.baseConfig({ channelCapacity: 1e9 })],
    ];
    for (const [name, set] of cases) {
      const builder = base();
      set(builder);
      expect(refusal(() => builder.resolve())).toMatch(new RegExp(`^${name.replace('.', '\\.')}: `));
    }
  });

  it('limits - guide parity: seconds typed where milliseconds are meant are refused with the unit', () => {
    const b = MultiApiKiteTickerManager.builder().addApiKey('a', 'k', 't');
    expect(refusal(() => b.connectionTimeout(30).resolve())).toBe(
      'connectionTimeout: expected a number of milliseconds from 100 to 2147483647, got 30 (the unit is milliseconds: did you mean 30000?)',
    );
    expect(refusal(() => b.connectionTimeout(30_000).healthCheckInterval(10).resolve())).toMatch(
      /^healthCheckInterval: .*did you mean 10000\?/,
    );
    expect(refusal(() => new KiteTickerManager('k', 't', { connectionTimeoutMs: 30 }))).toMatch(
      /did you mean 30000\?/,
    );
    expect(refusal(ticker({ livenessTimeoutMs: 5 }))).toMatch(/did you mean 5000\?/);
    // Zero stays meaningful where it means "at once" or "off".
    expect(() => ticker({ reconnect: { initialDelayMs: 0 } })()).not.toThrow();
    expect(() =>
      MultiApiKiteTickerManager.builder().addApiKey('a', 'k', 't').orderDedupeWindow(0).resolve(),
    ).not.toThrow();
  });

  it('limits - the simulator refuses periods and fault lengths past 2^31-1 ms', async () => {
    for (const ms of TOO_LONG) {
      expect(refusal(() => new KiteSimulator({ universeSize: 10, heartbeatIntervalMs: ms }))).toMatch(
        /^heartbeatIntervalMs: /,
      );
      expect(refusal(() => new KiteSimulator({ universeSize: 10, batchIntervalMs: ms }))).toMatch(
        /^batchIntervalMs: /,
      );
    }
    const sim = new KiteSimulator({ universeSize: 10 });
    expect(refusal(() => sim.refuseUpgrades(503, 2 ** 31))).toMatch(/^refuseUpgrades durationMs: /);
    expect(refusal(() => sim.stallConnection(1, 3e9))).toMatch(/^stallConnection durationMs: /);
    await expect(sim.restart(3e9)).rejects.toThrow(/^restart downtimeMs: /);
    await sim.stop();
    // The synthetic universe is built eagerly: 1e9 instruments would take the heap.
    expect(refusal(() => new KiteSimulator({ universeSize: 1e9 }))).toBe(
      'universeSize: expected a whole number from 1 to 1000000, got 1000000000',
    );
  });

  it('limits - the NATS sink refuses a buffer past 1,000,000 messages and an overlong connect timeout', () => {
    expect(refusal(() => new NatsTickSink({ maxBufferedMessages: 1e9 }))).toMatch(
      /^maxBufferedMessages: .* to 1000000, got 1000000000/,
    );
    expect(refusal(() => new NatsTickSink({ connectTimeoutMs: 3e9 }))).toMatch(/^connectTimeoutMs: /);
  });

  it('limits - a NATS subscriber refuses maxPending past 1,000,000 before connecting', async () => {
    // Port 1 would fail to connect: the refusal must come first, and be the typed one.
    await expect(subscribeTicks('nats://127.0.0.1:1', { maxPending: 1e9 })).rejects.toThrow(
      /^maxPending: expected a whole number from 1 to 1000000, got 1000000000$/,
    );
    await expect(
      subscribeTicks('nats://127.0.0.1:1', { maxPending: Symbol('x') as unknown as number }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('limits - the compat ticker clamps a huge max_delay (seconds) instead of overflowing a timer', () => {
    // 3e6 s is past what a timer holds; the official client's rule only clamps from below (5 s).
    const t = new CompatTicker({ api_key: 'k', access_token: 't', max_delay: 3e6 });
    expect(t.connected()).toBe(false);
  });
});

describe('backoff cap', () => {
  it('backoff - never computes a delay above its cap or above what a timer holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        fc.double({ min: 1, max: 100, noNaN: true }),
        // Unvalidated caps too: the result goes straight to setTimeout.
        fc.double({ min: 0, max: 1e15, noNaN: true }),
        fc.constantFrom('none' as const, 'full' as const),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (attempt, initialDelayMs, multiplier, maxDelayMs, jitter, r) => {
          const d = backoffDelay(attempt, { initialDelayMs, multiplier, maxDelayMs, jitter }, () => r);
          return d >= 0 && d <= Math.max(Math.round(maxDelayMs), 0) && d <= MAX_TIMER_MS;
        },
      ),
    );
    expect(backoffDelay(50, { initialDelayMs: 500, multiplier: 2, maxDelayMs: 3e9, jitter: 'none' })).toBe(
      MAX_TIMER_MS,
    );
  });
});

describe('channel capacity', () => {
  it('channel - a capacity past 1,000,000 is refused at once, naming the maximum', () => {
    const started = performance.now();
    expect(refusal(() => new BoundedChannel({ capacity: 1e9 }))).toBe(
      'capacity: expected a whole number from 1 to 1000000, got 1000000000',
    );
    expect(refusal(() => new BoundedChannel({ capacity: 1_000_001 }))).toMatch(/^capacity: /);
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('channel - channels of the largest capacity cost what they buffer, and close fast', () => {
    const before = process.memoryUsage().heapUsed;
    const channels = Array.from({ length: 40 }, () => new BoundedChannel<number>({ capacity: 1_000_000 }));
    for (const ch of channels) for (let i = 0; i < 100; i++) ch.push(i);
    // Preallocated rings would hold 40 x 8 MB here.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
    const started = performance.now();
    for (const ch of channels) ch.close();
    expect(performance.now() - started).toBeLessThan(100);
    expect(channels.every((ch) => ch.closed && ch.size === 0)).toBe(true);
  });

  it('channel - the ring grows while full, keeps order across growth and wrap-around, and caps at capacity', () => {
    const ch = new BoundedChannel<number>({ capacity: 100 });
    const out: number[] = [];
    let next = 0;
    // Leave some unread so the ring is wrapped when it has to grow.
    for (let round = 0; round < 30; round++) {
      for (let k = 0; k < 7; k++) ch.push(next++);
      for (let k = 0; k < 4 && ch.size > 0; k++) out.push(ch.tryReceive()!);
    }
    expect(ch.dropped).toBe(0);
    while (ch.size > 0) out.push(ch.tryReceive()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    // Full at capacity: drop-oldest keeps the newest 100.
    for (let i = 0; i < 250; i++) ch.push(i);
    expect(ch.size).toBe(100);
    expect(ch.dropped).toBe(150);
    const kept: number[] = [];
    while (ch.size > 0) kept.push(ch.tryReceive()!);
    expect(kept).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
  });
});
