import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, FrameView } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo, ProtocolErrorKind } from '../../src/protocol/types.js';
import { Bytes, frame } from './protocol-bytes.js';

const ltp = (token: number) => new Bytes().i32(token).i32(100).build();

function run(bytes: Uint8Array): {
  tokens: number[];
  kinds: ProtocolErrorKind[];
  errors: ProtocolErrorInfo[];
} {
  const errors: ProtocolErrorInfo[] = [];
  const tokens = decodeFrame(bytes, (e) => errors.push(e)).map((t) => t.instrument_token);
  return { tokens, kinds: errors.map((e) => e.kind), errors };
}

/** Independent reference walk: which packets a correct decoder yields and which problems it reports. */
function oracle(bytes: Uint8Array): { tokens: number[]; kinds: ProtocolErrorKind[] } {
  const tokens: number[] = [];
  const kinds: ProtocolErrorKind[] = [];
  if (bytes.length === 0) return { tokens, kinds: ['frame_too_short'] };
  if (bytes.length === 1) return { tokens, kinds };
  const n = bytes[0]! * 256 + bytes[1]!;
  let pos = 2;
  for (let i = 0; i < n; i++) {
    if (pos + 2 > bytes.length) return { tokens, kinds: [...kinds, 'truncated_length'] };
    const len = bytes[pos]! * 256 + bytes[pos + 1]!;
    if (pos + 2 + len > bytes.length) return { tokens, kinds: [...kinds, 'truncated_packet'] };
    if ([8, 28, 32, 44, 184].includes(len)) {
      const p = pos + 2;
      tokens.push(bytes[p]! * 2 ** 24 + bytes[p + 1]! * 2 ** 16 + bytes[p + 2]! * 256 + bytes[p + 3]!);
    } else kinds.push('unknown_packet_length');
    pos += 2 + len;
  }
  if (pos < bytes.length) kinds.push('trailing_bytes');
  return { tokens, kinds };
}

describe('decoder (malformed input)', () => {
  it('decoder - a count larger than the packets present decodes what is there and reports truncated_length', () => {
    const good = frame(ltp(1), ltp(2));
    const lying = good.slice();
    lying[1] = 9;
    const { tokens, errors } = run(lying);
    expect(tokens).toEqual([1, 2]);
    expect(errors).toEqual([expect.objectContaining({ kind: 'truncated_length', offset: good.length })]);
  });

  it('decoder - a count smaller than the packets present reports trailing_bytes', () => {
    const lying = frame(ltp(1), ltp(2));
    lying[1] = 1;
    expect(run(lying)).toMatchObject({ tokens: [1], kinds: ['trailing_bytes'] });
  });

  it('decoder - skips a truncated packet and reports it', () => {
    const good = frame(ltp(1), new Bytes().i32(2).zeros(40).build());
    const cut = good.slice(0, good.length - 5);
    const { tokens, errors } = run(cut);
    expect(tokens).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: 'truncated_packet', offset: 12 });
    expect(errors[0]!.detail).toContain('44 bytes');
  });

  it('decoder - skips an unknown packet length and keeps going', () => {
    const odd = new Bytes().i32(99).zeros(6).build(); // 10 bytes: no such packet kind
    expect(run(frame(ltp(1), odd, ltp(3)))).toMatchObject({
      tokens: [1, 3],
      kinds: ['unknown_packet_length'],
    });
  });

  it('decoder - an empty frame is reported as frame_too_short', () => {
    expect(run(new Uint8Array(0))).toMatchObject({ tokens: [], kinds: ['frame_too_short'] });
  });

  it('decoder - random bytes never throw and match the reference walk', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const got = run(bytes);
        expect({ tokens: got.tokens, kinds: got.kinds }).toEqual(oracle(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('decoder - mutated valid frames (count, lengths, truncation) never throw and every bad part is reported', () => {
    const lengths = fc.constantFrom(8, 28, 32, 44, 184);
    const packetArb = fc.tuple(lengths, fc.integer({ min: 0, max: 0xffffffff })).map(([len, token]) =>
      new Bytes()
        .i32(token)
        .zeros(len - 4)
        .build(),
    );
    const mutation = fc.oneof(
      fc.record({ type: fc.constant('count' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ type: fc.constant('truncate' as const), value: fc.nat() }),
      fc.record({
        type: fc.constant('length' as const),
        value: fc.integer({ min: 0, max: 0xffff }),
        at: fc.nat(),
      }),
      fc.record({ type: fc.constant('append' as const), value: fc.integer({ min: 1, max: 9 }) }),
    );
    fc.assert(
      fc.property(
        fc.array(packetArb, { maxLength: 8 }),
        fc.array(mutation, { maxLength: 3 }),
        (packets, muts) => {
          let bytes = frame(...packets);
          for (const m of muts) {
            if (m.type === 'count') {
              if (bytes.length >= 2) new DataView(bytes.buffer).setUint16(0, m.value);
            } else if (m.type === 'truncate') bytes = bytes.slice(0, m.value % (bytes.length + 1));
            else if (m.type === 'append') bytes = Uint8Array.from([...bytes, ...new Array(m.value).fill(7)]);
            else {
              // Overwrite the length prefix of one of the packets (if the frame still has it).
              let pos = 2;
              const target = packets.length ? m.at % packets.length : 0;
              for (let i = 0; i < target; i++) pos += 2 + (packets[i]?.length ?? 0);
              if (pos + 2 <= bytes.length) new DataView(bytes.buffer).setUint16(pos, m.value);
            }
          }
          const got = run(bytes);
          const want = oracle(bytes);
          expect({ tokens: got.tokens, kinds: got.kinds }).toEqual(want);
          // A frame yielding fewer packets than it announces always says why.
          const announced = bytes.length >= 2 ? bytes[0]! * 256 + bytes[1]! : 0;
          if (bytes.length >= 2 && got.tokens.length < announced) expect(got.kinds.length).toBeGreaterThan(0);
          // The zero-copy view agrees with decodeFrame, errors included.
          const viewErrors: ProtocolErrorKind[] = [];
          const view = new FrameView().reset(bytes, (e) => viewErrors.push(e.kind));
          expect(viewErrors).toEqual(got.kinds);
          expect(view.toTicks()).toEqual(decodeFrame(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('decoder - without onError, bad input is skipped silently (no throw)', () => {
    expect(() => decodeFrame(Uint8Array.of(0, 5, 0, 200, 1, 2))).not.toThrow();
    expect(decodeFrame(Uint8Array.of(0, 5, 0, 200, 1, 2))).toEqual([]);
  });
});
