import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTextMessage } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo } from '../../src/protocol/types.js';

function parse(text: string) {
  const errors: ProtocolErrorInfo[] = [];
  const msg = parseTextMessage(text, (e) => errors.push(e));
  return { msg, kinds: errors.map((e) => e.kind) };
}

describe('text messages', () => {
  it('text - order, error and message types are decoded', () => {
    const order = { order_id: '1', status: 'COMPLETE', instrument_token: 779521, extra_field: 'kept' };
    expect(parse(JSON.stringify({ type: 'order', data: order }))).toEqual({
      msg: { type: 'order', data: order },
      kinds: [],
    });
    expect(parse('{"type":"error","data":"max tokens exceeded"}')).toEqual({
      msg: { type: 'error', data: 'max tokens exceeded' },
      kinds: [],
    });
    expect(parse('{"type":"message","data":{"note":"hi"}}').msg).toEqual({
      type: 'message',
      data: { note: 'hi' },
    });
  });

  it('text - a non-string error payload is rendered, not lost', () => {
    expect(parse('{"type":"error","data":{"code":1}}').msg).toEqual({ type: 'error', data: '{"code":1}' });
  });

  it('text - invalid JSON, missing or unknown types and malformed orders are reported, not thrown', () => {
    expect(parse('{oops')).toEqual({ msg: undefined, kinds: ['invalid_json'] });
    expect(parse('42')).toEqual({ msg: undefined, kinds: ['invalid_text_message'] });
    expect(parse('{"data":1}')).toEqual({ msg: undefined, kinds: ['invalid_text_message'] });
    expect(parse('{"type":"quote","data":1}')).toEqual({ msg: undefined, kinds: ['unknown_text_type'] });
    expect(parse('{"type":"order","data":"x"}')).toEqual({ msg: undefined, kinds: ['invalid_text_message'] });
    expect(parse('{"type":"order","data":{"order_id":5}}').kinds).toEqual(['invalid_text_message']);
  });

  it('text - arbitrary strings never throw and either decode or report exactly one problem', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json()), (text) => {
        const { msg, kinds } = parse(text);
        expect(msg === undefined ? kinds.length : kinds.length + 1).toBe(1);
      }),
      { numRuns: 300 },
    );
  });
});
