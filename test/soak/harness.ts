/**
 * The chaos soak: a MultiApiKiteTickerManager with N keys against a KiteSimulator into which a seeded
 * ChaosDriver injects faults (drops, closes, stalls, corrupt frames, refused upgrades, revoked tokens,
 * whole-server restarts). The harness plays the user: it subscribes the instruments, reads the unified
 * channel slowly and quickly, and rotates a revoked token (it listens for auth_failed, sets a new token
 * on the simulator and calls updateAccessToken). All along it polls the simulator's introspection and
 * checks the invariants of invariants.ts; per fault it measures the time until every desired instrument
 * is subscribed again in its own mode and has ticked.
 *
 * Used by test/integration/soak-short.test.ts (CI, ~9,000 instruments, ~75 s) and test/soak/run.ts
 * (`npm run soak -- --minutes N`, 27,000 instruments).
 */
import type { StatusEvent } from '../../src/connection/types.js';
import type { Logger } from '../../src/logger.js';
import type { KiteTickerManagerConfig } from '../../src/manager/types.js';
import type { MultiApiStats } from '../../src/multi/index.js';
import { MultiApiKiteTickerManager } from '../../src/multi/index.js';
import type { Mode } from '../../src/protocol/constants.js';
import { FAULT_KINDS, KiteSimulator } from '../../src/simulator/index.js';
import type { FaultKind, FaultRecord as SimFault, SimulatorOptions } from '../../src/simulator/types.js';
import { SoakChaos } from './chaos.js';
import {
  checkLimits,
  compareWithDesired,
  foldServerView,
  percentile,
  TickClock,
  unrecoveredCount,
  type Violation,
  type ViolationKind,
} from './invariants.js';
import { MemoryMonitor, type MemoryReport, memoryGrowthProblem } from './memory.js';
import { createRng } from './rng.js';

export interface SoakOptions {
  /** Length of the chaos phase. */
  durationMs: number;
  /** Instruments subscribed (spread over the keys by the manager's round-robin). */
  instruments: number;
  /** API keys. Default 3. */
  keys?: number;
  /** Default ceil(instruments / (keys * 3)), so every key uses its 3 sockets; at most 3000. */
  maxSymbolsPerConnection?: number;
  /** Mean gap between faults. Default 3000 ms ("one fault every few seconds"). */
  meanFaultIntervalMs?: number;
  /** Kinds chaos has not drawn by mid-run are injected then, one each. Default true. */
  coverAllKinds?: boolean;
  /** Fault kinds to draw from. Default all. */
  faults?: readonly FaultKind[];
  /** Seed of the market, the mode draw and the chaos schedule. Default 1. */
  seed?: number;
  /** Every fault must be followed by full recovery within this. Default 10 000 ms. */
  recoveryBoundMs?: number;
  /** Simulator introspection period. Default 150 ms. */
  pollIntervalMs?: number;
  /** Memory trend is measured after this. Default max(15 s, 25% of the duration). */
  warmupMs?: number;
  /** How long the "user" takes to fetch a new token after auth_failed. Default 300 ms. */
  tokenReactionMs?: number;
  /** The slow consumer: a unified channel of this capacity, read one message per `readDelayMs`. */
  slowConsumer?: { capacity: number; readDelayMs: number };
  /** Prefix of the access tokens handed out (rotations append a generation). Default 'soak-token'. */
  tokenPrefix?: string;
  /** Given to the manager (and so to every pool and connection). Default silent. */
  logger?: Logger;
  /** Extra simulator options (tick rate, heartbeat...). */
  simulator?: Partial<SimulatorOptions>;
  /** Extra per-key manager config (reconnect policy, liveness...). */
  managerConfig?: Partial<KiteTickerManagerConfig>;
  /** Called once the manager is built, to attach observers (the token-secrecy test does). */
  onManager?: (manager: MultiApiKiteTickerManager) => void;
  /** Progress lines (the CLI prints them). */
  onProgress?: (line: string) => void;
}

export interface FaultRecord {
  seq: number;
  kind: FaultKind;
  /** ms on the harness clock. */
  at: number;
  detail: string;
  apiKey?: string;
  connectionId?: number;
  /** Instruments the fault hit: its socket's, its key's, or all (restart, refusal of every key). */
  affected: number;
  /** ms from the fault to full recovery; undefined if it never recovered. */
  recoveryMs?: number;
  /**
   * ms from the last fault that hit any of the same instruments before they recovered (this one or a
   * later one) to recovery: the time the client took once the server stopped breaking them. The 10 s
   * bound applies to this; `recoveryMs` also counts the downtime of overlapping faults.
   */
  settleMs?: number;
}

