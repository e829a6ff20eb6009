/**
 * KiteRelay's options, their defaults and their validation (docs/relay.md lists the same table).
 */
import { count, duration } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ApiKeyCredentials } from '../manager/types.js';
import { MAX_INSTRUMENTS_PER_CLIENT, MAX_SOCKETS_PER_CLIENT, type RelayClientConfig } from './clients.js';
import type { UpstreamManager } from './upstream.js';

/** What the relay needs of a manager given to it: the calls, and its events. */
export interface RelayManager extends UpstreamManager {
  on(
    event: 'frame',
    listener: (frame: Uint8Array, apiKeyId: string, connectionIndex: number) => void,
  ): unknown;
  on(event: 'order', listener: (order: unknown, apiKeyId: string) => void): unknown;
  on(event: 'serverMessage', listener: (data: unknown, apiKeyId: string) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A new access token for an upstream key (sockets that gave up on a 403 reopen with it). */
  updateAccessToken(apiKeyId: string, accessToken: string): Promise<void>;
  getStats(): unknown;
}

export interface KiteRelayOptions {
  /** The relay's clients (who may connect, and their limits). This or `clientsFile` is required. */
  clients?: readonly RelayClientConfig[];
  /** A JSON file of clients, watched: a change applies at once; a malformed file changes nothing. */
  clientsFile?: string;
  /**
   * The upstream: a MultiApiKiteTickerManager built with `.rawFrames(true)` and started by you (you
   * stop it too). Or give `upstream` and the relay builds, starts and stops one.
   */
  manager?: RelayManager;
  /** Keys (and the ticker URL) of a manager the relay builds and owns. */
  upstream?: { apiKeys: ApiKeyCredentials[]; url?: string; logger?: Logger };
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 8765; 0 picks a free port (read it back from `port`). */
  port?: number;
  /** Serve wss:// with this PEM certificate and key. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Wait before a token no client wants (or a mode no client needs) is dropped upstream. Default 5000 ms. */
  lingerMs?: number;
  /** Default per-client limit of instruments across its sockets. Default 100 000. */
  maxInstrumentsPerClient?: number;
  /** Default per-client limit of open sockets. Default 20. */
  maxSocketsPerClient?: number;
  /** Instruments one socket may subscribe. Default 100 000 (Kite: 3000). */
  maxInstrumentsPerSocket?: number;
  /** Soft limit of a client's queued bytes: past it, its oldest tick frames are dropped. Default 4 MiB. */
  sendBufferBytes?: number;
  /** Hard limit of a client's socket buffer: past it, it is disconnected. Default 16 MiB. */
  maxSendBufferBytes?: number;
  /** A client backlogged (frames waiting) this long is disconnected. Default 30 000 ms. */
  slowClientTimeoutMs?: number;
  /** A heartbeat goes to a client idle this long. Default 1000 ms (Kite's pace). */
  heartbeatIntervalMs?: number;
  logger?: Logger;
}

export interface ResolvedRelayOptions {
  host: string;
  port: number;
  lingerMs: number;
  maxInstrumentsPerClient: number;
  maxSocketsPerClient: number;
  maxInstrumentsPerSocket: number;
  sendBufferBytes: number;
  maxSendBufferBytes: number;
  slowClientTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export const RELAY_DEFAULTS: ResolvedRelayOptions = {
  host: '127.0.0.1',
  port: 8765,
  lingerMs: 5000,
  maxInstrumentsPerClient: 100_000,
  maxSocketsPerClient: 20,
  maxInstrumentsPerSocket: 100_000,
  sendBufferBytes: 4 * 1024 * 1024,
  maxSendBufferBytes: 16 * 1024 * 1024,
  slowClientTimeoutMs: 30_000,
  heartbeatIntervalMs: 1000,
};

const MAX_BUFFER_BYTES = 1024 * 1024 * 1024;

/** @throws InvalidArgumentError for a bad option. */
export function resolveRelayOptions(o: KiteRelayOptions): ResolvedRelayOptions {
  if (o.clients === undefined && o.clientsFile === undefined) {
    throw new InvalidArgumentError('KiteRelay needs `clients` or `clientsFile`');
  }
  if ((o.manager === undefined) === (o.upstream === undefined)) {
    throw new InvalidArgumentError('KiteRelay needs exactly one of `manager` and `upstream`');
  }
  if (o.host !== undefined && (typeof o.host !== 'string' || o.host === '')) {
    throw new InvalidArgumentError('host must be a non-empty string');
  }
  const d = RELAY_DEFAULTS;
  const sendBufferBytes = count(o.sendBufferBytes, 'sendBufferBytes', {
    min: 64 * 1024,
    max: MAX_BUFFER_BYTES,
    default: d.sendBufferBytes,
  });
  const maxSendBufferBytes = count(o.maxSendBufferBytes, 'maxSendBufferBytes', {
    min: sendBufferBytes,
    max: MAX_BUFFER_BYTES,
    default: Math.max(d.maxSendBufferBytes, sendBufferBytes),
  });
  return {
    host: o.host ?? d.host,
    port: count(o.port, 'port', { min: 0, max: 65535, default: d.port }),
    lingerMs: duration(o.lingerMs, 'lingerMs', { min: 0, default: d.lingerMs }),
    maxInstrumentsPerClient: count(o.maxInstrumentsPerClient, 'maxInstrumentsPerClient', {
      min: 1,
      max: MAX_INSTRUMENTS_PER_CLIENT,
      default: d.maxInstrumentsPerClient,
    }),
    maxSocketsPerClient: count(o.maxSocketsPerClient, 'maxSocketsPerClient', {
      min: 1,
      max: MAX_SOCKETS_PER_CLIENT,
      default: d.maxSocketsPerClient,
    }),
    maxInstrumentsPerSocket: count(o.maxInstrumentsPerSocket, 'maxInstrumentsPerSocket', {
      min: 1,
      max: MAX_INSTRUMENTS_PER_CLIENT,
      default: d.maxInstrumentsPerSocket,
    }),
    sendBufferBytes,
    maxSendBufferBytes,
    slowClientTimeoutMs: duration(o.slowClientTimeoutMs, 'slowClientTimeoutMs', {
      min: 100,
      default: d.slowClientTimeoutMs,
    }),
    heartbeatIntervalMs: duration(o.heartbeatIntervalMs, 'heartbeatIntervalMs', {
      min: 10,
      default: d.heartbeatIntervalMs,
    }),
  };
}
