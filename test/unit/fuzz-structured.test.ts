/**
 * The structured fuzzer's client-side target in CI (issue 13): hostile server text frames through
 * parseTextMessage and the order de-duplicator. The generators are checked first, so a fuzzer that
 * quietly stopped producing its attacks would fail here too.
 */
import { describe, expect, it } from 'vitest';
import { CI_LIMITS, runStructuredTextFuzz } from '../soak/fuzz-structured.js';
import {
  COMMAND_TARGETS,
  commandIsValid,
  FRAME_TARGETS,
  HOSTILE_KINDS,
  hostileCommand,
  hostileFrame,
  hostileValue,
} from '../soak/hostile.js';
import { createRng } from '../soak/rng.js';

/** Nesting depth of a JSON text, counted without parsing (brackets inside strings are skipped). */
function depthOf(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max;
}

describe('fuzz structured', () => {
  it('fuzz structured - the generators give valid JSON of the kinds they claim, in every frame and command target', () => {
    const rng = createRng(42);
    const limits = { minDepth: 5000, maxDepth: 6000, maxString: 10_000 };
    for (const kind of HOSTILE_KINDS) {
      for (let n = 0; n < 5; n++) {
        const text = hostileValue(rng, kind, limits);
        expect(() => JSON.parse(text), kind).not.toThrow();
        if (kind.startsWith('deep_')) expect(depthOf(text), kind).toBeGreaterThanOrEqual(5000);
        if (kind === 'huge_string') expect(text.length, kind).toBeGreaterThanOrEqual(5000);
      }
    }
    expect(hostileValue(rng, 'to_primitive_trap', limits)).toMatch(
      /toString|valueOf|toJSON|constructor|length/,
    );
    for (const target of FRAME_TARGETS) {
      const { text } = hostileFrame(rng, target, () => '{"toString":1}');
      expect(() => JSON.parse(text), target).not.toThrow();
      if (target !== 'whole_frame') expect(text, target).toContain('{"toString":1}');
    }
    for (const target of COMMAND_TARGETS) {
      const text = hostileCommand(target, '[[[1]]]');
      expect(() => JSON.parse(text), target).not.toThrow();
      expect(commandIsValid(text), target).toBe(false);
    }
    // The command oracle accepts exactly the documented grammar.
    expect(commandIsValid('{"a":"subscribe","v":[0,4294967295]}')).toBe(true);
    expect(commandIsValid('{"a":"mode","v":["quote",[]]}')).toBe(true);
    expect(commandIsValid(hostileCommand('unsubscribe_element', '1'))).toBe(true);
    expect(commandIsValid('{"a":"subscribe","v":[4294967296]}')).toBe(false);
    expect(commandIsValid('{"a":"mode","v":["FULL",[1]]}')).toBe(false);
  });

  it('fuzz structured - client text path: 400 hostile frames (20,000 deep, 100 KB strings, traps in every field): nothing throws, every rejection is reported', () => {
    const result = runStructuredTextFuzz({ frames: 400, seed: 0x13, limits: CI_LIMITS });
    expect(result.failures).toEqual([]);
    expect(result.throws).toBe(0);
    expect(result.unreported).toBe(0);
    expect(result.malformed).toBe(0);
    expect(result.pollution).toBe(0);
    // The run covered what it claims: every target, every value kind, orders that reached the de-duplicator.
    expect(Object.keys(result.byTarget).sort()).toEqual([...FRAME_TARGETS].sort());
    expect(Object.keys(result.byKind).sort()).toEqual([...HOSTILE_KINDS].sort());
    expect(result.ordersChecked).toBeGreaterThan(20);
  });
});
