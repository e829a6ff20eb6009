/**
 * Contracts of the NATS fan-out (`kiteticker-manager/nats`): the tick source a sink attaches to, the
 * sink's options and stats, and what a consumer receives. Implementations live beside this file.
 */
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node';
import type { StatusEvent } from '../connection/types.js';
import type { Logger } from '../logger.js';
import type { ExchangeName } from '../protocol/constants.js';
import type { Tick } from '../protocol/types.js';
import type { ContinuityEvent } from './continuity.js';

/**
 * The least a tick source must offer. Both managers satisfy it:
 * - multi-key manager: `on('ticks', (ticks, apiKeyId, connectionIndex) => ...)`
 * - single-key manager: `on('ticks', (ticks, connectionIndex) => ...)`
 * The sink tells them apart by the type of the second argument (string = API key id).
 * `status` listeners get the StatusEvent plus, in any order, an API key id (string) and a connection
 * index (number) when the source provides them.
 */
export interface TickSource {
  on(event: 'ticks', listener: (ticks: Tick[], apiKeyId: string, connectionIndex: number) => void): unknown;
  on(
    event: 'status',
    listener: (event: StatusEvent, apiKeyId: string, connectionIndex: number) => void,
  ): unknown;
  off?(event: 'ticks', listener: (ticks: Tick[], apiKeyId: string, connectionIndex: number) => void): unknown;
  off?(
    event: 'status',
    listener: (event: StatusEvent, apiKeyId: string, connectionIndex: number) => void,
  ): unknown;
}

/** How tick messages are encoded on the bus. */
export type TickEncoding = 'binary' | 'json';

/** JetStream "last tick per instrument" store. */
export interface LastTickStreamOptions {
  /** Stream name. Default 'KITE_TICKS'. */
  stream?: string;
  /** 'memory' (fast, lost when nats-server restarts) or 'file'. Default 'memory'. */
  storage?: 'memory' | 'file';
  /** Replicas in a cluster. Default 1. */
  replicas?: number;
  /**
   * Set `Nats-Msg-Id` on every tick, derived from the tick's content (docs/fan-out.md), so the stream
   * stores a tick once even when two instances publish it during a handover. Default true.
   */
  dedupe?: boolean;
  /** The stream's duplicate window: how long the server remembers msg ids. Default 30 000 ms. */
  duplicateWindowMs?: number;
}

export interface NatsTickSinkOptions {
  /** NATS server URL(s). Default 'nats://127.0.0.1:4222'. Ignored when `connection` is given. */
  servers?: string | string[];
  /**
   * Use this connection instead of opening one. The sink does not close it on close(); give it
   * `maxReconnectAttempts: -1` yourself.
   */
  connection?: NatsConnection;
  /**
   * Extra options for the connection the sink opens (user/pass, token, tls, name...). The sink's defaults:
   * maxReconnectAttempts -1 (never give up), reconnectTimeWait 1000 ms, pingInterval 20 000 ms.
   */
  connectOptions?: Partial<NodeConnectionOptions>;
  /** First segment of every subject. Default 'kite' (subjects `kite.tick.<EXCHANGE>.<token>`). */
  subjectPrefix?: string;
  /** Payload encoding. Default 'binary' (header + the tick's wire packet; see docs/fan-out.md). */
  encoding?: TickEncoding;
  /** API key id put on ticks from sources that do not name one (the single-key manager). Default 'default'. */
  apiKeyId?: string;
  /**
   * A stable name of this publishing instance, carried by every tick so consumers can tell which instance
   * published a key and see handovers. 1 to 255 UTF-8 bytes, no control characters.
   * Default `<hostname>:<pid>:<8 random hex digits>`.
   */
  instanceId?: string;
  /** Also publish connection status events to `<prefix>.status.<apiKeyId>`. Default true. */
  publishStatus?: boolean;
  /**
   * Messages held while NATS is unreachable or slow; beyond this the oldest are dropped and counted.
   * Default 50 000.
   */
  maxBufferedMessages?: number;
  /**
   * Bytes handed to the NATS client and not yet confirmed by a server round trip; above this, new
   * messages wait in the sink's buffer (so the client's own outbound buffer stays bounded). Default 8 MiB.
   */
  maxPendingBytes?: number;
  /**
   * Create/use a JetStream stream on `<prefix>.tick.>` keeping the last message per subject, so late
   * consumers see the market at once (`latestTicks`). `true` for the defaults. Default off.
   */
  jetstream?: boolean | LastTickStreamOptions;
  /**
   * Instruments whose subject and sequence number are remembered. Beyond this the ones that ticked least
   * recently are forgotten (and start again at sequence 1), so a feed of unknown tokens cannot grow the
   * sink without bound. Default 100 000 (room for 50,000 instruments ticking without any eviction).
   */
  maxSubjects?: number;
  /** Time allowed for the first connection. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Default silent. */
  logger?: Logger;
}

