/**
 * Invariant checkers over what the simulator (the server side, the only trustworthy witness) holds.
 * Pure functions over a snapshot of `KiteSimulator.connections()`, so they are unit-testable and the
 * soak harness can run them every poll. Each returns the violations it found (empty when all is well).
 */
import type { Mode } from '../../src/protocol/constants.js';
import type { SimulatorConnectionInfo } from '../../src/simulator/types.js';

export type ViolationKind =
  /** More sockets open on one key than Kite allows (3), or an upgrade refused for that reason. */
  | 'socket_limit'
  /** More instruments on one socket than allowed (3000, or the configured lower limit). */
  | 'instrument_limit'
  /** One instrument subscribed on two sockets at once (of any key). */
  | 'duplicate_subscription'
  /** A fault not followed by full recovery within the bound. */
  | 'recovery_timeout'
  /** An instrument nobody asked for is subscribed at the server. */
  | 'unwanted_subscription'
  | 'unhandled_rejection'
  | 'uncaught_exception'
  /** Heap grew steadily after warm-up. */
  | 'memory_growth'
  /** A channel held more messages than its capacity. */
  | 'unbounded_buffer'
  /** The fast consumer fell behind or lost messages while a slow one was attached. */
  | 'consumer_slowed'
  /** Sockets still open at the server after stop(). */
  | 'socket_leak';

export interface Violation {
  kind: ViolationKind;
  /** ms since the soak started. */
  at: number;
  detail: string;
}

/** What the server holds, folded once per poll. */
export interface ServerView {
  /** Open sockets per api_key. */
  socketsPerKey: Map<string, number>;
  /** token -> mode across all sockets (the first seen wins when duplicated). */
  subscribed: Map<number, Mode>;
  /** token -> number of sockets holding it, only for tokens held more than once. */
  duplicates: Map<number, number>;
  /** Largest subscription count on one socket, and that socket's id. */
  largest: { connectionId: number; size: number };
  /** Sockets over the instrument limit: id -> size. */
  overLimit: Map<number, number>;
}

export function foldServerView(
  connections: readonly SimulatorConnectionInfo[],
  maxInstrumentsPerConnection: number,
): ServerView {
  const view: ServerView = {
    socketsPerKey: new Map(),
    subscribed: new Map(),
    duplicates: new Map(),
    largest: { connectionId: -1, size: 0 },
    overLimit: new Map(),
  };
  for (const c of connections) {
    view.socketsPerKey.set(c.apiKey, (view.socketsPerKey.get(c.apiKey) ?? 0) + 1);
    const size = c.subscriptions.size;
    if (size > view.largest.size) view.largest = { connectionId: c.id, size };
    if (size > maxInstrumentsPerConnection) view.overLimit.set(c.id, size);
    for (const [token, mode] of c.subscriptions) {
      if (view.subscribed.has(token)) view.duplicates.set(token, (view.duplicates.get(token) ?? 1) + 1);
      else view.subscribed.set(token, mode);
    }
  }
  return view;
}

/** Socket, instrument and duplicate limits: must hold at every instant, faults or not. */
export function checkLimits(view: ServerView, maxSocketsPerKey: number, at: number): Violation[] {
  const out: Violation[] = [];
  for (const [apiKey, sockets] of view.socketsPerKey) {
    if (sockets > maxSocketsPerKey) {
      out.push({ kind: 'socket_limit', at, detail: `${sockets} sockets open on ${apiKey}` });
    }
  }
  for (const [id, size] of view.overLimit) {
    out.push({ kind: 'instrument_limit', at, detail: `socket ${id} holds ${size} instruments` });
  }
  if (view.duplicates.size > 0) {
    const sample = [...view.duplicates].slice(0, 5).map(([t, n]) => `${t}x${n}`);
    out.push({
      kind: 'duplicate_subscription',
      at,
      detail: `${view.duplicates.size} instruments on more than one socket (${sample.join(', ')})`,
    });
  }
  return out;
}

/** How the server's subscriptions differ from the desired table. */
export interface Convergence {
  /** Every desired token subscribed, in its mode, and nothing else. */
  converged: boolean;
  missing: number;
  wrongMode: number;
  unwanted: number;
}

export function compareWithDesired(view: ServerView, desired: ReadonlyMap<number, Mode>): Convergence {
  let missing = 0;
  let wrongMode = 0;
  for (const [token, mode] of desired) {
    const held = view.subscribed.get(token);
    if (held === undefined) missing++;
    else if (held !== mode) wrongMode++;
  }
  const unwanted = view.subscribed.size - (desired.size - missing);
  return { converged: missing === 0 && wrongMode === 0 && unwanted === 0, missing, wrongMode, unwanted };
}

/**
 * Tracks when every desired instrument last ticked, with a coarse clock so the tick listener does no
 * Date per tick: `lastTick[i]` is the clock value at the last batch carrying token i.
 */
export class TickClock {
  readonly #index = new Map<number, number>();
  readonly #lastTick: Float64Array;
  /** Ticks for tokens outside the desired table. */
  unexpected = 0;
  ticks = 0;
  batches = 0;
  now = 0;

  constructor(tokens: readonly number[]) {
    this.#lastTick = new Float64Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) this.#index.set(tokens[i]!, i);
  }

  /** The tick listener's body: one Map lookup and one store per tick. */
  record(ticks: readonly { instrument_token: number }[]): void {
    this.batches++;
    this.ticks += ticks.length;
    const now = this.now;
    for (let i = 0; i < ticks.length; i++) {
      const idx = this.#index.get(ticks[i]!.instrument_token);
      if (idx === undefined) this.unexpected++;
      else this.#lastTick[idx] = now;
    }
  }

  /** Position of a desired token, or -1. */
  indexOf(token: number): number {
    return this.#index.get(token) ?? -1;
  }

  /** Clock value of the last batch that carried the token at `index`. */
  lastTickAt(index: number): number {
    return this.#lastTick[index]!;
  }

  /** The oldest "last tick" over all desired tokens: every token has ticked at or after this time. */
  oldestLastTick(): number {
    let min = Number.POSITIVE_INFINITY;
    const a = this.#lastTick;
    for (let i = 0; i < a.length; i++) if (a[i]! < min) min = a[i]!;
    return min;
  }

  /** Tokens that have not ticked since `since`. */
  silentSince(since: number): number {
    let n = 0;
    const a = this.#lastTick;
    for (let i = 0; i < a.length; i++) if (a[i]! < since) n++;
    return n;
  }
}

/** Percentile of a sample (nearest rank); 0 for an empty sample. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than 3 points. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 3) return 0;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Whether the instruments a fault hit are whole again: each is subscribed at the server in its desired
 * mode (on whichever socket) and has ticked since the fault. Returns how many are not.
 */
export function unrecoveredCount(
  affected: readonly number[],
  since: number,
  view: ServerView,
  desired: ReadonlyMap<number, Mode>,
  ticks: TickClock,
): number {
  let n = 0;
  for (const token of affected) {
    const idx = ticks.indexOf(token);
    if (view.subscribed.get(token) !== desired.get(token) || idx < 0 || ticks.lastTickAt(idx) <= since) n++;
  }
  return n;
}
