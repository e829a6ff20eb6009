import { describe, expect, it } from 'vitest';
import { StatusFeed } from '../../src/connection/status-feed.js';

describe('status feed', () => {
  it('status feed - each reader gets the events pushed after it started, then ends', async () => {
    const feed = new StatusFeed<number>();
    feed.push(0); // before any reader: nobody gets it
    const a = feed.iterate();
    const b = feed.iterate();
    const pendingA = a.next();
    feed.push(1);
    feed.push(2);
    feed.end();
    expect(await pendingA).toEqual({ value: 1, done: false });
    expect(await a.next()).toEqual({ value: 2, done: false });
    expect((await a.next()).done).toBe(true);
    const seen: number[] = [];
    for await (const v of b) seen.push(v);
    expect(seen).toEqual([1, 2]);
  });

  it('status feed - a reader that never reads keeps only the newest events', async () => {
    const feed = new StatusFeed<number>(3);
    const r = feed.iterate();
    for (let i = 0; i < 10; i++) feed.push(i);
    feed.end();
    const seen: number[] = [];
    for await (const v of r) seen.push(v);
    expect(seen).toEqual([7, 8, 9]);
  });

  it('status feed - an iterator made after the end finishes at once; return() detaches', async () => {
    const feed = new StatusFeed<number>();
    const r = feed.iterate();
    const waiting = r.next();
    await r.return?.();
    expect((await waiting).done).toBe(true);
    feed.push(1);
    expect((await r.next()).done).toBe(true);
    feed.end();
    expect((await feed.iterate().next()).done).toBe(true);
  });
});
