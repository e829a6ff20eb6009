/**
 * The structured fuzzer's live-client target in CI (issue 13): hostile order/error/message frames,
 * injected by the simulator into a running KiteTickerManager's socket. After every batch a sentinel
 * message must still arrive, and every frame must come out delivered or reported.
 */
import { describe, expect, it } from 'vitest';
import { CI_LIMITS, runTickerTarget } from '../soak/fuzz-structured.js';

describe('fuzz structured ticker', () => {
  it('fuzz structured - a live KiteTickerManager survives 60 hostile text frames and reports every one', async () => {
    const r = await runTickerTarget({ frames: 60, seed: 0x13, limits: CI_LIMITS, batch: 10 });
    expect(r.failures).toEqual([]);
    expect(r.uncaught).toBe(0);
    expect(r.deadClient).toBe(0);
    expect(r.unreported).toBe(0);
    expect(r.frames).toBe(60);
    expect(r.sentinels).toBe(6);
  });
});
