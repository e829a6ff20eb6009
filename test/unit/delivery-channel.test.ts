import { describe, expect, it } from 'vitest';
import { BoundedChannel } from '../../src/delivery/bounded-channel.js';
import { Broadcaster } from '../../src/delivery/broadcaster.js';

describe('channel', () => {
  it('channel - delivers in order through tryReceive and receive', async () => {
    const ch = new BoundedChannel<number>({ capacity: 4 });
    ch.push(1);
    ch.push(2);
    expect(ch.size).toBe(2);
    expect(ch.tryReceive()).toBe(1);
    expect(await ch.receive()).toBe(2);
    expect(ch.tryReceive()).toBeUndefined();
    const pending = ch.receive();
    ch.push(3);
    expect(await pending).toBe(3);
    expect(ch.size).toBe(0);
  });

  it('channel - drop-oldest keeps the newest messages and counts drops', () => {
    const ch = new BoundedChannel<number>({ capacity: 3 });
    for (let i = 1; i <= 10; i++) ch.push(i);
    expect(ch.dropped).toBe(7);
    expect(ch.size).toBe(3);
    expect([ch.tryReceive(), ch.tryReceive(), ch.tryReceive()]).toEqual([8, 9, 10]);
  });

  it('channel - drop-newest keeps the oldest messages and counts drops', () => {
    const ch = new BoundedChannel<number>({ capacity: 3, overflow: 'drop-newest' });
    const accepted = [];
    for (let i = 1; i <= 5; i++) accepted.push(ch.push(i));
    expect(accepted).toEqual([true, true, true, false, false]);
    expect(ch.dropped).toBe(2);
    expect([ch.tryReceive(), ch.tryReceive(), ch.tryReceive()]).toEqual([1, 2, 3]);
  });

  it('channel - ring wraps around many times without losing order', () => {
    const ch = new BoundedChannel<number>({ capacity: 5 });
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < (round % 5) + 1; k++) ch.push(next++);
      while (ch.size > 0) out.push(ch.tryReceive()!);
    }
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(ch.dropped).toBe(0);
  });

  it('channel - for await ends once ended and drained', async () => {
    const ch = new BoundedChannel<number>({ capacity: 8 });
    ch.push(1);
    ch.push(2);
    ch.end();
    expect(ch.closed).toBe(true);
    expect(ch.push(3)).toBe(false);
    const seen: number[] = [];
    for await (const m of ch) seen.push(m);
    expect(seen).toEqual([1, 2]);
    expect(await ch.receive()).toBeUndefined();
  });

  it('channel - end releases a waiting for-await loop', async () => {
    const ch = new BoundedChannel<number>();
    const loop = (async () => {
      const seen: number[] = [];
      for await (const m of ch) seen.push(m);
      return seen;
    })();
    await Promise.resolve();
    ch.push(7);
    await new Promise((r) => setTimeout(r, 1));
    ch.end();
    expect(await loop).toEqual([7]);
  });

  it('channel - close discards the buffer and resolves pending receives with undefined', async () => {
    const ch = new BoundedChannel<number>();
    const pending = ch.receive();
    ch.close();
    expect(await pending).toBeUndefined();
    const ch2 = new BoundedChannel<number>();
    ch2.push(1);
    ch2.close();
    expect(ch2.size).toBe(0);
    expect(await ch2.receive()).toBeUndefined();
  });

  it('channel - carries falsy messages', async () => {
    const ch = new BoundedChannel<number>();
    ch.push(0);
    ch.end();
    const seen: number[] = [];
    for await (const m of ch) seen.push(m);
    expect(seen).toEqual([0]);
  });

  it('channel - rejects bad options with InvalidArgumentError', () => {
    expect(() => new BoundedChannel({ capacity: 0 })).toThrow(/capacity/);
    expect(() => new BoundedChannel({ capacity: 1.5 })).toThrow(/capacity/);
    expect(() => new BoundedChannel({ overflow: 'drop-all' as never })).toThrow(/overflow/);
  });
});

describe('broadcaster', () => {
  it('broadcaster - publishes to every channel', () => {
    const b = new Broadcaster<string>();
    const a = b.subscribe();
    const c = b.subscribe();
    expect(b.publish('x')).toBe(2);
    expect(a.tryReceive()).toBe('x');
    expect(c.tryReceive()).toBe('x');
  });

  it('broadcaster - a slow consumer only loses its own messages', () => {
    const b = new Broadcaster<number>();
    const slow = b.subscribe({ capacity: 2 });
    const fast = b.subscribe({ capacity: 100 });
    const fastSeen: number[] = [];
    for (let i = 0; i < 50; i++) {
      b.publish(i);
      fastSeen.push(fast.tryReceive()!);
    }
    expect(fastSeen).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(fast.dropped).toBe(0);
    expect(slow.dropped).toBe(48);
    expect(b.dropped).toBe(48);
    expect([slow.tryReceive(), slow.tryReceive()]).toEqual([48, 49]);
  });

  it('broadcaster - break in for-await closes and unsubscribes the channel', async () => {
    const b = new Broadcaster<number>();
    const ch = b.subscribe();
    b.publish(1);
    b.publish(2);
    for await (const m of ch) {
      if (m === 1) break;
    }
    expect(ch.closed).toBe(true);
    expect(b.subscriberCount).toBe(0);
    expect(b.publish(3)).toBe(0);
  });

  it('broadcaster - close ends every channel and later subscribers end at once', async () => {
    const b = new Broadcaster<number>();
    const ch = b.subscribe();
    const loop = (async () => {
      let n = 0;
      for await (const _ of ch) n++;
      return n;
    })();
    b.publish(1);
    b.close();
    expect(await loop).toBe(1);
    const late = b.subscribe();
    expect(late.closed).toBe(true);
    expect(await late.receive()).toBeUndefined();
    expect(b.publish(2)).toBe(0);
  });

  it('broadcaster - drop totals survive the channels that made them', () => {
    const b = new Broadcaster<number>({ capacity: 1 });
    const ch = b.subscribe();
    b.publish(1);
    b.publish(2);
    expect(b.dropped).toBe(1);
    ch.close();
    expect(b.dropped).toBe(1);
    expect(b.hasSubscribers).toBe(false);
  });
});
