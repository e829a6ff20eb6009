/**
 * The one stats shape, built from each key's pool counters and the manager's own (deliveries,
 * de-duplication, channel drops). Pure reads: nothing here changes state.
 */
import type { Broadcaster } from '../delivery/broadcaster.js';
import { addCounters } from '../pool/counters.js';
import type { DesiredState } from './desired-state.js';
import type { KeySlot } from './key-slot.js';
import type { ApiKeyStats, ManagerStats, MultiApiMessage } from './types.js';

/** Totals the manager sums over its keys. */
const KEY_TOTALS = [
  'activeConnections',
  'totalFrames',
  'totalTicks',
  'totalBytes',
  'totalMessagesReceived',
  'totalProtocolErrors',
  'totalReconnects',
] as const;

export interface StatsSource {
  readonly keys: readonly KeySlot[];
  readonly table: DesiredState;
  readonly broadcaster: Broadcaster<MultiApiMessage>;
  readonly duplicateOrders: number;
  /** Ticks the manager itself dropped (the pools count their own). */
  readonly unknownTokenDrops: number;
  readonly uptimeMs: number;
  /** Room for new tokens on a key (0 while failed). */
  free(slot: KeySlot): number;
}

export function keyStats(source: StatsSource, slot: KeySlot): ApiKeyStats {
  const pool = slot.pool.getStats();
  let totalDrops = 0;
  for (const connection of pool.connections) {
    connection.drops = source.broadcaster.droppedBy(slot.tag(connection.index));
    totalDrops += connection.drops;
  }
  return {
    apiKeyId: slot.id,
    state: slot.state,
    failureReason: slot.failureReason,
    activeConnections: pool.activeConnections,
    totalSymbols: source.table.countOf(slot.id),
    availableCapacity: slot.state === 'failed' || slot.state === 'stopped' ? 0 : source.free(slot),
    totalMessagesReceived: slot.messages,
    totalTicks: pool.totalTicks,
    totalFrames: pool.totalFrames,
    totalBytes: pool.totalBytes,
    totalReconnects: pool.totalReconnects,
    totalDrops,
    totalProtocolErrors: pool.totalProtocolErrors,
    failovers: slot.failovers,
    duplicateOrders: slot.duplicateOrders,
    manager: pool,
    health: slot.pool.getHealth(),
  };
}

export function managerStats(source: StatsSource): ManagerStats {
  const perApiStats = source.keys.map((slot) => keyStats(source, slot));
  const stats: ManagerStats = {
    totalApiKeys: source.keys.length,
    connections: [],
    activeConnections: 0,
    totalConnections: 0,
    totalSymbols: source.table.size - source.table.unplacedCount,
    unplacedSymbols: source.table.unplacedCount,
    totalFrames: 0,
    totalTicks: 0,
    totalBytes: 0,
    totalMessagesReceived: 0,
    totalProtocolErrors: 0,
    totalReconnects: 0,
    totalDrops: source.broadcaster.dropped,
    duplicateOrders: source.duplicateOrders,
    unknownTokenDrops: source.unknownTokenDrops,
    uptimeMs: source.uptimeMs,
    perApiStats,
  };
  for (const key of perApiStats) {
    for (const connection of key.manager.connections)
      stats.connections.push({ ...connection, apiKeyId: key.apiKeyId });
    addCounters(stats, key, KEY_TOTALS);
    stats.unknownTokenDrops += key.manager.unknownTokenDrops;
  }
  stats.totalConnections = stats.activeConnections;
  return stats;
}
