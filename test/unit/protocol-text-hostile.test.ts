/**
 * Server text frames built to hurt: nesting that overflows the stack of anything recursive, huge strings,
 * and every JSON type in every order field. parseTextMessage must never throw, must report what it
 * refuses, and whatever it passes on must be safe to stringify.
 */
import { describe, expect, it } from 'vitest';
import { parseTextMessage } from '../../src/protocol/index.js';
import {
  boundText,
  MAX_RENDERED_TEXT,
  MAX_TEXT_NESTING,
  nestingExceeds,
  renderBounded,
} from '../../src/protocol/text-guard.js';
import type { ProtocolErrorInfo } from '../../src/protocol/types.js';

const DEEP = 20_000;
const deepArray = (n: number, inner = ''): string => `${'['.repeat(n)}${inner}${']'.repeat(n)}`;
const deepObject = (n: number, inner = '1'): string => `${'{"a":'.repeat(n)}${inner}${'}'.repeat(n)}`;

function parse(text: string) {
  const errors: ProtocolErrorInfo[] = [];
  const msg = parseTextMessage(text, (e) => errors.push(e));
  return { msg, errors, kinds: errors.map((e) => e.kind) };
}

/** Every JSON type, including the shapes that break naive rendering. */
const ODD_VALUES: [string, string][] = [
  ['object with a non-function toString', '{"toString":1}'],
  ['object with valueOf and toJSON keys', '{"valueOf":"x","toJSON":[1]}'],
  ['empty object', '{}'],
  ['array', '[1,"2",null,{"a":[]}]'],
  ['nested array', '[[[[["x"]]]]]'],
  ['number', '-1.5e300'],
  ['zero', '-0'],
  ['true', 'true'],
  ['false', 'false'],
  ['null', 'null'],
  ['empty string', '""'],
  ['string with separators', '"a|b|c\\u0000\\n"'],
  ['__proto__ key', '{"__proto__":{"polluted":1}}'],
];

const ORDER_FIELDS = [
  'status',
  'filled_quantity',
  'pending_quantity',
  'cancelled_quantity',
  'quantity',
  'price',
  'trigger_price',
  'average_price',
  'exchange_update_timestamp',
  'status_message',
  'meta',
  'tag',
  'instrument_token',
];

