/**
 * The CI version of the chaos soak (issue #9): 9,000 instruments on 3 API keys (3 sockets x 1,000 each),
 * about one fault every 3 s for 60 s from the simulator's seeded chaos, a slow and a fast consumer, and
 * every invariant of test/soak/invariants.ts checked from the server side all along.
 * The long version is `npm run soak -- --minutes N` (27,000 instruments).
 */
import { describe, expect, it } from 'vitest';
import type { Mode } from '../../src/protocol/constants.js';
import { FAULT_KINDS } from '../../src/simulator/index.js';
import type { SimulatorConnectionInfo } from '../../src/simulator/types.js';
import { runSoak } from '../soak/harness.js';
import {
  checkLimits,
  compareWithDesired,
  foldServerView,
  percentile,
  slope,
  TickClock,
  unrecoveredCount,
} from '../soak/invariants.js';
import { formatReport } from '../soak/report.js';

function conn(id: number, apiKey: string, subs: [number, Mode][]): SimulatorConnectionInfo {
  return {
    id,
    apiKey,
    subscriptions: new Map(subs),
    framesSent: 0,
    ticksSent: 0,
    heartbeatsSent: 0,
    openedAt: 0,
    stalled: false,
  };
}

describe('soak', () => {
  it('soak - the checkers flag a 4th socket, an overfull socket, a duplicate and a wrong mode', () => {
    const sockets = [
      conn(1, 'a', [
        [1, 'ltp'],
        [2, 'quote'],
      ]),
      conn(2, 'a', [[3, 'full']]),
      conn(3, 'a', []),
      conn(4, 'a', [[2, 'quote']]),
      conn(5, 'b', [
        [4, 'ltp'],
        [5, 'ltp'],
        [6, 'ltp'],
      ]),
    ];
    const view = foldServerView(sockets, 2);
    const kinds = checkLimits(view, 3, 0).map((v) => v.kind);
    expect(kinds.sort()).toEqual(['duplicate_subscription', 'instrument_limit', 'socket_limit']);
    expect(checkLimits(foldServerView(sockets.slice(0, 3), 3), 3, 0)).toEqual([]);

    const desired = new Map<number, Mode>([
      [1, 'ltp'],
      [2, 'quote'],
      [3, 'quote'],
      [7, 'full'],
    ]);
    expect(compareWithDesired(view, desired)).toEqual({
      converged: false,
      missing: 1,
      wrongMode: 1,
      unwanted: 3,
    });
  });

  it('soak - recovery needs every hit instrument back in its mode and ticking since the fault', () => {
    const clock = new TickClock([1, 2, 3]);
    const desired = new Map<number, Mode>([
      [1, 'ltp'],
      [2, 'quote'],
      [3, 'full'],
    ]);
    const view = foldServerView([conn(1, 'a', [...desired])], 3000);
    clock.now = 100;
    clock.record([{ instrument_token: 1 }, { instrument_token: 2 }, { instrument_token: 3 }]);
    expect(unrecoveredCount([1, 2, 3], 150, view, desired, clock)).toBe(3);
    clock.now = 200;
    clock.record([{ instrument_token: 1 }, { instrument_token: 3 }, { instrument_token: 99 }]);
    expect(unrecoveredCount([1, 2, 3], 150, view, desired, clock)).toBe(1);
    expect(clock.unexpected).toBe(1);
    const wrongMode = foldServerView([conn(1, 'a', [[1, 'quote']])], 3000);
    expect(unrecoveredCount([1], 150, wrongMode, desired, clock)).toBe(1);
    expect(clock.oldestLastTick()).toBe(100);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(slope([0, 1, 2, 3].map((x) => ({ x, y: 2 * x + 1 })))).toBeCloseTo(2);
  });

  it('soak - 9,000 instruments on 3 keys survive 60 s of chaos with every invariant held', async () => {
    const report = await runSoak({
      durationMs: 60_000,
      instruments: 9000,
      keys: 3,
      seed: 9,
      meanFaultIntervalMs: 3000,
      warmupMs: 15_000,
    });
    const table = formatReport(report);
    if (process.env.SOAK_REPORT) console.log(table);
    // The table is the evidence when this fails.
    expect(report.violations, table).toEqual([]);
    expect(report.violationsByKind).toEqual({});
    expect(report.faults.length).toBeGreaterThanOrEqual(12);
    for (const kind of FAULT_KINDS) expect(report.faultsByKind[kind], `${kind}\n${table}`).toBeGreaterThan(0);
    expect(report.recovered).toBe(report.faults.length);
    expect(report.settleMaxMs).toBeLessThanOrEqual(10_000);
    expect(report.tokenRotations).toBeGreaterThanOrEqual(1);
    expect(report.maxSocketsOnKey).toBeLessThanOrEqual(3);
    expect(report.maxInstrumentsOnSocket).toBeLessThanOrEqual(1000);
    expect(report.unexpectedTicks).toBe(0);
    expect(report.chaosErrors).toEqual([]);
    // The slow consumer lost its own messages (counted) and never held more than its capacity...
    expect(report.slowConsumer.maxSize).toBeLessThanOrEqual(report.slowConsumer.capacity);
    expect(report.slowConsumer.dropped).toBeGreaterThan(0);
    expect(report.managerDrops).toBeGreaterThanOrEqual(report.slowConsumer.dropped);
    // ...while the fast one saw every batch the listeners saw.
    expect(report.fastConsumer.dropped).toBe(0);
    expect(report.fastConsumer.tickBatches).toBeGreaterThan(1000);
    // The feed kept flowing through the chaos (faults take instruments away for a few seconds each).
    expect(report.ticksPerSecond).toBeGreaterThan(report.expectedTicksPerSecond * 0.6);
    expect(report.memory.rssMaxMb).toBeLessThan(600);
    // The memory trend was really measured (post-GC heap samples after warm-up).
    expect(report.memory.gcForced).toBe(true);
    expect(report.memory.gcSamples).toBeGreaterThanOrEqual(6);
  }, 150_000);
});
