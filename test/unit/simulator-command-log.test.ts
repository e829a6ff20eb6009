import { describe, expect, it } from 'vitest';
import { COMMAND_LOG_ENTRY_BYTES, CommandLog } from '../../src/simulator/command-log.js';

const frame = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('simulator command log', () => {
  it('command log - keeps at most maxEntries, oldest dropped first', () => {
    const log = new CommandLog(3, 1_000_000);
    for (let i = 0; i < 5; i++) log.add(i, 1, frame(`c${i}`), false);
    expect(log.entries().map((e) => e.text)).toEqual(['c2', 'c3', 'c4']);
  });

  it('command log - the stored bytes never pass maxBytes, whatever the frames', () => {
    const maxBytes = 200_000;
    const log = new CommandLog(1000, maxBytes);
    for (let i = 0; i < 100; i++) log.add(i, 1, frame('q'.repeat(1_000_000)), false);
    const entries = log.entries();
    expect(log.bytes).toBeLessThanOrEqual(maxBytes);
    expect(entries.reduce((n, e) => n + Buffer.byteLength(e.text), 0)).toBeLessThanOrEqual(maxBytes);
    expect(entries).toHaveLength(3); // 3 x (64 KiB + 64) fit in 200,000
    for (const e of entries) {
      expect(e).toMatchObject({ bytes: 1_000_000, truncated: true });
      expect(e.text).toHaveLength(COMMAND_LOG_ENTRY_BYTES);
    }
    // A flood of empty frames is bounded too (each entry is charged a fixed overhead).
    const empties = new CommandLog(100_000, 20_000);
    for (let i = 0; i < 10_000; i++) empties.add(i, 1, frame(''), false);
    expect(empties.bytes).toBeLessThanOrEqual(20_000);
    expect(empties.entries()).toHaveLength(Math.floor(20_000 / 64));
  });

  it('command log - binary frames are logged by size; the newest entry is always kept', () => {
    const log = new CommandLog(10, 1);
    log.add(1, 7, Buffer.alloc(5000), true);
    expect(log.entries()).toEqual([
      { at: 1, connectionId: 7, text: '<binary 5000 bytes>', bytes: 5000, truncated: false },
    ]);
  });
});
