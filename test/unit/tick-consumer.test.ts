import { describe, expect, it } from 'vitest';
import type { Tick } from '../../src/protocol/types.js';
import { distribution, type RecordedMessage, TickRecorder } from '../helpers/tick-consumer.js';

/** A distinct ltp tick per i (so content ids differ), on one of 3 instruments. */
function tick(i: number): Tick {
  return {
    mode: 'ltp',
    tradable: true,
    exchange: 'NSE',
    instrument_token: ((100 + (i % 3)) << 8) | 1,
    last_price: 10 + i,
  };
}

function msg(
  instanceId: string,
  keySequence: number,
  i: number,
  receivedAt: number,
  apiKeyId = 'k',
): RecordedMessage {
  return { apiKeyId, instanceId, keySequence, receivedAt, tick: tick(i) };
}

describe('tick consumer', () => {
  it('tick consumer - percentiles are nearest-rank; none is NaN', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted on purpose
    expect(distribution(values)).toEqual({ count: 100, p50: 50, p99: 99, max: 100 });
    expect(distribution([7])).toEqual({ count: 1, p50: 7, p99: 7, max: 7 });
    expect(distribution([1, 2, 3, 1000])).toMatchObject({ p50: 2, p99: 1000, max: 1000 });
    expect(distribution([]).count).toBe(0);
    expect(distribution([]).p99).toBeNaN();
  });

  it('tick consumer - records gaps, handovers with timing, overlap duplicates and silent instruments per key', () => {
    let now = 10_000;
    const r = new TickRecorder({ overlapMs: 1_000, now: () => now });
    // A: key sequence 1..8 with 4 and 5 lost.
    for (const seq of [1, 2, 3, 6, 7, 8]) {
      r.record(msg('A', seq, seq, 50_000 + seq));
      now += 10;
    }
    // A dies; B takes over 2 s later, publishing ticks 9..12.
    now += 2_000;
    for (let i = 9; i <= 12; i++) {
      r.record(msg('B', i - 8, i, 52_100 + i));
      now += 10;
    }
    // A graceful hand-over B -> C: C starts while B still sends one tick C already sent (a duplicate).
    now += 300;
    r.record(msg('C', 1, 13, 52_500));
    now += 5;
    r.record(msg('B', 5, 13, 52_499)); // same content as C's first: overlap and duplicate
    now += 5;
    r.record(msg('C', 2, 14, 52_510));
    // Another key, untouched.
    r.record(msg('D', 1, 1, 60_000, 'other'));

    const report = r.report();
    expect(report).toMatchObject({ received: 14, missing: 2, duplicates: 1, handovers: 2 });
    expect(report.keys.k).toMatchObject({
      received: 13,
      gaps: 1,
      missing: 2,
      duplicates: 1,
      instances: ['A', 'B', 'C'],
      tokens: 3,
    });
    expect(report.keys.k!.handovers.map((h) => [h.from, h.to, h.gapMs, h.arrivalGapMs])).toEqual([
      ['A', 'B', 52_109 - 50_008, 2_010],
      ['B', 'C', 52_500 - 52_112, 310],
    ]);
    expect(report.arrivalGapMs).toEqual({ count: 2, p50: 310, p99: 2_010, max: 2_010 });
    expect(report.gapMs.max).toBe(52_109 - 50_008);
    expect(report.keys.other).toMatchObject({ received: 1, handovers: [], instances: ['D'] });
    // Instruments that have not ticked since a moment (none of k's three after the last handover started).
    expect(r.silentTokens('k', now - 20)).toHaveLength(1);
    expect(r.silentTokens('k', now + 1).sort()).toEqual([25_601, 25_857, 26_113]);
  });

  it('tick consumer - duplicate detection remembers a bounded number of ids', () => {
    const r = new TickRecorder({ maxRecentIds: 2 });
    r.record(msg('A', 1, 1, 0));
    r.record(msg('A', 2, 2, 0));
    r.record(msg('A', 3, 3, 0)); // id of 1 forgotten
    r.record(msg('A', 4, 1, 0)); // same content as the first: no longer remembered
    r.record(msg('A', 5, 3, 0)); // remembered: a duplicate
    expect(r.report().duplicates).toBe(1);
  });
});