describe('hostile text frames', () => {
  it(`hostile text - ${DEEP}-deep arrays and objects are reported, never thrown`, () => {
    const frames = [
      `{"type":${deepArray(DEEP)}}`,
      `{"type":${deepObject(DEEP)}}`,
      `{"type":"order","data":{"order_id":"1","status":${deepArray(DEEP)}}}`,
      `{"type":"order","data":{"order_id":"1","meta":${deepObject(DEEP)}}}`,
      `{"type":"error","data":${deepArray(DEEP)}}`,
      `{"type":"message","data":${deepObject(DEEP)}}`,
      `{"type":"order","data":${deepArray(DEEP)}}`,
      `{"x":${deepArray(DEEP)}}`,
    ];
    for (const text of frames) {
      const { msg, kinds, errors } = parse(text);
      expect(msg, text.slice(0, 40)).toBeUndefined();
      expect(kinds, text.slice(0, 40)).toEqual(['invalid_text_message']);
      expect(errors[0]!.detail).toContain(`deeper than ${MAX_TEXT_NESTING}`);
      expect(errors[0]!.detail.length).toBeLessThan(200);
    }
    // A top-level deep array is not an object at all: reported as such, just as cheaply.
    expect(parse(deepArray(DEEP)).kinds).toEqual(['invalid_text_message']);
  });

  it('hostile text - nesting up to the limit passes and is safe to stringify', () => {
    const inner = deepArray(MAX_TEXT_NESTING - 2, '"x"');
    const { msg, kinds } = parse(`{"type":"message","data":${inner}}`);
    expect(kinds).toEqual([]);
    expect(JSON.stringify(msg)).toContain('"x"');
    expect(parse(`{"type":"message","data":${deepArray(MAX_TEXT_NESTING)}}`).kinds).toEqual([
      'invalid_text_message',
    ]);
  });

  it('hostile text - brackets inside strings do not count as nesting', () => {
    const text = `{"type":"message","data":"${'['.repeat(100)}\\"${'{'.repeat(100)}"}`;
    expect(nestingExceeds(text, 2)).toBe(false);
    expect(parse(text).kinds).toEqual([]);
    expect(nestingExceeds('[[["a\\\\"]]]', 3)).toBe(false);
    expect(nestingExceeds('[[["a\\\\",[1]]]]', 3)).toBe(true);
  });

  it('hostile text - a huge error text is cut to a bounded size; a huge unknown type too', () => {
    const huge = 'E'.repeat(5_000_000);
    const { msg } = parse(JSON.stringify({ type: 'error', data: huge }));
    expect(msg?.type).toBe('error');
    const text = String(msg?.data);
    expect(text.length).toBeLessThan(MAX_RENDERED_TEXT + 100);
    expect(text.startsWith('EEEE')).toBe(true);
    expect(text).toContain(`${5_000_000 - MAX_RENDERED_TEXT} more characters`);

    const rendered = parse(JSON.stringify({ type: 'error', data: { list: Array(100_000).fill(7) } }));
    expect(String(rendered.msg?.data).length).toBeLessThan(MAX_RENDERED_TEXT + 100);

    const unknown = parse(JSON.stringify({ type: 'T'.repeat(1_000_000) }));
    expect(unknown.kinds).toEqual(['unknown_text_type']);
    expect(unknown.errors[0]!.detail.length).toBeLessThan(200);

    const order = parse(JSON.stringify({ type: 'order', data: { order_id: '1', status_message: huge } }));
    expect(order.kinds).toEqual([]);
    expect(order.msg?.type).toBe('order');
  });

  it('hostile text - any JSON value in any order field decodes, and the order stringifies', () => {
    for (const field of ORDER_FIELDS) {
      for (const [name, value] of ODD_VALUES) {
        const text = `{"type":"order","data":{"order_id":"1","${field}":${value}}}`;
        const { msg, kinds } = parse(text);
        expect(kinds, `${field}: ${name}`).toEqual([]);
        expect(msg?.type).toBe('order');
        expect(() => JSON.stringify(msg)).not.toThrow();
      }
    }
    // The order id itself must be a string; anything else is refused, not thrown.
    for (const [name, value] of ODD_VALUES) {
      if (value.startsWith('"')) continue;
      const { msg, kinds } = parse(`{"type":"order","data":{"order_id":${value}}}`);
      expect(msg, name).toBeUndefined();
      expect(kinds, name).toEqual(['invalid_text_message']);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('hostile text - even a value that throws when read is reported, not thrown; a throwing handler is called once', () => {
    const hostile = {
      toString(): string {
        throw new Error('unreadable');
      },
    } as unknown as string;
    const { msg, kinds } = parse(hostile);
    expect(msg).toBeUndefined();
    expect(kinds).toEqual(['invalid_text_message']);
    let calls = 0;
    const throwing = (): void => {
      calls++;
      throw new Error('handler bug');
    };
    expect(() => parseTextMessage('{oops', throwing)).toThrow('handler bug');
    expect(calls).toBe(1);
  });

  it('hostile text - renderBounded never throws and stays bounded', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    let deep: unknown = 1;
    for (let i = 0; i < DEEP; i++) deep = [deep];
    expect(renderBounded(cyclic)).toBe('[unrenderable value]');
    expect(renderBounded(deep)).toBe('[unrenderable value]');
    expect(renderBounded(undefined)).toBe('undefined');
    expect(renderBounded({ toJSON: () => 'ok' })).toBe('"ok"');
    expect(renderBounded('x'.repeat(50), 10)).toBe('xxxxxxxxxx... (40 more characters)');
    expect(boundText('short', 10)).toBe('short');
  });
});
