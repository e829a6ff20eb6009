import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidTokenError, type KiteTickerError } from '../../src/errors.js';
import {
  encodeMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type Mode,
  parseClientCommand,
  parseTextMessage,
  validateTokens,
} from '../../src/protocol/index.js';
import type { ProtocolErrorInfo } from '../../src/protocol/types.js';
import { runTextFuzz } from '../soak/fuzz-core.js';

const anyValue = fc.oneof(
  fc.integer({ min: -10, max: 2 ** 32 + 10 }),
  fc.double(),
  fc.string({ maxLength: 6 }),
  fc.constantFrom(null, undefined, true, Number.NaN, Number.POSITIVE_INFINITY, -0, 2 ** 32 - 1, 2 ** 32, 1.5),
  fc.bigInt({ min: 0n, max: 10n }),
  fc.constant([1]),
  fc.constant({ valueOf: () => 1 }),
);

describe('fuzz', () => {
  it('fuzz - 50,000 mutated server texts and client commands: nothing throws, every rejection has a reason', () => {
    const result = runTextFuzz({ messages: 50_000, seed: 0xc0ffee });
    expect(result.failures).toEqual([]);
    expect(result.throws).toBe(0);
    expect(result.unreported).toBe(0);
    expect(result.malformed).toBe(0);
    expect(result.pollution).toBe(0);
    expect(result.rejected).toBeGreaterThan(5000);
    expect(result.accepted).toBeGreaterThan(1000);
    expect(result.commandsRejected).toBeGreaterThan(5000);
    expect(result.commandsAccepted).toBeGreaterThan(1000);
    for (const kind of ['invalid_json', 'invalid_text_message', 'unknown_text_type']) {
      expect(result.errorsByKind[kind], kind).toBeGreaterThan(100);
    }
  });

  it('fuzz - a __proto__ key in a postback stays data and never reaches Object.prototype', () => {
    const errors: ProtocolErrorInfo[] = [];
    const msg = parseTextMessage(
      '{"type":"order","data":{"__proto__":{"isAdmin":true},"order_id":"9"}}',
      (e) => errors.push(e),
    );
    expect(msg?.type).toBe('order');
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('fuzz - validateTokens accepts exactly whole numbers 0..2^32-1 and names the first bad value', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { maxLength: 8 }), (values) => {
        const firstBad = values.findIndex(
          (v) => !(typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff),
        );
        if (firstBad === -1) {
          expect(validateTokens(values)).toEqual(values);
        } else {
          let thrown: unknown;
          try {
            validateTokens(values);
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(InvalidTokenError);
          expect((thrown as KiteTickerError).code).toBe(ErrorCode.InvalidToken);
          expect(Object.is((thrown as InvalidTokenError).value, values[firstBad])).toBe(true);
        }
      }),
      { numRuns: 5000, seed: 9 },
    );
  });

  it('fuzz - encoded commands parse back to the same tokens and mode, in chunks of at most the limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        fc.constantFrom<Mode>('ltp', 'quote', 'full'),
        (tokens, max, mode) => {
          for (const [encode, action] of [
            [(t: number[]) => encodeSubscribe(t, max), 'subscribe'],
            [(t: number[]) => encodeUnsubscribe(t, max), 'unsubscribe'],
            [(t: number[]) => encodeMode(mode, t, max), 'mode'],
          ] as const) {
            const back: number[] = [];
            for (const text of encode(tokens)) {
              const parsed = parseClientCommand(text);
              if (!parsed.ok) throw new Error(parsed.error);
              expect(parsed.command.action).toBe(action);
              if (parsed.command.action === 'mode') expect(parsed.command.mode).toBe(mode);
              expect(parsed.command.tokens.length).toBeLessThanOrEqual(max);
              back.push(...parsed.command.tokens);
            }
            expect(back).toEqual(tokens);
          }
        },
      ),
      { numRuns: 1500, seed: 11 },
    );
  });

  it('fuzz - encoders reject bad tokens and modes with typed errors and never emit a message', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 5 }), (values) => {
        const valid = values.every(
          (v) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff,
        );
        fc.pre(!valid);
        expect(() => encodeSubscribe(values as number[])).toThrow(InvalidTokenError);
      }),
      { numRuns: 1000, seed: 3 },
    );
    for (const mode of ['LTP', 'Full', 'snapquote', '', undefined, 1]) {
      let thrown: unknown;
      try {
        encodeMode(mode as Mode, [1]);
      } catch (error) {
        thrown = error;
      }
      expect((thrown as KiteTickerError).code, String(mode)).toBe(ErrorCode.InvalidArgument);
    }
  });
});
