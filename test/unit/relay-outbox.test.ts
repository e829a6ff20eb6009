import { describe, expect, it } from 'vitest';
import type { KiteServerConnection } from '../../src/kite-server/connection.js';
import type { RelayClient } from '../../src/relay/clients.js';
import { RelaySession } from '../../src/relay/session.js';

function session(buffered: { n: number }): RelaySession {
  const conn = {
    id: 1,
    ws: {
      get bufferedAmount() {
        return buffered.n;
      },
    },
  } as unknown as KiteServerConnection;
  return new RelaySession(conn, { id: 'c' } as RelayClient);
}

const frame = (bytes: number, tag: number) => new Uint8Array(bytes).fill(tag);

describe('relay outbox', () => {
  it('relay outbox - past the soft limit the oldest frames go first, counted; the newest always stays', () => {
    const buffered = { n: 0 };
    const s = session(buffered);
    for (let i = 0; i < 10; i++) s.enqueue(frame(100, i), 3, 1000 + i, 450);
    // 450 bytes hold 4 frames of 100: the 6 oldest were dropped.
    expect(s.queuedFrames).toBe(4);
    expect(s.queuedBytes).toBe(400);
    expect(s.droppedFrames).toBe(6);
    expect(s.droppedTicks).toBe(18);
    expect(s.lagMs(1010)).toBe(4); // the oldest kept was queued at 1006
    // A socket buffer already over the limit leaves only the newest frame.
    buffered.n = 1000;
    s.enqueue(frame(100, 10), 1, 1010, 450);
    expect(s.queuedFrames).toBe(1);
    const sent: number[] = [];
    // Nothing drains while the socket is over the low-water mark...
    expect(s.drain(500, (f) => sent.push(f[0]!))).toBe(false);
    expect(sent).toEqual([]);
    // ...then the rest goes in order and the backlog clock stops.
    buffered.n = 0;
    expect(s.drain(500, (f) => sent.push(f[0]!))).toBe(true);
    expect(sent).toEqual([10]);
    expect(s.backlogSince).toBe(0);
    expect(s.lagMs(2000)).toBe(0);
  });

  it('relay outbox - drains while the socket stays under the low-water mark, oldest first', () => {
    const buffered = { n: 0 };
    const s = session(buffered);
    for (let i = 0; i < 5; i++) s.enqueue(frame(10, i), 1, 500 + i, 1_000_000);
    const sent: number[] = [];
    const ok = s.drain(25, (f) => {
      sent.push(f[0]!);
      buffered.n += f.byteLength;
    });
    expect(ok).toBe(false);
    expect(sent).toEqual([0, 1, 2]);
    expect(s.queuedFrames).toBe(2);
    expect(s.backlogSince).toBe(500); // still backlogged since the first frame waited
  });
});
