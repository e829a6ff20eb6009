import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeTicks } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo } from '../../src/protocol/types.js';
import { auditFrame, frameOf, mutate, randomValidFrame } from '../soak/frames.js';
import { runDecoderFuzz } from '../soak/fuzz-core.js';
import { createRng } from '../soak/rng.js';

function packet(length: number, token: number): Uint8Array {
  const body = new Uint8Array(length);
  new DataView(body.buffer).setUint32(0, token);
  return body;
}

function decodeCounting(bytes: Uint8Array): { tokens: number[]; errors: ProtocolErrorInfo[] } {
  const errors: ProtocolErrorInfo[] = [];
  const ticks = decodeFrame(bytes, (e) => errors.push(e));
  return { tokens: ticks.map((t) => t.instrument_token), errors };
}

describe('fuzz', () => {
  it('fuzz - the reference walk flags each kind of broken frame (the oracle is sound)', () => {
    const good = frameOf([packet(8, 408065), packet(44, 884737), packet(184, 256265)]);
    expect(auditFrame(good)).toMatchObject({ valid: true, tokens: [408065, 884737, 256265], problems: [] });
    expect(auditFrame(new Uint8Array([7]))).toMatchObject({ heartbeat: true });

    const lying = good.slice();
    lying[1] = 5; // N says 5, three packets follow
    expect(auditFrame(lying)).toMatchObject({ valid: false, tokens: [408065, 884737, 256265] });
    expect(auditFrame(lying).problems).toEqual(['truncated_length']);

    expect(auditFrame(good.slice(0, good.length - 3)).problems).toEqual(['truncated_packet']);
    expect(auditFrame(frameOf([packet(9, 1), packet(8, 2)]))).toMatchObject({
      tokens: [2],
      problems: ['unknown_packet_length'],
    });
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    expect(auditFrame(trailing).problems).toEqual(['trailing_bytes']);
  });

  it('fuzz - 60,000 random and mutated frames: nothing throws, every bad frame is reported, sound frames decode exactly', () => {
    const result = runDecoderFuzz({ frames: 60_000, seed: 0x5eed });
    expect(result.failures).toEqual([]);
    expect(result.throws).toBe(0);
    expect(result.unreportedBad).toBe(0);
    expect(result.falseErrors).toBe(0);
    expect(result.tickMismatches).toBe(0);
    expect(result.viewMismatches).toBe(0);
    // The run really exercised what it claims to.
    expect(result.badFrames).toBeGreaterThan(30_000);
    expect(result.reportedBad).toBe(result.badFrames);
    expect(result.validFrames).toBeGreaterThan(10_000);
    expect(result.viewChecks).toBe(15_000);
    for (const kind of ['truncated_length', 'truncated_packet', 'unknown_packet_length', 'trailing_bytes']) {
      expect(result.errorsByKind[kind], kind).toBeGreaterThan(100);
    }
    for (const kind of [
      'flip_bytes',
      'lying_count',
      'truncate',
      'extend',
      'bad_length',
      'random_bytes',
      'splice',
    ]) {
      expect(result.mutations[kind], kind).toBeGreaterThan(1000);
    }
  });

  it('fuzz - any byte string: decodeFrame never throws and reports exactly when the frame is unsound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(31), (bytes, pad) => {
        // Also at a non-zero byteOffset inside a larger buffer, as `ws` hands frames over.
        const pool = new Uint8Array(pad + bytes.length + 5).fill(0xee);
        pool.set(bytes, pad);
        const view = pool.subarray(pad, pad + bytes.length);
        const audit = auditFrame(bytes);
        const { tokens, errors } = decodeCounting(view);
        if (audit.valid || audit.heartbeat) {
          expect(errors).toEqual([]);
          expect(tokens).toEqual(audit.tokens);
        } else {
          expect(errors.length).toBeGreaterThan(0);
          expect(tokens.length).toBeLessThanOrEqual(audit.tokens.length);
        }
      }),
      { numRuns: 3000, seed: 42 },
    );
  });

  it('fuzz - frames made by the project encoder survive mutation the same way', () => {
    const rng = createRng(7);
    let bad = 0;
    for (let i = 0; i < 2000; i++) {
      const ticks = decodeFrame(randomValidFrame(rng, 6));
      const encoded = encodeTicks(ticks);
      const clean = decodeCounting(encoded);
      expect(clean.errors).toEqual([]);
      expect(clean.tokens).toEqual(ticks.map((t) => t.instrument_token));
      const broken = mutate(
        rng,
        encoded,
        rng.pick(['lying_count', 'truncate', 'bad_length', 'extend'] as const),
      );
      const audit = auditFrame(broken);
      const { errors } = decodeCounting(broken);
      if (!audit.valid && !audit.heartbeat) {
        bad++;
        expect(errors.length).toBeGreaterThan(0);
      }
    }
    expect(bad).toBeGreaterThan(1000);
  });
});
