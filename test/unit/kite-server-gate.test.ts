import { describe, expect, it } from 'vitest';
import { applyCommand } from '../../src/kite-server/commands.js';
import { KeyTable, MAX_TRACKED_KEYS } from '../../src/kite-server/keys.js';
import type { KiteAuthoriser } from '../../src/kite-server/types.js';
import { decideUpgrade } from '../../src/kite-server/upgrade.js';
import type { Mode } from '../../src/protocol/constants.js';

const limits = { openConnections: () => 0, maxConnectionsPerKey: 3, connectionLimitStatus: 429 };

describe('kite-server gate', () => {
  it('kite-server - the authoriser sees the query credentials and its refusal keeps its status', () => {
    const seen: unknown[] = [];
    const authoriser: KiteAuthoriser = {
      authorise: (r) => {
        seen.push(r);
        return { ok: false, status: 451, reason: 'not here' };
      },
    };
    expect(decideUpgrade('/?access_token=t&api_key=k&uid=1', 5, authoriser, limits)).toEqual({
      ok: false,
      status: 451,
      apiKey: 'k',
      reason: 'not here',
    });
    expect(seen).toEqual([{ apiKey: 'k', accessToken: 't', now: 5 }]);
    // The path is checked before the authoriser is asked.
    expect(decideUpgrade('/x?api_key=k&access_token=t', 5, authoriser, limits)).toMatchObject({
      status: 404,
    });
    expect(seen).toHaveLength(1);
  });

  it('kite-server - a per-key limit from the authoriser replaces the default', () => {
    const authoriser: KiteAuthoriser = {
      authorise: (r) => ({ ok: true, apiKey: r.apiKey!, maxConnections: 5 }),
    };
    const open = (n: number) => ({ ...limits, openConnections: () => n });
    expect(decideUpgrade('/?api_key=k&access_token=t', 0, authoriser, open(4))).toEqual({
      ok: true,
      apiKey: 'k',
    });
    expect(decideUpgrade('/?api_key=k&access_token=t', 0, authoriser, open(5))).toMatchObject({
      ok: false,
      status: 429,
      reason: 'too many connections for this api_key (max 5)',
    });
  });

  it('kite-server - refusals of unknown keys are remembered only up to the bound; known keys always', () => {
    const keys = new KeyTable(10, 1024);
    for (let i = 0; i < MAX_TRACKED_KEYS + 50; i++) keys.refused(`stranger${i}`, 403, false);
    expect(keys.find(`stranger${MAX_TRACKED_KEYS - 1}`)?.rejected).toEqual({ 403: 1 });
    expect(keys.find(`stranger${MAX_TRACKED_KEYS}`)).toBeUndefined();
    keys.refused('stranger0', 429, false); // already remembered: still counted
    expect(keys.find('stranger0')?.rejected).toEqual({ 403: 1, 429: 1 });
    keys.refused('customer', 429, true);
    expect(keys.find('customer')?.rejected).toEqual({ 429: 1 });
  });

  it('kite-server - commands report only what changed', () => {
    const subs = new Map<number, Mode>([[1, 'ltp']]);
    expect(applyCommand(subs, { action: 'subscribe', tokens: [1, 2, 2, 3] }, 2)).toEqual({
      change: { action: 'subscribe', tokens: [2], mode: 'quote' },
      refused: 1,
    });
    expect(applyCommand(subs, { action: 'mode', mode: 'full', tokens: [2, 9] }, 2).change).toEqual({
      action: 'mode',
      tokens: [2],
      mode: 'full',
    });
    expect(applyCommand(subs, { action: 'unsubscribe', tokens: [9, 1] }, 2).change).toEqual({
      action: 'unsubscribe',
      tokens: [1],
    });
    expect([...subs]).toEqual([[2, 'full']]);
  });
});
