import { describe, expect, it } from 'vitest';
import { decideUpgrade, type UpgradeContext } from '../../src/simulator/upgrade.js';

function ctx(over: Partial<UpgradeContext> = {}): UpgradeContext {
  return {
    now: 1000,
    credentials: new Map([['k1', 't1']]),
    revoked: new Set(),
    refusals: [],
    openConnections: () => 0,
    maxConnectionsPerKey: 3,
    connectionLimitStatus: 429,
    ...over,
  };
}

describe('simulator upgrade gate', () => {
  it('simulator - accepts either parameter order, bare or / path, and unknown params (uid)', () => {
    for (const url of [
      '/?api_key=k1&access_token=t1',
      '/?access_token=t1&api_key=k1',
      '?api_key=k1&access_token=t1',
      '/?api_key=k1&access_token=t1&uid=1712345678901',
    ]) {
      expect(decideUpgrade(url, ctx())).toEqual({ ok: true, apiKey: 'k1' });
    }
  });

  it('simulator - 403 for a missing, unknown, wrong or revoked credential', () => {
    const statuses = [
      '/',
      '/?api_key=k1',
      '/?access_token=t1',
      '/?api_key=nope&access_token=t1',
      '/?api_key=k1&access_token=wrong',
    ].map((u) => decideUpgrade(u, ctx()));
    for (const d of statuses) expect(d).toMatchObject({ ok: false, status: 403 });
    expect(decideUpgrade('/?api_key=k1&access_token=t1', ctx({ revoked: new Set(['k1']) }))).toMatchObject({
      ok: false,
      status: 403,
      apiKey: 'k1',
    });
  });

  it('simulator - reason never contains the access token', () => {
    const d = decideUpgrade('/?api_key=k1&access_token=SECRET123', ctx());
    expect(d.ok).toBe(false);
    expect(JSON.stringify(d)).not.toContain('SECRET123');
  });

  it('simulator - connection limit answers with the configured status', () => {
    const full = ctx({ openConnections: () => 3 });
    expect(decideUpgrade('/?api_key=k1&access_token=t1', full)).toMatchObject({ ok: false, status: 429 });
    expect(
      decideUpgrade('/?api_key=k1&access_token=t1', { ...full, connectionLimitStatus: 503 }),
    ).toMatchObject({ ok: false, status: 503 });
    expect(decideUpgrade('/?api_key=k1&access_token=t1', ctx({ openConnections: () => 2 })).ok).toBe(true);
  });

  it('simulator - refusal windows apply to their key (or all) until they expire, before auth', () => {
    const refusals = [{ status: 503, until: 2000, apiKey: 'k1' }];
    expect(decideUpgrade('/?api_key=k1&access_token=t1', ctx({ refusals }))).toMatchObject({ status: 503 });
    expect(decideUpgrade('/?api_key=k1&access_token=bad', ctx({ refusals }))).toMatchObject({ status: 503 });
    expect(decideUpgrade('/?api_key=k1&access_token=t1', ctx({ refusals, now: 2000 })).ok).toBe(true);
    const all = [{ status: 429, until: 2000, apiKey: undefined }];
    expect(decideUpgrade('/?api_key=zz&access_token=t1', ctx({ refusals: all }))).toMatchObject({
      status: 429,
    });
  });

  it('simulator - other paths are 404', () => {
    expect(decideUpgrade('/ws?api_key=k1&access_token=t1', ctx())).toMatchObject({ ok: false, status: 404 });
  });
});