export interface SoakReport {
  seed: number;
  instruments: number;
  keys: number;
  maxSymbolsPerConnection: number;
  durationMs: number;
  /** From start() until every instrument was subscribed and had ticked once. */
  initialConvergenceMs: number;
  faults: FaultRecord[];
  faultsByKind: Record<string, number>;
  recovered: number;
  unrecovered: number;
  recoveryP50Ms: number;
  recoveryP99Ms: number;
  recoveryMaxMs: number;
  slowestFault: FaultRecord | undefined;
  /** Largest settleMs (what the 10 s bound applies to). */
  settleMaxMs: number;
  tokenRotations: number;
  violations: Violation[];
  violationsByKind: Partial<Record<ViolationKind, number>>;
  ticksReceived: number;
  /** Observed tick rate over the chaos phase, and what the simulator was asked to produce. */
  ticksPerSecond: number;
  expectedTicksPerSecond: number;
  unexpectedTicks: number;
  slowConsumer: { capacity: number; maxSize: number; received: number; dropped: number };
  fastConsumer: { received: number; tickBatches: number; dropped: number; listenerBatches: number };
  /** The manager's own drop counter at the end (pump and channel overflow). */
  managerDrops: number;
  protocolErrors: number;
  reconnects: number;
  managerErrors: number;
  chaosErrors: string[];
  memory: MemoryReport;
  /** Largest instrument count seen on one socket, and most sockets seen on one key. */
  maxInstrumentsOnSocket: number;
  maxSocketsOnKey: number;
  upgradesAccepted: number;
  upgradesRejected: Record<string, number>;
  finalStats: MultiApiStats;
}

/** HTTP status the simulator answers an upgrade beyond 3 sockets with (409: nothing else uses it). */
const LIMIT_STATUS = 409;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `check` every `everyMs` until it returns true or `timeoutMs` passes; resolves whether it held. */
async function waitFor(check: () => boolean, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (check()) return true;
    await sleep(everyMs);
  }
  return check();
}

/** Records an ongoing condition once per episode rather than once per poll. */
class ViolationLog {
  readonly list: Violation[] = [];
  readonly byKind: Partial<Record<ViolationKind, number>> = {};
  readonly #active = new Set<string>();
  #seen = new Set<string>();

