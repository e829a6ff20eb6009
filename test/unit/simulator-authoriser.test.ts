import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimulatorAuthoriser } from '../../src/simulator/upgrade.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('simulator authoriser', () => {
  it('simulator - expired refusal windows are dropped when new ones come, with no upgrade in between', () => {
    vi.useFakeTimers({ now: 1_000 });
    const auth = new SimulatorAuthoriser({ k1: 't1' });
    for (let i = 0; i < 1000; i++) {
      auth.refuse({ status: 503, until: Date.now() + 10, apiKey: undefined });
      vi.advanceTimersByTime(20);
    }
    expect(auth.refusalWindows).toBe(1);
    expect(auth.authorise({ apiKey: 'k1', accessToken: 't1', now: Date.now() })).toEqual({
      ok: true,
      apiKey: 'k1',
    });
  });

  it('simulator - revocation refuses the key until a token is set again', () => {
    const auth = new SimulatorAuthoriser({ k1: 't1' });
    auth.revoke('k1');
    expect(auth.authorise({ apiKey: 'k1', accessToken: 't1', now: 0 })).toMatchObject({
      ok: false,
      status: 403,
    });
    auth.setAccessToken('k1', 't2');
    expect(auth.authorise({ apiKey: 'k1', accessToken: 't2', now: 0 })).toEqual({ ok: true, apiKey: 'k1' });
    expect(auth.knows('k1')).toBe(true);
    expect(auth.knows('k2')).toBe(false);
  });
});
