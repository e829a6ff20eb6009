/**
 * The NATS sink remembers a subject and a sequence number per instrument. Fed unknown tokens (a server
 * sending every token there is, or a custom source), that memory must stay bounded, while instruments
 * that keep ticking keep their sequence.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import type { Tick } from '../../src/protocol/types.js';
import { NatsTickSink } from '../../src/sinks/sink.js';
import { DEFAULT_MAX_SUBJECTS, SubjectCache, type SubjectState } from '../../src/sinks/subject-cache.js';

const ltp = (token: number): Tick => ({
  mode: 'ltp',
  instrument_token: token,
  tradable: true,
  exchange: 'NSE',
  last_price: 1,
});

describe('nats sink subject cache', () => {
  it('nats sink - 300,000 unknown tokens leave at most maxSubjects subjects behind', async () => {
    // Never connected and no buffer: every tick is counted as dropped, but its subject is still made.
    const sink = new NatsTickSink({ maxBufferedMessages: 0 });
    const batch: Tick[] = [];
    for (let token = 0; token < 300_000; token++) {
      batch.push(ltp(token));
      if (batch.length === 1000) sink.publishTicks(batch.splice(0));
    }
    const stats = sink.stats();
    expect(stats.dropped).toBe(300_000);
    expect(stats.subjects).toBeGreaterThan(0);
    expect(stats.subjects).toBeLessThanOrEqual(DEFAULT_MAX_SUBJECTS);
    expect(stats.subjectsEvicted).toBe(300_000 - stats.subjects);
    await sink.close();
  });

  it('nats sink - maxSubjects is configurable and checked', async () => {
    const sink = new NatsTickSink({ maxBufferedMessages: 0, maxSubjects: 10 });
    for (let token = 0; token < 100; token++) sink.publishTicks([ltp(token)]);
    expect(sink.stats().subjects).toBeLessThanOrEqual(10);
    await sink.close();
    for (const bad of [0, 1, 2.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new NatsTickSink({ maxSubjects: bad })).toThrow(
        expect.objectContaining({ code: ErrorCode.InvalidArgument }),
      );
    }
  });

  it('nats sink - an instrument that keeps ticking keeps its state through a flood of others', () => {
    const cache = new SubjectCache(100);
    const hot: SubjectState = { subject: 'kite.tick.NSE.1', sequence: 41 };
    cache.set(1, hot);
    for (let token = 1000; token < 11_000; token++) {
      if (cache.get(token) === undefined) cache.set(token, { subject: `s${token}`, sequence: 0 });
      if (token % 40 === 0) expect(cache.get(1)).toBe(hot); // ticks once per 40 others
      expect(cache.size).toBeLessThanOrEqual(100);
    }
    expect(cache.get(1)?.sequence).toBe(41);
    // One that stopped ticking is forgotten once enough others came by.
    expect(cache.get(1000)).toBeUndefined();
    expect(cache.evicted).toBeGreaterThan(9000);
  });
});
