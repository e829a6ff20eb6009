import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, InvalidTokenError, KiteTickerError } from '../../src/errors.js';
import {
  encodeMode,
  encodeSubscribe,
  encodeUnsubscribe,
  type Mode,
  parseClientCommand,
  validateTokens,
} from '../../src/protocol/index.js';

describe('commands', () => {
  it('commands - subscribe, unsubscribe and mode render the Kite JSON with numeric tokens', () => {
    expect(encodeSubscribe([408065, 884737])).toEqual(['{"a":"subscribe","v":[408065,884737]}']);
    expect(encodeUnsubscribe([884737])).toEqual(['{"a":"unsubscribe","v":[884737]}']);
    expect(encodeMode('full', [408065])).toEqual(['{"a":"mode","v":["full",[408065]]}']);
    expect(JSON.parse(encodeMode('ltp', [0, 4294967295])[0]!)).toEqual({
      a: 'mode',
      v: ['ltp', [0, 4294967295]],
    });
  });

  it('commands - an empty list sends no message', () => {
    expect(encodeSubscribe([])).toEqual([]);
    expect(encodeUnsubscribe([])).toEqual([]);
    expect(encodeMode('quote', [])).toEqual([]);
  });

  it('commands - long lists are split into messages of maxPerMessage tokens (default 1000)', () => {
    const tokens = Array.from({ length: 2501 }, (_, i) => i + 1);
    const messages = encodeSubscribe(tokens);
    expect(messages.map((m) => JSON.parse(m).v.length)).toEqual([1000, 1000, 501]);
    expect(messages.flatMap((m) => JSON.parse(m).v)).toEqual(tokens);
    const modes = encodeMode('full', tokens.slice(0, 7), 3);
    expect(modes.map((m) => JSON.parse(m).v)).toEqual([
      ['full', [1, 2, 3]],
      ['full', [4, 5, 6]],
      ['full', [7]],
    ]);
  });

  it('commands - invalid tokens throw InvalidTokenError naming the first bad value', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN, '408065', null, undefined, 10n]) {
      let caught: unknown;
      try {
        validateTokens([1, bad, -7]);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(InvalidTokenError);
      expect((caught as InvalidTokenError).code).toBe(ErrorCode.InvalidToken);
      expect((caught as InvalidTokenError).value).toBe(bad);
    }
    expect(() => encodeSubscribe([1, '2' as unknown as number])).toThrow(/"2"/);
    expect(validateTokens([0, 4294967295])).toEqual([0, 4294967295]);
  });

  it('commands - a bad mode or chunk size is an InvalidArgumentError', () => {
    expect(() => encodeMode('FULL' as Mode, [1])).toThrow(KiteTickerError);
    expect(() => encodeSubscribe([1], 0)).toThrow(/maxPerMessage/);
    expect(() => encodeSubscribe([1], 2.5)).toThrow(/maxPerMessage/);
  });

  it('commands - parseClientCommand accepts everything the encoders produce', () => {
    const token = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        fc.array(token, { minLength: 1, maxLength: 30 }),
        fc.constantFrom<Mode>('ltp', 'quote', 'full'),
        fc.integer({ min: 1, max: 10 }),
        (tokens, mode, max) => {
          const parsed = (msgs: string[]) =>
            msgs.map((m) => {
              const r = parseClientCommand(m);
              if (!r.ok) throw new Error(r.error);
              return r.command;
            });
          expect(parsed(encodeSubscribe(tokens, max)).flatMap((c) => c.tokens)).toEqual(tokens);
          expect(parsed(encodeUnsubscribe(tokens, max)).every((c) => c.action === 'unsubscribe')).toBe(true);
          const modes = parsed(encodeMode(mode, tokens, max));
          expect(modes.flatMap((c) => c.tokens)).toEqual(tokens);
          expect(modes.every((c) => c.action === 'mode' && c.mode === mode)).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('commands - parseClientCommand rejects malformed messages with a clear error', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['[1,2]', /JSON object/],
      ['null', /JSON object/],
      ['{"v":[1]}', /missing action/],
      ['{"a":"subscribe"}', /array of instrument tokens/],
      ['{"a":"subscribe","v":[1,"2"]}', /element 1 is "2"/],
      ['{"a":"subscribe","v":[1.5]}', /element 0 is 1.5/],
      ['{"a":"subscribe","v":[-1]}', /element 0 is -1/],
      ['{"a":"subscribe","v":[4294967296]}', /element 0/],
      ['{"a":"subscribe","v":[1],"x":2}', /unexpected key "x"/],
      ['{"a":"sub","v":[1]}', /unknown action "sub"/],
      ['{"a":"mode","v":[[1]]}', /\[mode, \[tokens/],
      ['{"a":"mode","v":["FULL",[1]]}', /unknown mode "FULL"/],
      ['{"a":"mode","v":["full",1]}', /array of instrument tokens/],
      ['{"a":"mode","v":["full",[null]]}', /element 0 is null/],
    ];
    for (const [text, pattern] of cases) {
      const r = parseClientCommand(text);
      expect(r.ok, text).toBe(false);
      if (!r.ok) expect(r.error, text).toMatch(pattern);
    }
    expect(parseClientCommand('{"a":"unsubscribe","v":[]}')).toEqual({
      ok: true,
      command: { action: 'unsubscribe', tokens: [] },
    });
  });
  it('commands - parseClientCommand never throws on deep nesting, huge strings or odd keys; errors stay short', () => {
    const deep = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
    const deepObject = (n: number): string => `${'{"x":'.repeat(n)}1${'}'.repeat(n)}`;
    const huge = `"${'y'.repeat(1_000_000)}"`;
    const cases: [string, RegExp][] = [
      [`{"a":"subscribe","v":[${deep(20_000)}]}`, /element 0 is an array of 1 element/],
      [`{"a":"subscribe","v":[${deepObject(20_000)}]}`, /element 0 is an object/],
      [`{"a":${deep(20_000)},"v":[1]}`, /unknown action an array/],
      [`{"a":"mode","v":[${deep(20_000)},[1]]}`, /unknown mode an array/],
      [`{"a":"mode","v":["full",[${huge}]]}`, /element 0 is "y{39}\.\.\., expected/],
      [`{"a":"subscribe","v":[1],${huge}:1}`, /unexpected key "y{39}\.\.\.$/],
      ['{"a":"subscribe","v":[1],"__proto__":{"x":1}}', /unexpected key "__proto__"/],
      ['{"a":{"toString":1},"v":[1]}', /unknown action an object/],
      [
        `{"a":"subscribe","v":["${'\\u0000'.repeat(1000)}"]}`,
        /element 0 is "(\\u0000){6}\\u0\.\.\., expected/,
      ],
    ];
    for (const [text, pattern] of cases) {
      const r = parseClientCommand(text);
      expect(r.ok, text.slice(0, 60)).toBe(false);
      if (!r.ok) {
        expect(r.error, text.slice(0, 60)).toMatch(pattern);
        expect(r.error.length).toBeLessThan(200);
      }
    }
  });
});