  add(kind: ViolationKind, at: number, detail: string, subject = ''): void {
    const key = `${kind}:${subject}`;
    this.#seen.add(key);
    if (this.#active.has(key)) return;
    this.#active.add(key);
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    if (this.list.length < 500) this.list.push({ kind, at, detail });
  }

  /** End of a poll: conditions not reported in it are over. */
  endPoll(): void {
    for (const key of this.#active) if (!this.#seen.has(key)) this.#active.delete(key);
    this.#seen = new Set();
  }
}

function pickModes(tokens: readonly number[], seed: number): Map<number, Mode> {
  const rng = createRng(seed ^ 0x51a7);
  const desired = new Map<number, Mode>();
  for (const token of tokens) {
    const r = rng.next();
    desired.set(token, r < 0.3 ? 'ltp' : r < 0.8 ? 'quote' : 'full');
  }
  return desired;
}

/**
 * Runs one soak and reports. If the run itself fails (the fleet never starts, the simulator cannot
 * listen), everything opened so far is closed before the error propagates: no socket or timer is left.
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const undo: (() => unknown)[] = [];
  try {
    return await soak(options, undo);
  } catch (error) {
    for (const fn of undo.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the original error is the one to report
      }
    }
    throw error;
  }
}

async function soak(options: SoakOptions, undo: (() => unknown)[]): Promise<SoakReport> {
  const seed = options.seed ?? 1;
  const keys = options.keys ?? 3;
  const maxSym =
    options.maxSymbolsPerConnection ?? Math.min(3000, Math.ceil(options.instruments / (keys * 3)));
  const bound = options.recoveryBoundMs ?? 10_000;
  const pollMs = options.pollIntervalMs ?? 150;
  const warmupMs = options.warmupMs ?? Math.max(15_000, options.durationMs * 0.25);
  const slowSpec = options.slowConsumer ?? { capacity: 256, readDelayMs: 25 };
  const prefix = options.tokenPrefix ?? 'soak-token';
  const progress = options.onProgress ?? (() => {});
  const started = performance.now();
  const clock = (): number => performance.now() - started;
  const violations = new ViolationLog();

  let hookEvents = 0;
  const onRejection = (reason: unknown): void =>
    violations.add('unhandled_rejection', clock(), String(reason), String(++hookEvents));
  const onException = (error: Error): void =>
    violations.add('uncaught_exception', clock(), String(error?.stack ?? error), String(++hookEvents));
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  undo.push(() => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  });

  const memory = new MemoryMonitor({ warmupMs });
  memory.start();
  undo.push(() => memory.stop());

  // ---- the server
  const ids = Array.from({ length: keys }, (_, i) => `key${i + 1}`);
  const apiKeyOf = new Map(ids.map((id, i) => [id, `soak_api_${i + 1}`]));
  const idOf = new Map([...apiKeyOf].map(([id, apiKey]) => [apiKey, id]));
  const generation = new Map(ids.map((id) => [id, 0]));
  const tokenOf = (id: string): string => `${prefix}-${id}-${generation.get(id)}`;
  const credentials: Record<string, string> = {};
  for (const id of ids) credentials[apiKeyOf.get(id)!] = tokenOf(id);
  const sim = new KiteSimulator({
    seed,
    credentials,
    universeSize: Math.max(options.instruments, 1000),
    ticksPerSecond: 1,
    batchIntervalMs: 100,
    heartbeatIntervalMs: 1000,
    // The command log keeps raw texts (a 1000-token subscribe is ~10 KB): keep it short so the memory
    // trend measures the client, not the simulator's history.
    commandLogLimit: 50,
    // Chaos refuses with 429/503; a distinct status marks refusals for the connection limit.
    connectionLimitStatus: LIMIT_STATUS,
    ...options.simulator,
  });
  await sim.start();
  undo.push(() => sim.stop());
  const tokens = sim
    .instruments()
    .slice(0, options.instruments)
    .map((i) => i.instrument_token);
  if (tokens.length < options.instruments)
    throw new Error(`the simulator has only ${tokens.length} instruments`);
  const desired = pickModes(tokens, seed);

  // ---- the client
  let builder = MultiApiKiteTickerManager.builder()
    .url(sim.url)
    .maxConnectionsPerApi(3)
    .maxSymbolsPerConnection(maxSym)
    .baseConfig({
      reconnect: { initialDelayMs: 250, maxDelayMs: 3000 },
      ...options.managerConfig,
    });
  for (const id of ids) builder = builder.addApiKey(id, apiKeyOf.get(id)!, tokenOf(id));
  if (options.logger) builder = builder.logger(options.logger);
  const manager = builder.build();
  undo.push(() => manager.stop());
  options.onManager?.(manager);

  const ticks = new TickClock(tokens);
  const clockTimer = setInterval(() => {
    ticks.now = clock();
  }, 20);
  undo.push(() => clearInterval(clockTimer));
  manager.on('ticks', (batch) => ticks.record(batch));
  let managerErrors = 0;
  manager.on('error', () => {
    managerErrors++;
  });

  // ---- the user who renews a revoked token
  let rotations = 0;
  const rotating = new Set<string>();
  let chaos: SoakChaos | undefined;
  const onStatus = (event: StatusEvent, apiKeyId: string): void => {
    if (event.status !== 'auth_failed' || rotating.has(apiKeyId)) return;
    rotating.add(apiKeyId);
    setTimeout(() => {
      generation.set(apiKeyId, generation.get(apiKeyId)! + 1);
      const apiKey = apiKeyOf.get(apiKeyId)!;
      sim.setAccessToken(apiKey, tokenOf(apiKeyId));
      manager
        .updateAccessToken(apiKeyId, tokenOf(apiKeyId))
        .then(() => {
          rotations++;
          chaos?.tokenRestored(apiKey);
        })
        .catch((error: unknown) =>
          violations.add('unhandled_rejection', clock(), `updateAccessToken: ${error}`),
        )
        .finally(() => rotating.delete(apiKeyId));
    }, options.tokenReactionMs ?? 300);
  };
  manager.on('status', onStatus);

  await manager.start();
  const byMode = new Map<Mode, number[]>();
  for (const [token, mode] of desired) {
    const list = byMode.get(mode) ?? [];
    list.push(token);
    byMode.set(mode, list);
  }
  for (const [mode, list] of byMode) await manager.subscribeSymbols(list, mode);

  const convergedNow = (since: number): boolean => {
    const view = foldServerView(sim.connections(), maxSym);
    return compareWithDesired(view, desired).converged && ticks.oldestLastTick() > since;
  };
  const initialOk = await waitFor(() => convergedNow(0), 30_000, 100);
  const initialConvergenceMs = clock();
  if (!initialOk)
    violations.add('recovery_timeout', clock(), 'initial subscription did not converge in 30 s');
  progress(
    `converged: ${tokens.length} instruments on ${keys} keys in ${(initialConvergenceMs / 1000).toFixed(1)} s`,
  );
  memory.markWarm();

  // ---- consumers: one slow, one fast, on the unified channel
  let consuming = true;
  const slow = manager.getUnifiedChannel({ capacity: slowSpec.capacity, overflow: 'drop-oldest' });
  const fast = manager.getUnifiedChannel({ capacity: 65_536, overflow: 'drop-oldest' });
  let slowReceived = 0;
  let slowMax = 0;
  let fastReceived = 0;
  let fastTickBatches = 0;
  const listenerBatchesAtAttach = ticks.batches;
  const slowLoop = (async () => {
    while (consuming) {
      const m = await slow.receive();
      if (m === undefined) break;
      slowReceived++;
      await sleep(slowSpec.readDelayMs);
    }
  })();
  const fastLoop = (async () => {
    while (consuming) {
      const m = await fast.receive();
      if (m === undefined) break;
      fastReceived++;
      if (m.message.type === 'ticks') fastTickBatches++;
    }
  })();

  // ---- chaos and the invariant poll
  const faults: FaultRecord[] = [];
  const pending = new Set<FaultRecord>();
  const flagged = new Set<FaultRecord>();
  let maxInstrumentsOnSocket = 0;
  let maxSocketsOnKey = 0;
  chaos = new SoakChaos(sim, [...apiKeyOf.values()], {
    seed,
    faultsPerSecond: 1000 / (options.meanFaultIntervalMs ?? 3000),
    ...(options.faults ? { kinds: options.faults } : {}),
  });
  let recording = false;
  /** Per pending fault: the instruments it hit (read from the server at the moment of the fault). */
  const affectedBy = new Map<FaultRecord, number[]>();
  /** Per pending fault: the same as a set, and when any of them was last hit (by it or a later fault). */
  const hitSet = new Map<FaultRecord, Set<number>>();
  const lastHitAt = new Map<FaultRecord, number>();
  const overlaps = (a: Set<number>, b: Set<number>): boolean => {
    const [small, large] = a.size <= b.size ? [a, b] : [b, a];
    for (const t of small) if (large.has(t)) return true;
    return false;
  };
  sim.on('fault', (fault: SimFault) => {
    if (!recording) return;
    // The event fires before the fault takes effect, so the socket is still listed with its instruments.
    // A socket's fault hits what that socket holds; a key's fault (revoke, refusal) what the manager
    // placed on that key, sockets up or not; a server-wide one (restart, refusal of all) everything.
    // A socket caught between its upgrade and its replay holds nothing yet: its key's share stands in.
    const placedOn = (apiKey: string): number[] => {
      const sockets = manager.getSymbolDistribution().get(idOf.get(apiKey) ?? '');
      return sockets ? [...sockets.values()].flatMap((subs) => [...subs.keys()]) : [];
    };
    let affected: number[];
    if (fault.connectionId !== undefined) {
      affected = sim
        .connections()
        .filter((c) => c.id === fault.connectionId)
        .flatMap((c) => [...c.subscriptions.keys()]);
      if (affected.length === 0 && fault.apiKey !== undefined) affected = placedOn(fault.apiKey);
    } else if (fault.apiKey !== undefined) {
      affected = placedOn(fault.apiKey);
    } else {
      affected = tokens;
    }
    const record: FaultRecord = {
      seq: faults.length + 1,
      kind: fault.kind,
      at: clock(),
      detail: fault.detail,
      affected: affected.length,
    };
    if (fault.apiKey !== undefined) record.apiKey = fault.apiKey;
    if (fault.connectionId !== undefined) record.connectionId = fault.connectionId;
    faults.push(record);
    const set = new Set(affected);
    for (const f of pending) if (overlaps(hitSet.get(f)!, set)) lastHitAt.set(f, record.at);
    pending.add(record);
    affectedBy.set(record, affected);
    hitSet.set(record, set);
    lastHitAt.set(record, record.at);
    const where = fault.connectionId !== undefined ? ` socket ${fault.connectionId}` : '';
    progress(
      `${(record.at / 1000).toFixed(1)} s  fault #${record.seq} ${fault.kind}${where}${fault.apiKey ? ` ${fault.apiKey}` : ''}: ` +
        `${fault.detail} (${affected.length} instruments)`,
    );
  });
  // A 4th socket on a key is refused by the simulator with LIMIT_STATUS: the client tried to open it.
  sim.on('refused', ({ status, apiKey, reason }) => {
    if (status === LIMIT_STATUS)
      violations.add('socket_limit', clock(), `${apiKey}: ${reason}`, String(++hookEvents));
  });

  const poll = (): void => {
    const now = clock();
    const view = foldServerView(sim.connections(), maxSym);
    for (const v of checkLimits(view, 3, now)) violations.add(v.kind, v.at, v.detail, v.kind);
    maxInstrumentsOnSocket = Math.max(maxInstrumentsOnSocket, view.largest.size);
    for (const n of view.socketsPerKey.values()) maxSocketsOnKey = Math.max(maxSocketsOnKey, n);
    const whole = compareWithDesired(view, desired);
    if (whole.unwanted > 0) {
      violations.add(
        'unwanted_subscription',
        now,
        `${whole.unwanted} instruments subscribed that nobody asked for`,
      );
    }
    for (const f of pending) {
      const left = unrecoveredCount(affectedBy.get(f)!, f.at, view, desired, ticks);
      const hitAt = lastHitAt.get(f)!;
      if (left === 0) {
        f.recoveryMs = now - f.at;
        f.settleMs = now - hitAt;
        pending.delete(f);
        affectedBy.delete(f);
        hitSet.delete(f);
        lastHitAt.delete(f);
      } else if (now - hitAt > bound && !flagged.has(f)) {
        flagged.add(f);
        const c = whole;
        const since =
          hitAt > f.at ? ` (last hit again ${((hitAt - f.at) / 1000).toFixed(1)} s after it)` : '';
        violations.add(
          'recovery_timeout',
          now,
          `fault #${f.seq} ${f.kind} (${f.detail})${since}: ${left} of ${f.affected} instruments not back ${bound} ms after the last hit; ` +
            `server-wide ${c.missing} missing, ${c.wrongMode} in the wrong mode, ${c.unwanted} unwanted`,
          `#${f.seq}`,
        );
      }
    }
    if (slow.size > slowMax) slowMax = slow.size;
    if (slow.size > slowSpec.capacity) {
      violations.add('unbounded_buffer', now, `slow channel holds ${slow.size} > ${slowSpec.capacity}`);
    }
    violations.endPoll();
  };
  const pollTimer = setInterval(poll, pollMs);
  undo.push(() => clearInterval(pollTimer));
  const chaosStartedAt = clock();
  const ticksAtChaos = ticks.ticks;
  recording = true;
  chaos.start();
  undo.push(() => chaos?.stop());
  // A short run may not draw every kind: at mid-run, inject each missing kind once, 1.5 s apart.
  const coverTimers: ReturnType<typeof setTimeout>[] = [];
  if (options.coverAllKinds ?? true) {
    coverTimers.push(
      setTimeout(() => {
        const missing = (options.faults ?? FAULT_KINDS).filter((k) => !faults.some((f) => f.kind === k));
        for (const [i, kind] of missing.entries()) {
          coverTimers.push(setTimeout(() => chaos?.inject(kind), i * 1500));
        }
      }, options.durationMs * 0.4),
    );
  }
  const progressTimer = setInterval(() => {
    const s = manager.getStats();
    progress(
      `${(clock() / 1000).toFixed(0)} s  faults ${faults.length}, pending ${pending.size}, ticks ${ticks.ticks}, ` +
        `connections ${s.totalConnections}, drops ${s.totalDrops}, rss ${(process.memoryUsage.rss() / 1048576).toFixed(0)} MB`,
    );
  }, 15_000);
  undo.push(() => clearInterval(progressTimer));

  await sleep(options.durationMs);
  for (const t of coverTimers) clearTimeout(t);
  await chaos.stop();
  const chaosEndedAt = clock();
  const ticksAtEnd = ticks.ticks;
  // Every fault still pending gets its full bound from its own injection.
  const lastFault = faults[faults.length - 1]?.at ?? chaosEndedAt;
  await waitFor(() => pending.size === 0, Math.max(0, lastFault + bound + 500 - clock()), pollMs);
  clearInterval(progressTimer);
  clearInterval(pollTimer);
  poll();
  const finalState = compareWithDesired(foldServerView(sim.connections(), maxSym), desired);
  if (!finalState.converged) {
    violations.add(
      'recovery_timeout',
      clock(),
      `after chaos: ${finalState.missing} missing, ${finalState.wrongMode} in the wrong mode, ${finalState.unwanted} unwanted`,
      'final',
    );
  }
  for (const f of pending) {
    if (!flagged.has(f))
      violations.add('recovery_timeout', clock(), `fault #${f.seq} ${f.kind} never recovered`, `#${f.seq}`);
  }

  const finalStats = manager.getStats();
  consuming = false;
  slow.close();
  fast.close();
  await Promise.all([slowLoop, fastLoop]);
  await manager.stop();
  clearInterval(clockTimer);
  const closed = await waitFor(() => sim.connections().length === 0, 3000);
  if (!closed)
    violations.add('socket_leak', clock(), `${sim.connections().length} sockets open after stop()`);
  const upgradesAccepted = [...apiKeyOf.values()].reduce((n, k) => n + sim.keyInfo(k).acceptedUpgrades, 0);
  const upgradesRejected: Record<string, number> = {};
  for (const k of apiKeyOf.values()) {
    for (const [status, n] of Object.entries(sim.keyInfo(k).rejectedUpgrades) as [string, number][]) {
      upgradesRejected[status] = (upgradesRejected[status] ?? 0) + n;
    }
  }
  await sim.stop();

  const mem = memory.stop();
  const growth = memoryGrowthProblem(mem, { slopeMbPerMin: 8, growthMb: 48 });
  if (growth) violations.add('memory_growth', clock(), growth);

  // The fast consumer must see every batch the listeners saw while it was attached, and lose nothing.
  const listenerBatches = ticks.batches - listenerBatchesAtAttach;
  if (fast.dropped > 0 || fastTickBatches < listenerBatches * 0.99) {
    violations.add(
      'consumer_slowed',
      clock(),
      `fast channel: ${fastTickBatches} tick batches of ${listenerBatches} seen by listeners, ${fast.dropped} dropped`,
    );
  }
  process.off('unhandledRejection', onRejection);
  process.off('uncaughtException', onException);

  const recoveries = faults.filter((f) => f.recoveryMs !== undefined).map((f) => f.recoveryMs!);
  recoveries.sort((a, b) => a - b);
  const slowestFault = faults.reduce<FaultRecord | undefined>(
    (worst, f) =>
      f.recoveryMs !== undefined && (worst === undefined || f.recoveryMs > worst.recoveryMs!) ? f : worst,
    undefined,
  );
  const faultsByKind: Record<string, number> = {};
  for (const f of faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
  const chaosSeconds = (chaosEndedAt - chaosStartedAt) / 1000;
  return {
    seed,
    instruments: tokens.length,
    keys,
    maxSymbolsPerConnection: maxSym,
    durationMs: chaosEndedAt - chaosStartedAt,
    initialConvergenceMs,
    faults,
    faultsByKind,
    recovered: recoveries.length,
    unrecovered: faults.length - recoveries.length,
    recoveryP50Ms: percentile(recoveries, 50),
    recoveryP99Ms: percentile(recoveries, 99),
    recoveryMaxMs: recoveries[recoveries.length - 1] ?? 0,
    settleMaxMs: faults.reduce((m, f) => Math.max(m, f.settleMs ?? 0), 0),
    slowestFault,
    tokenRotations: rotations,
    violations: violations.list,
    violationsByKind: violations.byKind,
    ticksReceived: ticks.ticks,
    ticksPerSecond: (ticksAtEnd - ticksAtChaos) / chaosSeconds,
    expectedTicksPerSecond: tokens.length * (options.simulator?.ticksPerSecond ?? 1),
    unexpectedTicks: ticks.unexpected,
    slowConsumer: {
      capacity: slowSpec.capacity,
      maxSize: slowMax,
      received: slowReceived,
      dropped: slow.dropped,
    },
    fastConsumer: {
      received: fastReceived,
      tickBatches: fastTickBatches,
      dropped: fast.dropped,
      listenerBatches,
    },
    managerDrops: finalStats.totalDrops,
    protocolErrors: finalStats.perApiStats.reduce((n, k) => n + k.totalProtocolErrors, 0),
    reconnects: finalStats.perApiStats.reduce((n, k) => n + k.totalReconnects, 0),
    managerErrors,
    chaosErrors: chaos.errors,
    memory: mem,
    maxInstrumentsOnSocket,
    maxSocketsOnKey,
    upgradesAccepted,
    upgradesRejected,
    finalStats,
  };
}
