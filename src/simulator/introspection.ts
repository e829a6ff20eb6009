/**
 * What tests and tools can read back from a running simulator, as copies safe to keep: each open
 * connection's subscriptions and counters, each key's upgrade/command counters and command log, the
 * fault log, and the tick the market would send now for a token.
 */
import type { KiteProtocolServer } from '../kite-server/server.js';
import type { Logger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { Tick } from '../protocol/types.js';
import type { Market } from './market.js';
import type { FaultRecord, SimulatorConnectionInfo, SimulatorKeyInfo } from './types.js';

/** Every open connection (copies). */
export function connectionInfos(front: KiteProtocolServer): SimulatorConnectionInfo[] {
  const now = Date.now();
  return [...front.connections()].map((c) => ({
    id: c.id,
    apiKey: c.apiKey,
    subscriptions: new Map(c.subscriptions),
    framesSent: c.framesSent,
    ticksSent: c.ticksSent,
    heartbeatsSent: c.heartbeatsSent,
    openedAt: c.openedAt,
    stalled: c.isStalled(now),
  }));
}

/** One key's counters (zeros for a key never seen). */
export function keyInfo(front: KiteProtocolServer, apiKey: string): SimulatorKeyInfo {
  const k = front.keyStats(apiKey);
  return {
    apiKey,
    openConnections: k?.open ?? 0,
    rejectedUpgrades: { ...(k?.rejected ?? {}) },
    acceptedUpgrades: k?.accepted ?? 0,
    maxConcurrentConnections: k?.maxConcurrent ?? 0,
    commands: k ? k.commands.entries() : [],
    invalidCommands: k?.invalidCommands ?? 0,
    badFrames: k?.badFrames ?? 0,
  };
}

/** The tick the market would send now (a fresh object), or undefined outside the universe. */
export function snapshot(market: Market, token: number, mode: Mode): Tick | undefined {
  const i = market.indexOf(token);
  return i < 0 ? undefined : market.tick(i, mode);
}

/** The fault records, oldest first, bounded by `faultLogLimit`. */
export class FaultLog {
  readonly #records: FaultRecord[] = [];
  readonly #limit: number;
  readonly #log: Logger;

  constructor(limit: number, log: Logger) {
    this.#limit = limit;
    this.#log = log;
  }

  add(record: FaultRecord): void {
    this.#records.push(record);
    if (this.#records.length > this.#limit) this.#records.splice(0, this.#records.length - this.#limit);
    this.#log.info({ ...record }, 'fault injected');
  }

  list(): FaultRecord[] {
    return [...this.#records];
  }
}
