import { describe, expect, it } from 'vitest';
import { Broadcaster } from '../../src/delivery/broadcaster.js';

// The connection's statuses() feed: a Broadcaster read as async iterators (capacity 256, drop-oldest).
const statusFeed = <T>(capacity = 256) => new Broadcaster<T>({ capacity, overflow: 'drop-oldest' });

describe('status feed', () => {
  it('status feed - each reader gets the events pushed after it started, then ends', async () => {
    const feed = statusFeed<number>();
    feed.publish(0); // before any reader: nobody gets it
    const a = feed.iterate();
    const b = feed.iterate();
    const pendingA = a.next();
    feed.publish(1);
    feed.publish(2);
    feed.close();
    expect(await pendingA).toEqual({ value: 1, done: false });
    expect(await a.next()).toEqual({ value: 2, done: false });
    expect((await a.next()).done).toBe(true);
    const seen: number[] = [];
    for await (const v of b) seen.push(v);
    expect(seen).toEqual([1, 2]);
  });

  it('status feed - a reader that never reads keeps only the newest events', async () => {
    const feed = statusFeed<number>(3);
    const r = feed.iterate();
    for (let i = 0; i < 10; i++) feed.publish(i);
    feed.close();
    const seen: number[] = [];
    for await (const v of r) seen.push(v);
    expect(seen).toEqual([7, 8, 9]);
  });

  it('status feed - an iterator made after the end finishes at once; return() detaches', async () => {
    const feed = statusFeed<number>();
    const r = feed.iterate();
    const waiting = r.next();
    await r.return?.();
    expect((await waiting).done).toBe(true);
    feed.publish(1);
    expect((await r.next()).done).toBe(true);
    feed.close();
    expect((await feed.iterate().next()).done).toBe(true);
  });
});
