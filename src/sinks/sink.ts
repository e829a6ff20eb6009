/**
 * `NatsTickSink`: publishes every tick to `<prefix>.tick.<EXCHANGE>.<token>` and status events to
 * `<prefix>.status.<apiKeyId>`, so one process holding the Kite sockets can feed many consumers.
 *
 * The tick path must never suffer from the bus: publishTicks never throws and never waits. While NATS is
 * unreachable, messages go to a bounded drop-oldest outbox (the NATS client itself throws away whatever it
 * buffered when it redials, so relying on it would lose data silently). While connected, the bytes handed
 * to the client but not yet confirmed by a PING/PONG round trip are bounded too, which keeps the client's
 * outbound buffer from growing without limit when the server or the network is slower than the feed.
 *
 * Dialling, JetStream preparation, following the connection state and the bounded close are
 * nats-connection.ts; option checks are sink-options.ts. This file keeps the publishing path.
 */
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import type { StatusEvent } from '../connection/types.js';
import { closedError } from '../errors.js';
import type { Logger } from '../logger.js';
import { EXCHANGE_BY_SEGMENT } from '../protocol/constants.js';
import { encodedLength, encodeTick } from '../protocol/encode.js';
import type { Tick } from '../protocol/types.js';
import { apiKeyIdBytes, type EnvelopeFields, EnvelopeWriter, encodeJsonEnvelope } from './envelope.js';
import { MSG_ID_HEADER, msgIdFromKeyPart, msgIdKeyPart } from './msg-id.js';
import { dialNats, endConnection, followStatus, prepareConnection } from './nats-connection.js';
import { Outbox, type OutboxPayload } from './outbox.js';
import { redactNatsText, redactUrl } from './secrets.js';
import { resolveSinkOptions } from './sink-options.js';
import { SubjectCache } from './subject-cache.js';
import { statusSubject, tickSubject } from './subjects.js';
import type { TickSink } from './tick-sink.js';
import type { NatsSinkStats, NatsTickSinkOptions, TickEncoding, TickSource } from './types.js';

/** API keys whose header bytes and sequence are remembered; beyond, the first one is forgotten. */
const MAX_KEYS = 10_000;

/** What the sink keeps per API key. */
interface KeyState {
  /** UTF-8 id for the binary header. */
  bytes: Uint8Array;
  /** The key's part of a JetStream msg id. */
  msgIdPart: string;
  /** Per-key sequence of this instance. */
  sequence: number;
}

export { DEFAULT_NATS_URL } from './nats-connection.js';

export class NatsTickSink implements TickSink {
  readonly name = 'nats';
  /** Private (#): they hold NATS credentials, which util.inspect, JSON.stringify or a spread would show. */
  readonly #options: NatsTickSinkOptions;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly encoding: TickEncoding;
  private readonly defaultApiKeyId: string;
  private readonly maxPendingBytes: number;
  /** Start a confirming round trip once this many bytes are unconfirmed. */
  private readonly flushEveryBytes: number;
  private readonly outbox: Outbox;
  private readonly writer = new EnvelopeWriter();
  /** Random per instance, so consumers can tell a restarted publisher from a gap. */
  readonly publisherId: number = (Math.random() * 0x1_0000_0000) >>> 0;
  /** The name every tick carries: consumers follow it across handovers. */
  readonly instanceId: string;
  private readonly instanceBytes: Uint8Array;
  /** Set `Nats-Msg-Id` from the tick's content (JetStream de-duplication). */
  private readonly msgIds: boolean;
  /** Reused for every tick: the writer copies the fields out at once. */
  private readonly fields: EnvelopeFields = { publisherId: 0, sequence: 0, keySequence: 0, receivedAt: 0 };

  #nc: NatsConnection | undefined;
  private ownsConnection = false;
  private connecting: Promise<void> | undefined;
  private connected = false;
  private closed = false;
  /** Bumped on every disconnect so a late flush of an old connection is ignored. */
  private epoch = 0;
  private unconfirmedBytes = 0;
  private flushing = false;
  #statusIterator: { stop?: () => void } | undefined;

  private readonly subjects: SubjectCache;
  private readonly keys = new Map<string, KeyState>();
  private readonly detachers = new Set<() => void>();
  private encodeErrorLogged = false;

