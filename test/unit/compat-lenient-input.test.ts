/**
 * The official kiteconnect KiteTicker never throws from subscribe/unsubscribe/setMode (it sends the
 * list and Kite drops what it cannot use): a handler written against it must not crash on ours.
 */
import { describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/compat/index.js';
import type { Logger } from '../../src/logger.js';

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => {};
  return {
    warnings,
    logger: { debug: noop, info: noop, error: noop, warn: (_o, msg) => warnings.push(String(msg)) },
  };
}

describe('compat input like the official client', () => {
  it('compat - subscribe with invalid tokens keeps the valid ones and reports the rest, never throws', () => {
    const { logger, warnings } = recordingLogger();
    const t = new KiteTicker({ api_key: 'k', access_token: 'tok' }, { logger });
    const tokens = ['abc', 256265, '408065', -1, 1.5, Number.NaN] as (number | string)[];
    expect(() => t.subscribe(tokens)).not.toThrow();
    expect(t.subscribe(tokens)).toBe(tokens);
    expect([...t.ticker.subscriptions().keys()].sort()).toEqual([256265, 408065]);
    expect(warnings.some((w) => w.includes('subscribe') && w.includes('4 invalid'))).toBe(true);
  });

  it('compat - unsubscribe and setMode with invalid tokens or mode do not throw', () => {
    const { logger, warnings } = recordingLogger();
    const t = new KiteTicker({ api_key: 'k', access_token: 'tok' }, { logger });
    t.subscribe([256265]);
    expect(() => t.setMode(t.modeFull, ['abc', 256265] as (number | string)[])).not.toThrow();
    expect(t.ticker.subscriptions().get(256265)).toBe('full');
    expect(() => t.setMode('bogus' as 'full', [256265])).not.toThrow();
    expect(t.ticker.subscriptions().get(256265)).toBe('full');
    expect(() => t.unsubscribe(['abc', 256265] as (number | string)[])).not.toThrow();
    expect(t.ticker.subscriptions().size).toBe(0);
    expect(() => t.subscribe(undefined as unknown as number[])).not.toThrow();
    expect(warnings.some((w) => w.includes('unknown mode'))).toBe(true);
    expect(warnings.some((w) => w.startsWith('unsubscribe'))).toBe(true);
  });
});
