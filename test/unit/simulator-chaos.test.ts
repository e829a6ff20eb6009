import { describe, expect, it } from 'vitest';
import { Chaos, type ChaosTarget } from '../../src/simulator/chaos.js';
import type { FaultKind } from '../../src/simulator/types.js';

function recorder(ids: number[] = [1, 2, 3]) {
  const calls: Array<[string, ...unknown[]]> = [];
  const target: ChaosTarget = {
    connectionIds: () => ids,
    apiKeys: () => ['k1', 'k2'],
    drop: (id) => {
      calls.push(['drop', id]);
      return true;
    },
    close: (id, code, reason) => {
      calls.push(['close', id, code, reason]);
      return true;
    },
    stall: (id, ms) => {
      calls.push(['stall', id, ms]);
      return true;
    },
    corrupt: (id, kind) => {
      calls.push(['corrupt', id, kind]);
      return true;
    },
    refuse: (status, ms, key) => {
      calls.push(['refuse', status, ms, key]);
      return true;
    },
    revokeFor: (key, ms) => {
      calls.push(['revoke', key, ms]);
      return true;
    },
    restart: (ms) => {
      calls.push(['restart', ms]);
      return true;
    },
  };
  return { calls, target };
}

describe('simulator chaos', () => {
  it('simulator - chaos draws are deterministic for a seed', () => {
    const a = recorder();
    const b = recorder();
    const ca = new Chaos({ faultsPerSecond: 1 }, 42, a.target);
    const cb = new Chaos({ faultsPerSecond: 1 }, 42, b.target);
    for (let i = 0; i < 200; i++) {
      ca.injectOne();
      cb.injectOne();
    }
    expect(a.calls).toEqual(b.calls);
    const kinds = new Set(a.calls.map((c) => c[0]));
    expect(kinds).toEqual(new Set(['drop', 'close', 'stall', 'corrupt', 'refuse', 'revoke', 'restart']));
    const c = recorder();
    const cc = new Chaos({ faultsPerSecond: 1, seed: 43 }, 42, c.target);
    for (let i = 0; i < 200; i++) cc.injectOne();
    expect(c.calls).not.toEqual(a.calls);
  });

  it('simulator - chaos faults are bounded in time and use valid close codes', () => {
    const r = recorder();
    const chaos = new Chaos({ faultsPerSecond: 1 }, 7, r.target);
    for (let i = 0; i < 500; i++) chaos.injectOne();
    for (const [kind, ...args] of r.calls) {
      if (kind === 'stall') expect(args[1]).toBeLessThanOrEqual(7000);
      if (kind === 'refuse') {
        expect([429, 503]).toContain(args[0]);
        expect(args[1]).toBeLessThanOrEqual(2000);
      }
      if (kind === 'revoke') expect(args[1]).toBeLessThanOrEqual(2000);
      if (kind === 'restart') expect(args[0]).toBeLessThanOrEqual(1000);
      if (kind === 'close') expect([1000, 1001, 1011, 1012, 1013]).toContain(args[1]);
    }
  });

  it('simulator - chaos only draws the allowed kinds and falls back when a kind has no target', () => {
    const r = recorder([]); // no connections: drop/stall cannot apply
    const faults: FaultKind[] = ['drop', 'stall', 'refuse'];
    const chaos = new Chaos({ faultsPerSecond: 1, faults }, 1, r.target);
    for (let i = 0; i < 50; i++) expect(chaos.injectOne()).toBe(true);
    expect(new Set(r.calls.map((c) => c[0]))).toEqual(new Set(['refuse']));
  });

  it('simulator - chaos timer injects at about the configured rate and stops cleanly', async () => {
    const r = recorder();
    const chaos = new Chaos({ faultsPerSecond: 50, faults: ['drop'] }, 3, r.target);
    chaos.start();
    await new Promise((res) => setTimeout(res, 400));
    chaos.stop();
    const n = r.calls.length;
    expect(n).toBeGreaterThan(3);
    expect(n).toBeLessThan(80);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.calls.length).toBe(n);
  });
});
