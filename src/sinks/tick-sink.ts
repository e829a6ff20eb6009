/**
 * The one shape every sink has: NATS fan-out, the `.ktrec` file recorder and the Prometheus exporter
 * each attach to a `TickFeed` (the manager's events, the raw frames and its stats), report their own
 * counters and close within a deadline. A command (stream, record, and later relay) builds a list of
 * sinks and treats them alike: attach in order, close in reverse.
 *
 * Type-only: importing it costs nothing (the NATS client is loaded only by sinks/index.ts).
 */
import type { StatusEvent } from '../connection/types.js';
import type { OrderUpdate, Tick } from '../protocol/types.js';

/** What the feed emits; every event names the key and the socket it came from. */
export interface TickFeedEvents {
  /** One batch per frame (hot path). */
  ticks: [ticks: Tick[], apiKeyId: string, connectionIndex: number];
  status: [event: StatusEvent, apiKeyId: string, connectionIndex: number];
  /** Order postbacks, deduplicated across sockets and keys. */
  order: [order: OrderUpdate, apiKeyId: string, connectionIndex: number];
  /**
   * Binary frames as received, before decoding (heartbeats excluded). Emitted only when a sink that
   * asked for them (`wantsRawFrames`) was known when the manager was built: tapping costs a listener
   * per socket.
   */
  rawFrame: [data: Uint8Array, apiKeyId: string, connectionIndex: number];
}

/** One socket's counters in a feed snapshot. */
export interface FeedConnectionStats {
  /** 0-based connection index within its API key. */
  index: number;
  status: string;
  connected: boolean;
  symbols: number;
  /** Binary market-data frames (heartbeats excluded). */
  frames: number;
  ticks: number;
  /** Every byte received: binary frames, heartbeats and text frames. */
  bytes: number;
  /** Text frames (order updates, messages): in `bytes` but not in `frames`, so counted apart. */
  textMessages?: number;
  reconnects: number;
  protocolErrors: number;
  /** Milliseconds since the last frame (heartbeats included); null before the first. */
  lastFrameAgeMs: number | null;
}

export interface FeedApiKeyStats {
  apiKeyId: string;
  state: string;
  /** Messages dropped by overflow policies for this key. */
  drops: number;
  connections: FeedConnectionStats[];
}

/** An HA instance's state (`stream --ha`; src/ha/controller.ts `HaStats` has this shape). */
export interface FeedHaStats {
  group: string;
  instance: string;
  /** Live members of the group, this one included. */
  members: number;
  keys: { apiKeyId: string; role: 'active' | 'standby' }[];
  /** Leases this instance took. */
  takeovers: number;
  /** Keys given up, by reason (fenced, stolen, released, rebalanced). */
  lost: Record<string, number>;
  renew: { count: number; failures: number; lastMs: number; maxMs: number; totalMs: number };
}

/** The manager's counters, flat (the CLI's `CliStatsSnapshot` has this shape). */
export interface FeedSnapshot {
  /** Epoch ms the snapshot was taken. */
  at: number;
  uptimeMs: number;
  apiKeys: FeedApiKeyStats[];
  /** With `stream --ha` only. */
  ha?: FeedHaStats;
}

/** What a sink attaches to. The manager itself fits the event half; the CLI adds raw frames and stats. */
export interface TickFeed {
  on<E extends keyof TickFeedEvents>(event: E, listener: (...args: TickFeedEvents[E]) => void): unknown;
  off<E extends keyof TickFeedEvents>(event: E, listener: (...args: TickFeedEvents[E]) => void): unknown;
  /** The manager's counters now. */
  snapshot(): FeedSnapshot;
}

export interface TickSink {
  /** Short and stable ("nats", "recorder", "prometheus"): names the sink in messages. */
  readonly name: string;
  /** Asks for `rawFrame` events: the manager must be built with its sockets tapped. */
  readonly wantsRawFrames?: boolean;
  /**
   * Starts listening (and opens what the sink needs: a file, a port). A rejection leaves nothing open;
   * the caller then does not call close(). A sink that can serve several feeds at once (NATS) may
   * return a function that detaches this one feed; close() detaches every feed either way.
   */
  attach(feed: TickFeed): Promise<void> | void | (() => void);
  /** The sink's own counters (never secrets). */
  stats(): object;
  /**
   * Detaches and flushes. `deadline` settles when waiting must end (a stop by signal): a sink then
   * gives up on what it could not hand over, counts it, and resolves. Idempotent.
   */
  close(deadline?: Promise<unknown>): Promise<void>;
}
