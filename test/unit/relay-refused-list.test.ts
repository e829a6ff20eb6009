import { describe, expect, it } from 'vitest';
import { refusedList } from '../../src/relay/source.js';

describe('relay refused list', () => {
  it('relay refused list - names every refused token up to 50, then counts the rest', () => {
    expect(refusedList([101, 102, 103], 3)).toBe('101, 102, 103');
    const many = Array.from({ length: 120 }, (_, i) => 1000 + i);
    const text = refusedList(many, many.length);
    expect(text.startsWith('1000, 1001, ')).toBe(true);
    expect(text).toContain('1049 and 70 more');
    expect(text).not.toContain('1050');
    expect(refusedList(many.slice(0, 50), 400)).toMatch(/1049 and 350 more$/);
  });
});
