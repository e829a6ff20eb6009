/**
 * The CLI's view of the manager's statistics: one flat shape that the live view, the Prometheus
 * exporter and the exit summary all render, so each of them is a pure function tested without sockets.
 * `fromMultiStats` adapts the multi-key manager's `getStats()` to it.
 */
import type { ConnectionStatsSnapshot } from '../manager/types.js';
import type { FeedApiKeyStats, FeedConnectionStats, FeedSnapshot } from '../sinks/tick-sink.js';

// The flat shape is the sinks' feed snapshot (src/sinks/tick-sink.ts): one definition for the live
// view, the summary, the Prometheus exporter and every other sink.
export type CliConnectionStats = FeedConnectionStats;
export type CliApiKeyStats = FeedApiKeyStats;
export type CliStatsSnapshot = FeedSnapshot;

export interface Totals {
  apiKeys: number;
  connections: number;
  connected: number;
  symbols: number;
  frames: number;
  textMessages: number;
  ticks: number;
  bytes: number;
  reconnects: number;
  drops: number;
  protocolErrors: number;
}

export function totalsOf(snapshot: CliStatsSnapshot): Totals {
  const t: Totals = {
    apiKeys: snapshot.apiKeys.length,
    connections: 0,
    connected: 0,
    symbols: 0,
    frames: 0,
    textMessages: 0,
    ticks: 0,
    bytes: 0,
    reconnects: 0,
    drops: 0,
    protocolErrors: 0,
  };
  for (const key of snapshot.apiKeys) {
    t.drops += key.drops;
    for (const c of key.connections) {
      t.connections++;
      if (c.connected) t.connected++;
      t.symbols += c.symbols;
      t.frames += c.frames;
      t.textMessages += c.textMessages ?? 0;
      t.ticks += c.ticks;
      t.bytes += c.bytes;
      t.reconnects += c.reconnects;
      t.protocolErrors += c.protocolErrors;
    }
  }
  return t;
}

/**
 * Ticks per second per connection between consecutive snapshots. Rates are computed over the
 * interval since the previous `update`, so a redraw every 250 ms shows a 250 ms rate, smoothed
 * with an exponential moving average to keep the numbers readable.
 */
export class RateTracker {
  private readonly previous = new Map<string, number>();
  private readonly rates = new Map<string, number>();
  private previousAt: number | undefined;
  private previousTotal = 0;
  private total = 0;
  private readonly smoothing: number;

  /** `smoothing` in (0, 1]: weight of the newest interval. Default 0.5. */
  constructor(smoothing = 0.5) {
    this.smoothing = smoothing;
  }

  update(snapshot: CliStatsSnapshot): void {
    const dt = this.previousAt === undefined ? 0 : (snapshot.at - this.previousAt) / 1000;
    let ticks = 0;
    for (const key of snapshot.apiKeys) {
      for (const c of key.connections) {
        const id = rateKey(key.apiKeyId, c.index);
        ticks += c.ticks;
        const before = this.previous.get(id);
        if (dt > 0 && before !== undefined)
          this.rates.set(id, this.smooth(this.rates.get(id), (c.ticks - before) / dt));
        this.previous.set(id, c.ticks);
      }
    }
    if (dt > 0) this.total = this.smooth(this.total, (ticks - this.previousTotal) / dt);
    this.previousTotal = ticks;
    this.previousAt = snapshot.at;
  }

  /** Ticks/s of one connection; 0 until two snapshots were seen. */
  rate(apiKeyId: string, connectionIndex: number): number {
    return this.rates.get(rateKey(apiKeyId, connectionIndex)) ?? 0;
  }

  /** Ticks/s over every connection. */
  totalRate(): number {
    return this.total;
  }

  private smooth(old: number | undefined, value: number): number {
    const v = Math.max(0, value);
    return old === undefined ? v : old + this.smoothing * (v - old);
  }
}

function rateKey(apiKeyId: string, index: number): string {
  return `${apiKeyId}\u0000${index}`;
}

/** The fields the adapter reads from a per-connection stats entry. */
type ConnectionStatsLike = Pick<
  ConnectionStatsSnapshot,
  Exclude<keyof CliConnectionStats, 'textMessages'>
> & {
  textMessages?: number;
};

/** The fields the adapter reads from the multi-key manager's `getStats()` (MultiApiStats). */
export interface MultiStatsLike {
  uptimeMs: number;
  perApiStats: readonly {
    apiKeyId: string;
    state: string;
    totalDrops: number;
    manager: { connections: readonly ConnectionStatsLike[] };
  }[];
}

export function fromMultiStats(stats: MultiStatsLike, at: number): CliStatsSnapshot {
  return {
    at,
    uptimeMs: stats.uptimeMs,
    apiKeys: stats.perApiStats.map((k) => ({
      apiKeyId: k.apiKeyId,
      state: k.state,
      drops: k.totalDrops,
      connections: k.manager.connections.map((c) => ({
        index: c.index,
        status: c.status,
        connected: c.connected,
        symbols: c.symbols,
        frames: c.frames,
        textMessages: c.textMessages ?? 0,
        ticks: c.ticks,
        bytes: c.bytes,
        reconnects: c.reconnects,
        protocolErrors: c.protocolErrors,
        lastFrameAgeMs: c.lastFrameAgeMs,
      })),
    })),
  };
}