  private published = 0;
  private publishedBytes = 0;
  private dropped = 0;
  private reconnects = 0;
  private disconnects = 0;

  /** @throws InvalidArgumentError for a bad option (sink-options.ts). */
  constructor(options: NatsTickSinkOptions = {}) {
    this.#options = options;
    const resolved = resolveSinkOptions(options);
    this.logger = resolved.logger;
    this.prefix = resolved.prefix;
    this.encoding = resolved.encoding;
    this.defaultApiKeyId = resolved.defaultApiKeyId;
    this.outbox = new Outbox(resolved.maxBuffered);
    this.maxPendingBytes = resolved.maxPendingBytes;
    this.flushEveryBytes = resolved.flushEveryBytes;
    this.subjects = new SubjectCache(resolved.maxSubjects);
    this.instanceId = resolved.instanceId;
    this.instanceBytes = new TextEncoder().encode(resolved.instanceId);
    this.msgIds = resolved.msgIds;
    this.fields.publisherId = this.publisherId;
  }

  /**
   * Connects to NATS (or adopts `options.connection`) and, with `jetstream`, prepares the last-tick
   * stream. Ticks published before this resolves wait in the outbox. Rejects with ConnectionError.
   */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(closedError('the NATS sink'));
    this.connecting ??= this.open().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }

  private async open(): Promise<void> {
    let nc = this.#options.connection;
    if (!nc) {
      nc = await dialNats(this.#options);
      this.ownsConnection = true;
    }
    await prepareConnection(nc, this.ownsConnection, this.prefix, this.#options.jetstream, () => this.closed);
    this.#nc = nc;
    this.watchStatus(nc);
    this.connected = !nc.isClosed();
    this.logger.info({ server: redactUrl(nc.getServer()) }, 'nats sink connected');
    this.drainOutbox();
  }

  /** Follows the client's connection state; runs until the connection closes or the sink does. */
  private watchStatus(nc: NatsConnection): void {
    this.#statusIterator = followStatus(nc, {
      stopped: () => this.closed,
      disconnected: (server) => {
        this.connected = false;
        this.disconnects++;
        this.epoch++;
        this.flushing = false;
        this.unconfirmedBytes = 0;
        this.logger.warn({ server: redactUrl(server) }, 'nats sink disconnected; buffering');
      },
      reconnected: (server) => {
        this.connected = true;
        this.reconnects++;
        this.unconfirmedBytes = 0;
        this.flushing = false;
        this.logger.info({ server: redactUrl(server), buffered: this.outbox.size }, 'nats sink reconnected');
        this.drainOutbox();
      },
      error: (error) => {
        this.logger.warn(
          { error: redactNatsText(error.message, this.#options.connectOptions) },
          'nats error',
        );
      },
      gone: () => {
        this.connected = false;
      },
    });
  }

  /**
   * Publishes ticks received by the connection of `apiKeyId` (default: the `apiKeyId` option).
   * `receivedAt` defaults to now (one clock read per call, not per tick). Never throws.
   */
  publishTicks(
    ticks: readonly Tick[],
    apiKeyId: string = this.defaultApiKeyId,
    receivedAt: number = Date.now(),
  ): void {
    if (this.closed) {
      this.dropped += ticks.length;
      return;
    }
    try {
      const binary = this.encoding === 'binary';
      const key = this.keyState(apiKeyId);
      const fields = this.fields;
      fields.receivedAt = receivedAt;
      for (let i = 0; i < ticks.length; i++) {
        const tick = ticks[i]!;
        const token = tick.instrument_token;
        let state = this.subjects.get(token);
        if (state === undefined) {
          const exchange = tick.exchange ?? EXCHANGE_BY_SEGMENT[token & 0xff];
          state = { subject: tickSubject(this.prefix, exchange, token), sequence: 0 };
          this.subjects.set(token, state);
        }
        // The sequences move even if encoding fails below, so consumers see the loss as a gap.
        fields.sequence = state.sequence = (state.sequence + 1) >>> 0;
        fields.keySequence = key.sequence = (key.sequence + 1) >>> 0;
        let payload: OutboxPayload;
        let hdrs: MsgHdrs | undefined;
        try {
          if (binary) {
            const bytes = this.writer.write(tick, key.bytes, this.instanceBytes, fields);
            payload = bytes;
            if (this.msgIds)
              hdrs = msgIdHeaders(
                key.msgIdPart,
                tick,
                bytes.subarray(bytes.byteLength - encodedLength(tick)),
              );
          } else {
            payload = encodeJsonEnvelope(tick, apiKeyId, this.instanceId, fields);
            if (this.msgIds) hdrs = msgIdHeaders(key.msgIdPart, tick, encodeTick(tick));
          }
        } catch (error) {
          this.dropped++;
          this.logEncodeError(error, token);
          continue;
        }
        this.route(state.subject, payload, hdrs);
      }
    } catch (error) {
      // Defensive: a malformed batch from a custom source must not reach the caller.
      this.logEncodeError(error, undefined);
    }
  }

  /** Publishes a status event (JSON) to `<prefix>.status.<apiKeyId>`. Never throws. */
  publishStatus(event: unknown, apiKeyId: string = this.defaultApiKeyId, connectionIndex?: number): void {
    if (this.closed) {
      this.dropped++;
      return;
    }
    try {
      const payload = JSON.stringify({ apiKeyId, connectionIndex, event: plainEvent(event), at: Date.now() });
      this.route(statusSubject(this.prefix, apiKeyId), payload);
    } catch (error) {
      this.dropped++;
      this.logEncodeError(error, undefined);
    }
  }

  /**
   * Listens to a manager's 'ticks' (and, unless `publishStatus: false`, 'status') events; both
   * managers emit `(ticks | event, apiKeyId, connectionIndex)`. `options.apiKeyId` publishes under
   * that id instead of the manager's. Returns a function that detaches; close() detaches everything.
   */
  attach(source: TickSource, options: { apiKeyId?: string } = {}): () => void {
    const override = options.apiKeyId;
    // One listener per attach (not per frame).
    const onTicks = (ticks: Tick[], apiKeyId: string): void => {
      this.publishTicks(ticks, override ?? apiKeyId);
    };
    const onStatus = (event: StatusEvent, apiKeyId: string, connectionIndex: number): void => {
      this.publishStatus(event, override ?? apiKeyId, connectionIndex);
    };
    const withStatus = this.#options.publishStatus !== false;
    source.on('ticks', onTicks);
    if (withStatus) source.on('status', onStatus);
    const detach = (): void => {
      if (!this.detachers.delete(detach)) return;
      source.off?.('ticks', onTicks);
      if (withStatus) source.off?.('status', onStatus);
    };
    this.detachers.add(detach);
    return detach;
  }

  stats(): NatsSinkStats {
    return {
      published: this.published,
      publishedBytes: this.publishedBytes,
      dropped: this.dropped,
      buffered: this.outbox.size,
      reconnects: this.reconnects,
      disconnects: this.disconnects,
      connected: this.connected,
      subjects: this.subjects.size,
      subjectsEvicted: this.subjects.evicted,
    };
  }

  /** The connection in use (undefined before connect()). */
  get connection(): NatsConnection | undefined {
    return this.#nc;
  }

  /**
   * Detaches from every source, hands what is buffered to NATS when connected, then drains and closes
   * the connection the sink opened (a given `connection` is flushed, not closed). Anything still buffered
   * is counted as dropped. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const detach of [...this.detachers]) detach();
    const nc = this.#nc;
    if (nc && this.connected) this.outbox.drain(this.forceSend);
    this.closed = true;
    this.dropped += this.outbox.clear();
    this.#statusIterator?.stop?.();
    if (!nc) return;
    // A drain cannot finish while the server is away: bounded, then closed hard.
    await endConnection(nc, this.ownsConnection);
    this.connected = false;
  }

  // --- internals ---------------------------------------------------------------------------------

  private keyState(apiKeyId: string): KeyState {
    let state = this.keys.get(apiKeyId);
    if (state === undefined) {
      const bytes = apiKeyIdBytes(apiKeyId);
      if (bytes.byteLength === 255)
        this.logger.warn({ apiKeyId }, 'api key id cut to 255 bytes in the tick header');
      if (this.keys.size >= MAX_KEYS) {
        // A source inventing key ids must not grow the sink: forget the first (it restarts at 1).
        const first = this.keys.keys().next().value;
        if (first !== undefined) this.keys.delete(first);
      }
      state = { bytes, msgIdPart: msgIdKeyPart(apiKeyId), sequence: 0 };
      this.keys.set(apiKeyId, state);
    }
    return state;
  }

  private route(subject: string, payload: OutboxPayload, hdrs?: MsgHdrs): void {
    if (this.connected && this.outbox.size === 0 && this.unconfirmedBytes <= this.maxPendingBytes) {
      this.send(subject, payload, hdrs);
    } else if (!this.outbox.push(subject, payload, hdrs)) {
      this.dropped++;
    }
  }

  private send(subject: string, payload: OutboxPayload, hdrs?: MsgHdrs): void {
    const nc = this.#nc!;
    try {
      nc.publish(subject, payload, hdrs ? { headers: hdrs } : undefined);
    } catch (error) {
      // Closed connection, payload above the server's max_payload...: the message is lost, say so.
      this.dropped++;
      this.logger.warn(
        { subject, error: error instanceof Error ? error.message : String(error) },
        'nats publish failed',
      );
      return;
    }
    const size = typeof payload === 'string' ? payload.length : payload.byteLength;
    this.published++;
    this.publishedBytes += size;
    this.unconfirmedBytes += size;
    if (!this.flushing && this.unconfirmedBytes >= this.flushEveryBytes) this.confirm();
  }

  /** Outbox drain callback: stop when the connection is gone or the pending bound is reached. */
  private readonly sendFromOutbox = (
    subject: string,
    payload: OutboxPayload,
    hdrs: MsgHdrs | undefined,
  ): boolean => {
    if (!this.connected || this.unconfirmedBytes > this.maxPendingBytes) return false;
    this.send(subject, payload, hdrs);
    return true;
  };

  /** At close: hand over everything regardless of the pending bound. */
  private readonly forceSend = (
    subject: string,
    payload: OutboxPayload,
    hdrs: MsgHdrs | undefined,
  ): boolean => {
    this.send(subject, payload, hdrs);
    return true;
  };

  private drainOutbox(): void {
    if (this.outbox.size > 0 && this.connected) this.outbox.drain(this.sendFromOutbox);
  }

  /** A PING/PONG round trip: when it returns, the server has read everything sent before it. */
  private confirm(): void {
    const nc = this.#nc;
    if (!nc) return;
    this.flushing = true;
    const covered = this.unconfirmedBytes;
    const epoch = this.epoch;
    nc.flush().then(
      () => {
        if (epoch !== this.epoch || this.closed) return;
        this.flushing = false;
        this.unconfirmedBytes = Math.max(0, this.unconfirmedBytes - covered);
        this.drainOutbox();
        if (!this.flushing && this.unconfirmedBytes >= this.flushEveryBytes) this.confirm();
      },
      () => {
        if (epoch === this.epoch) this.flushing = false;
      },
    );
  }

  private logEncodeError(error: unknown, token: number | undefined): void {
    if (this.encodeErrorLogged) return;
    this.encodeErrorLogged = true;
    this.logger.warn(
      { token, error: error instanceof Error ? error.message : String(error) },
      'nats sink could not encode a tick (dropped; further ones are counted, not logged)',
    );
  }
}

/** Opens a sink and connects it. */
export async function createNatsSink(options: NatsTickSinkOptions = {}): Promise<NatsTickSink> {
  const sink = new NatsTickSink(options);
  await sink.connect();
  return sink;
}

/** The `Nats-Msg-Id` header of a tick (msg-id.ts says what it is derived from and why). */
function msgIdHeaders(keyPart: string, tick: Tick, packet: Uint8Array): MsgHdrs {
  const h = headers();
  h.set(MSG_ID_HEADER, msgIdFromKeyPart(keyPart, tick, packet));
  return h;
}

/** Status events may carry an Error, which JSON.stringify would turn into `{}`. */
function plainEvent(event: unknown): unknown {
  if (event === null || typeof event !== 'object') return event;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    out[key] =
      value instanceof Error ? { name: value.name, message: value.message, code: codeOf(value) } : value;
  }
  return out;
}

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
