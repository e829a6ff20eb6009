/** OutputSink.flush: ends when the queue empties (drain or not), or when told to give up. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OutputSink } from '../../src/cli/output.js';

describe('cli output flush', () => {
  it('cli output - flush resolves once a queue under the high-water mark empties (no drain event comes)', async () => {
    const target = new Writable({
      highWaterMark: 1 << 20,
      write(_chunk, _enc, cb) {
        setTimeout(cb, 30);
      },
    });
    const sink = new OutputSink(target);
    sink.write('one line\n');
    expect(target.writableLength).toBeGreaterThan(0);
    const result = await Promise.race([
      sink.flush(),
      new Promise<string>((r) => setTimeout(() => r('hung'), 2000)),
    ]);
    expect(result).toBe(true);
    expect(target.writableLength).toBe(0);
  });

  it('cli output - flush gives up (false) when its deadline comes first, and a reader that never reads cannot hold it', async () => {
    const target = new Writable({
      highWaterMark: 16,
      write() {
        // Never calls back: the reader never reads.
      },
    });
    const sink = new OutputSink(target);
    sink.write('x'.repeat(100));
    sink.write('y'.repeat(100));
    expect(sink.pendingBytes).toBeGreaterThan(0);
    let giveUp!: () => void;
    const deadline = new Promise<void>((r) => {
      giveUp = r;
    });
    const flushed = sink.flush(deadline);
    setTimeout(giveUp, 50);
    expect(await flushed).toBe(false);
    // ready() waits for room unless told to stop.
    const big = new OutputSink(target, { maxBufferedBytes: 10 });
    expect(
      await Promise.race([
        big.ready(Promise.resolve()),
        new Promise((r) => setTimeout(() => r('hung'), 1000)),
      ]),
    ).toBe(undefined);
  });
});