export interface NatsSinkStats {
  /** Tick and status messages handed to the NATS client while connected. */
  published: number;
  /** Bytes of those messages' payloads. */
  publishedBytes: number;
  /** Messages lost by the sink: buffer overflow, ticks that could not be encoded, publishes after close. */
  dropped: number;
  /** Messages waiting in the sink's buffer now. */
  buffered: number;
  /** Successful reconnections to NATS. */
  reconnects: number;
  /** Times the connection to NATS was lost. */
  disconnects: number;
  connected: boolean;
  /** Instruments whose subject and sequence are remembered now (at most `maxSubjects`). */
  subjects: number;
  /** Instruments forgotten to keep within `maxSubjects`. */
  subjectsEvicted: number;
}

/**
 * A subject filter. `{}` = every tick; `{ exchange }` = one exchange; `{ token }` = one instrument (its
 * exchange follows from the token's segment byte); a string is used as a raw NATS subject pattern.
 */
export type TickFilter = string | { exchange?: ExchangeName; token?: number };

/** One tick as a consumer receives it. */
export interface TickMessage {
  tick: Tick;
  /** The API key whose connection received the tick. */
  apiKeyId: string;
  /** When the publisher received the frame, epoch milliseconds. */
  receivedAt: number;
  /** Per-subject sequence of the publisher (uint32, wraps). */
  sequence: number;
  /** Random id of the publishing sink instance; a new id means the publisher restarted. */
  publisherId: number;
  /** The publishing instance's name (`instanceId` option); version 1 publishers: `v1:` + publisherId in hex. */
  instanceId: string;
  /** Per-API-key sequence of the publishing instance (uint32, wraps; 0 from a version 1 publisher). */
  keySequence: number;
  /** Messages missing on this subject just before this one (0 = none, or a queue-group member). */
  gap: number;
  subject: string;
}

export interface SubscribeTicksOptions {
  /** One filter or several. Default: every tick. */
  filter?: TickFilter | readonly TickFilter[];
  /** Queue group: members share the messages (each tick to one member); gaps are then not tracked. */
  queue?: string;
  /** Must match the publisher's. Default 'kite'. */
  subjectPrefix?: string;
  /** Decoded messages held for a slow reader, 1 to 1 000 000; beyond it the oldest are dropped (and show as gaps). Default 100 000. */
  maxPending?: number;
  /** Options for the connection opened when a URL is given. */
  connectOptions?: Partial<NodeConnectionOptions>;
  /** Called for a message that cannot be decoded (it is skipped). */
  onError?: (error: Error, subject: string) => void;
  /**
   * Called for a gap in an API key's sequence within one publishing instance, and for a handover (another
   * instance publishes the key). Key sequences are checked when the subscription receives every tick (no
   * filter, no queue group); with a filter, the per-subject gaps are reported per key instead.
   */
  onContinuity?: (event: ContinuityEvent) => void;
  /** Messages from the previous instance within this long of its last one are overlap, not a handover. Default 5 000 ms. */
  overlapMs?: number;
}

export interface TickSubscriptionStats {
  received: number;
  /** Sum of all gaps seen. */
  missed: number;
  decodeErrors: number;
  /** Dropped because the reader was slower than `maxPending`. */
  dropped: number;
  /** Publisher changes per key (instance A -> B). */
  handovers: number;
  /** Gap events per key, and the messages they say are missing. */
  keyGaps: number;
  keyMissed: number;
  /** Messages from a key's previous instance while handing over (they are still delivered). */
  overlapping: number;
}

/** An async iterable of ticks; break out of the loop or call close() to end it. */
export interface TickSubscription extends AsyncIterable<TickMessage> {
  close(): Promise<void>;
  stats(): TickSubscriptionStats;
}
