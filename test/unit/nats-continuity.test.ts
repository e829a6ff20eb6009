import { describe, expect, it } from 'vitest';
import { encodeTick } from '../../src/protocol/encode.js';
import type { Tick } from '../../src/protocol/types.js';
import { ContinuityTracker } from '../../src/sinks/continuity.js';
import { packetHash, tickMsgId } from '../../src/sinks/msg-id.js';
import { resolveSinkOptions } from '../../src/sinks/sink-options.js';
import { sampleTicks } from '../helpers/nats-ticks.js';

function clock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('nats continuity', () => {
  it('nats continuity - a key sequence jump within one instance is a gap; repeats and old numbers are not', () => {
    const c = clock();
    const tracker = new ContinuityTracker({ keySequences: true, now: c.now });
    expect(tracker.observe('k', 'A', 1, 10, 0)).toBeUndefined();
    expect(tracker.observe('k', 'A', 2, 11, 0)).toBeUndefined();
    expect(tracker.observe('k', 'A', 5, 12, 0)).toEqual({
      type: 'gap',
      apiKeyId: 'k',
      instanceId: 'A',
      missing: 2,
      sequence: 5,
    });
    expect(tracker.observe('k', 'A', 5, 13, 0)).toBeUndefined(); // repeated
    expect(tracker.observe('k', 'A', 3, 13, 0)).toBeUndefined(); // old
    expect(tracker.observe('k', 'A', 6, 14, 0)).toBeUndefined(); // not moved back by 3
    // Keys are independent; sequences wrap modulo 2^32.
    expect(tracker.observe('j', 'A', 0xffff_ffff, 14, 0)).toBeUndefined();
    expect(tracker.observe('j', 'A', 2, 15, 0)).toMatchObject({ type: 'gap', missing: 2 });
    expect(tracker.counters).toEqual({ handovers: 0, keyGaps: 2, keyMissed: 4, overlapping: 0 });
  });

  it('nats continuity - without key sequences (a filtered subscription) the subject gap is reported per key', () => {
    const tracker = new ContinuityTracker({ keySequences: false });
    expect(tracker.observe('k', 'A', 1, 10, 0)).toBeUndefined();
    // Key sequence jumps by 10 (other subjects, not subscribed): no gap; the subject says 3 missing.
    expect(tracker.observe('k', 'A', 11, 11, 0)).toBeUndefined();
    expect(tracker.observe('k', 'A', 20, 12, 3)).toMatchObject({ type: 'gap', missing: 3, instanceId: 'A' });
  });

  it('nats continuity - a new instance is a handover with both gaps; the old one overlapping is not', () => {
    const c = clock(50_000);
    const tracker = new ContinuityTracker({ keySequences: true, overlapMs: 1_000, now: c.now });
    tracker.observe('k', 'A', 1, 100_000, 0);
    tracker.observe('k', 'A', 2, 100_400, 0);
    c.advance(300);
    expect(tracker.observe('k', 'B', 1, 101_700, 0)).toEqual({
      type: 'handover',
      apiKeyId: 'k',
      from: 'A',
      to: 'B',
      lastReceivedAt: 100_400,
      firstReceivedAt: 101_700,
      gapMs: 1_300,
      arrivalGapMs: 300,
    });
    // A still publishing (each message within overlapMs of its previous one): overlap, not a hand-back.
    c.advance(200);
    expect(tracker.observe('k', 'A', 3, 100_500, 0)).toBeUndefined();
    c.advance(900);
    expect(tracker.observe('k', 'A', 4, 100_600, 0)).toBeUndefined();
    // B continues; its sequence is its own (1 -> 2 is no gap despite A's 3 and 4).
    expect(tracker.observe('k', 'B', 2, 101_800, 0)).toBeUndefined();
    expect(tracker.counters).toMatchObject({ handovers: 1, overlapping: 2, keyGaps: 0 });
    // A silent for longer than overlapMs, then publishing again: a real handover back.
    c.advance(1_001);
    expect(tracker.observe('k', 'A', 9, 103_000, 0)).toMatchObject({
      type: 'handover',
      from: 'B',
      to: 'A',
      gapMs: 1_200,
    });
    expect(tracker.counters.handovers).toBe(2);
  });

  it('nats continuity - the keys tracked are bounded', () => {
    const tracker = new ContinuityTracker({ keySequences: true, maxKeys: 3 });
    for (let i = 0; i < 10; i++) tracker.observe(`k${i}`, 'A', 1, 0, 0);
    expect(tracker.size).toBe(3);
    // k0 was forgotten: its next message starts afresh (no handover, no gap).
    expect(tracker.observe('k0', 'B', 50, 0, 0)).toBeUndefined();
  });
});

describe('nats msg id', () => {
  it('nats msg id - the same tick gets the same id whoever publishes it; different content, key or time differ', () => {
    const [full, quote, ltp] = sampleTicks(3);
    const id = (key: string, t: Tick): string => tickMsgId(key, t, encodeTick(t));
    expect(id('k', full!)).toBe(id('k', structuredClone(full!)));
    // The exchange timestamp (seconds) is part of a full tick's id; ltp/quote have none.
    expect(id('k', full!)).toMatch(/^k:408065:full:1625461887:[0-9a-f]{16}$/);
    expect(id('k', ltp!)).toMatch(/:ltp:-:[0-9a-f]{16}$/);
    expect(id('k', quote!)).not.toBe(
      id('k', { ...quote!, volume_traded: (quote as { volume_traded: number }).volume_traded + 1 } as Tick),
    );
    expect(id('k', full!)).not.toBe(id('j', full!));
    const later = { ...full!, exchange_timestamp: new Date(1_625_461_888_000) } as Tick;
    expect(id('k', full!)).not.toBe(id('k', later));
    // Key ids are URI-encoded: no separator or header-breaking characters.
    expect(id('a:b\r\n', ltp!)).toMatch(/^a%3Ab%0D%0A:/);
    // The hash sees every byte.
    const bytes = encodeTick(full!);
    const flipped = bytes.slice();
    flipped[100] = (flipped[100]! + 1) & 0xff;
    expect(packetHash(bytes)).not.toBe(packetHash(flipped));
  });

  it('nats msg id - the sink sets msg ids only with JetStream, unless dedupe is off; the window is checked', () => {
    expect(resolveSinkOptions({}).msgIds).toBe(false);
    expect(resolveSinkOptions({ jetstream: true }).msgIds).toBe(true);
    expect(resolveSinkOptions({ jetstream: { dedupe: false } }).msgIds).toBe(false);
    expect(() => resolveSinkOptions({ jetstream: { duplicateWindowMs: 5 } })).toThrow(/duplicateWindowMs/);
  });

  it('nats msg id - instance ids: a default fits the header, a given one is checked', () => {
    const id = resolveSinkOptions({}).instanceId;
    expect(id).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{8}$`));
    expect(resolveSinkOptions({}).instanceId).not.toBe(id); // random part
    expect(resolveSinkOptions({ instanceId: 'dc1-a' }).instanceId).toBe('dc1-a');
    expect(() => resolveSinkOptions({ instanceId: '' })).toThrow(/instanceId/);
    expect(() => resolveSinkOptions({ instanceId: 'a\nb' })).toThrow(/control/);
    expect(() => resolveSinkOptions({ instanceId: 'é'.repeat(128) })).toThrow(/255 UTF-8 bytes, got 256/);
  });
});
