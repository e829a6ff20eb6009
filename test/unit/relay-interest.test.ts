import { describe, expect, it } from 'vitest';
import { Interest } from '../../src/relay/interest.js';

describe('relay interest', () => {
  it('relay interest - the highest rank follows every set, change and delete', () => {
    const i = new Interest<string>();
    expect(i.max(1)).toBe(-1);
    i.set(1, 'a', 0);
    i.set(1, 'b', 2);
    expect(i.max(1)).toBe(2);
    i.set(1, 'b', 1); // b lowers its mode
    expect(i.max(1)).toBe(1);
    i.set(1, 'b', 1); // the same again changes nothing
    i.delete(1, 'b');
    expect(i.max(1)).toBe(0);
    i.delete(1, 'zzz'); // never subscribed
    expect(i.max(1)).toBe(0);
    i.delete(1, 'a');
    expect(i.max(1)).toBe(-1);
    expect(i.size).toBe(0);
    expect(i.subscribers(1)).toBeUndefined();
  });
});
