/**
 * Every fault the simulator can inject, each written once. `KiteSimulator`'s methods (`dropConnection`,
 * `stallConnection`, ...) call a FaultInjector whose source is 'manual'; chaos mode (chaos.ts) calls
 * another instance, whose source is 'chaos', through the same methods: a FaultInjector is a ChaosTarget.
 * Each method returns whether it did anything (chaos then tries another kind).
 */
import { FAULT } from '../config/limits.js';
import { duration } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { ConnectionTarget, KiteProtocolServer } from '../kite-server/server.js';
import type { ChaosTarget } from './chaos.js';
import { corruptFrame } from './corrupt.js';
import type { MarketFeed } from './feed.js';
import type { Market } from './market.js';
import type { Rng } from './random.js';
import type { CorruptionKind, FaultKind, FaultRecord } from './types.js';
import type { SimulatorAuthoriser } from './upgrade.js';

/** What the faults act on, shared by the manual and the chaos injector. */
export interface FaultHost {
  readonly front: KiteProtocolServer<MarketFeed>;
  readonly auth: SimulatorAuthoriser;
  readonly market: Market;
  readonly rng: Rng;
  /** Keeps, logs and announces a fault record. */
  record(record: FaultRecord): void;
  /** Runs `fn` after `ms` unless the simulator stops first. */
  later(ms: number, fn: () => void): void;
  /** Whether a restart may begin now (started, not stopped, not already restarting). */
  canRestart(): boolean;
  /** Begins a restart (the host logs a failure). */
  restart(downtimeMs: number): void;
}

export class FaultInjector implements ChaosTarget {
  readonly #host: FaultHost;
  readonly #source: FaultRecord['source'];

  constructor(host: FaultHost, source: FaultRecord['source']) {
    this.#host = host;
    this.#source = source;
  }

  connectionIds(): number[] {
    return this.#host.front.connectionIds();
  }

  apiKeys(): string[] {
    return this.#host.auth.apiKeys();
  }

  #fault(kind: FaultKind, detail: string, connectionId?: number, apiKey?: string): void {
    const record: FaultRecord = { at: Date.now(), kind, source: this.#source, detail };
    if (connectionId !== undefined) record.connectionId = connectionId;
    if (apiKey !== undefined) record.apiKey = apiKey;
    this.#host.record(record);
  }

  /** Abrupt TCP close (no close frame), like a network drop. */
  drop(target: ConnectionTarget): boolean {
    const conns = this.#host.front.find(target);
    for (const conn of conns) {
      this.#fault('drop', 'socket destroyed', conn.id, conn.apiKey);
      this.#host.front.detach(conn, 'terminate');
    }
    return conns.length > 0;
  }

  /** A WebSocket close frame with `code` and `reason`. */
  close(target: ConnectionTarget, code: number, reason = ''): boolean {
    const conns = this.#host.front.find(target);
    for (const conn of conns) {
      this.#fault('close', `close ${code} ${reason}`.trim(), conn.id, conn.apiKey);
      this.#host.front.detach(conn, { code, reason });
    }
    return conns.length > 0;
  }

  /** Nothing at all is sent for `durationMs` (without one: until the socket closes). */
  stall(target: ConnectionTarget, durationMs?: number): boolean {
    if (durationMs !== undefined) duration(durationMs, 'stallConnection durationMs', FAULT);
    const ms = durationMs ?? Number.POSITIVE_INFINITY;
    const conns = this.#host.front.find(target);
    for (const conn of conns) {
      conn.stalledUntil = Date.now() + ms;
      this.#fault('stall', `stalled for ${ms} ms`, conn.id, conn.apiKey);
    }
    return conns.length > 0;
  }

  /** One malformed frame of `kind` to each target that can be sent to now. */
  corrupt(target: ConnectionTarget, kind: CorruptionKind): boolean {
    let sent = false;
    for (const conn of this.#host.front.find(target)) if (this.#corruptOne(conn, kind)) sent = true;
    return sent;
  }

  #corruptOne(conn: KiteServerConnection, kind: CorruptionKind): boolean {
    const { front, market } = this.#host;
    const now = Date.now();
    if (!front.canSend(conn, now) || market.size === 0) return false;
    const [index, mode] = front.source.firstSubscribed(conn);
    const frame = corruptFrame(kind, market, index, mode, this.#host.rng);
    this.#fault('corrupt', kind, conn.id, conn.apiKey);
    if (typeof frame === 'string') front.sendText(conn, frame);
    else front.sendBinary(conn, frame, now);
    return true;
  }

  /** Upgrades (of `apiKey`, or all) answered with `status` for `durationMs`. */
  refuse(status: number, durationMs: number, apiKey?: string): boolean {
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new InvalidArgumentError(`refusal status must be an HTTP error status (400-599), got ${status}`);
    }
    duration(durationMs, 'refuseUpgrades durationMs', FAULT);
    this.#host.auth.refuse({ status, until: Date.now() + durationMs, apiKey });
    this.#fault('refuse', `HTTP ${status} for ${durationMs} ms`, undefined, apiKey);
    return true;
  }

  /**
   * Revokes the key's token (its sockets closed with 1008, upgrades 403). Without a duration, until
   * `setAccessToken`; with one, only a key with a valid token is revoked, and the same token is valid
   * again afterwards unless someone set another meanwhile: chaos never refuses for good.
   */
  revokeFor(apiKey: string, durationMs?: number, reason = 'access token revoked'): boolean {
    const { auth, front } = this.#host;
    const token = auth.token(apiKey);
    if (durationMs !== undefined && (token === undefined || auth.isRevoked(apiKey))) return false;
    auth.revoke(apiKey);
    const detail = durationMs === undefined ? reason : `${reason} for ${durationMs} ms`;
    this.#fault('revoke', detail, undefined, apiKey);
    for (const conn of front.find({ apiKey })) front.detach(conn, { code: 1008, reason });
    if (durationMs !== undefined && token !== undefined) {
      this.#host.later(durationMs, () => {
        if (auth.isRevoked(apiKey) && auth.token(apiKey) === token) auth.setAccessToken(apiKey, token);
      });
    }
    return true;
  }

  /** Drops every socket and the listener, refuses TCP for the downtime, listens again. */
  restart(downtimeMs: number): boolean {
    if (!this.#host.canRestart()) return false;
    this.#fault('restart', `restart with ${downtimeMs} ms downtime`);
    this.#host.restart(downtimeMs);
    return true;
  }
}
