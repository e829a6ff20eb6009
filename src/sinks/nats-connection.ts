/**
 * The NATS sink's connection, apart from publishing: dialling (credentials taken from the URL or the
 * connect options, never quoted in an error), preparing the JetStream last-tick store, following the
 * client's connect/disconnect events, and ending a connection within a bound when the server is away.
 *
 * Separate from sink.ts because none of it is on the tick path: the sink's publishing code only reads
 * the flags these steps set.
 */
import { connect, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import { ConnectionError, closedError } from '../errors.js';
import { withUrlCredentials } from './auth.js';
import { ensureLastTickStream } from './jetstream.js';
import { redactNatsText } from './secrets.js';
import { NATS_SINK_DEFAULTS } from './sink-options.js';
import type { NatsTickSinkOptions } from './types.js';

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** How long close() waits for a drain (or flush) before closing hard: a drain cannot end while the server is away. */
const CLOSE_BOUND_MS = 2_000;

/** Dials NATS for a sink that was given no connection. Rejects with ConnectionError, secrets removed. */
export async function dialNats(options: NatsTickSinkOptions): Promise<NatsConnection> {
  const given = options.servers ?? DEFAULT_NATS_URL;
  const { servers, options: authOptions } = withUrlCredentials(given, options.connectOptions);
  const opts: NodeConnectionOptions = {
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1_000,
    pingInterval: 20_000,
    timeout: options.connectTimeoutMs ?? NATS_SINK_DEFAULTS.connectTimeoutMs,
    name: 'kiteticker-sink',
    ...authOptions,
    servers,
  };
  try {
    return await connect(opts);
  } catch (error) {
    const list = servers.join(', ');
    const detail = redactNatsText(error instanceof Error ? error.message : String(error), authOptions);
    throw new ConnectionError(`cannot connect to NATS at ${list}: ${detail}`);
  }
}

/**
 * With `jetstream`, prepares the last-tick stream under `prefix`. If that fails, or the sink was closed
 * meanwhile (`isClosed`), a connection the sink opened (`owned`) is closed and the error rethrown.
 */
export async function prepareConnection(
  nc: NatsConnection,
  owned: boolean,
  prefix: string,
  jetstream: NatsTickSinkOptions['jetstream'],
  isClosed: () => boolean,
): Promise<void> {
  try {
    if (jetstream) await ensureLastTickStream(nc, prefix, jetstream === true ? {} : jetstream);
    if (isClosed()) throw closedError('the NATS sink');
  } catch (error) {
    if (owned) await nc.close().catch(() => undefined);
    throw error;
  }
}

/** What the sink does when the client's connection state changes. */
export interface StatusHandlers {
  /** True once the sink is closed: following stops. */
  stopped(): boolean;
  disconnected(server: string): void;
  reconnected(server: string): void;
  error(error: Error): void;
  /** The connection closed for good. */
  gone(): void;
}

/**
 * Follows the client's connection state until the connection closes or the sink does. Returns the
 * status iterable, whose `stop` (when it has one) ends the following at close().
 */
export function followStatus(nc: NatsConnection, on: StatusHandlers): { stop?: () => void } {
  const iterable = nc.status();
  void (async () => {
    for await (const s of iterable) {
      if (on.stopped()) break;
      if (s.type === 'disconnect') on.disconnected(s.server);
      else if (s.type === 'reconnect') on.reconnected(s.server);
      else if (s.type === 'error') on.error(s.error);
    }
  })().catch(() => undefined);
  nc.closed().then(
    () => on.gone(),
    () => on.gone(),
  );
  return iterable as { stop?: () => void };
}

/**
 * Drains and closes a connection the sink opened (`owned`), or flushes one it was given; either is
 * bounded, after which an owned connection is closed hard.
 */
export async function endConnection(nc: NatsConnection, owned: boolean): Promise<void> {
  const done = owned ? nc.drain() : nc.flush();
  const settled = await Promise.race([
    done.then(
      () => true,
      () => false,
    ),
    delay(CLOSE_BOUND_MS).then(() => false),
  ]);
  if (!settled && owned && !nc.isClosed()) await nc.close().catch(() => undefined);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
