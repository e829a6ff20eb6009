import { describe, expect, it } from 'vitest';
import { Flags } from '../../bench/lib/args.js';
import { LatencyHistogram } from '../../bench/lib/histogram.js';
import { plainDecode } from '../../bench/lib/plain-decoder.js';
import { fmtRate, median, slope } from '../../bench/lib/stats.js';
import { markdownTable } from '../../bench/lib/table.js';
import { decodeFrame, encodeTicks } from '../../src/protocol/index.js';
import { contractTicks } from './contract-ticks.js';

describe('bench lib', () => {
  it('bench - histogram percentiles land within one 10 us bucket, max is exact', () => {
    const h = new LatencyHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i / 100); // 0.01 .. 10 ms
    expect(h.count).toBe(1000);
    expect(h.percentile(50)).toBeCloseTo(5, 1);
    expect(h.percentile(99)).toBeCloseTo(9.9, 1);
    expect(h.max).toBe(10);
    h.record(5000); // beyond the last bucket: clamped for percentiles, exact for max
    expect(h.max).toBe(5000);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.percentile(50)).toBeNaN();
  });

  it('bench - median, slope and rate formatting', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNaN();
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2);
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(slope([1], [1])).toBe(0);
    expect(fmtRate(5_312_000)).toBe('5.31 M');
    expect(fmtRate(22_400)).toBe('22.4 k');
    expect(fmtRate(950)).toBe('950');
  });

  it('bench - flags parse both spellings and reject unknown names and bad numbers', () => {
    const spec = { seconds: '', rates: '', quick: '' };
    const f = new Flags(spec, ['--seconds', '30', '--rates=1,5', '--quick']);
    expect(f.number('seconds', 60)).toBe(30);
    expect(f.numbers('rates', [1])).toEqual([1, 5]);
    expect(f.has('quick')).toBe(true);
    expect(new Flags(spec, []).number('seconds', 60)).toBe(60);
    expect(() => new Flags(spec, ['--secs', '3'])).toThrow(/unknown flag --secs/);
    expect(() => new Flags(spec, ['--seconds', 'x']).number('seconds', 1)).toThrow(/positive number/);
  });

  it('bench - markdown table aligns the first column left and the rest right', () => {
    expect(markdownTable(['a', 'b'], [['x', '1']])).toBe('| a | b |\n|---|---:|\n| x | 1 |');
  });

  it('bench - the plain-loop reference decoder builds exactly what decodeFrame builds (keys in order)', () => {
    const frame = encodeTicks(contractTicks());
    const wsLike = Buffer.concat([Buffer.alloc(5), frame]).subarray(5);
    const plain = plainDecode(wsLike);
    const ours = decodeFrame(wsLike);
    expect(plain).toStrictEqual(ours);
    expect(JSON.stringify(plain)).toBe(JSON.stringify(ours));
  });
});
