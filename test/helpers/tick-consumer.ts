/**
 * A recording tick consumer for failover tests and benchmarks: fed with every message a consumer gets
 * (core NATS via subscribeTicks, or a JetStream consumer), it keeps per API key the sequence gaps within
 * one publisher, the publisher changes (handovers) with their timing, the duplicates (the same tick
 * content delivered twice), and when each instrument last ticked; `report()` sums it up with
 * p50/p99/max of the handover gaps.
 *
 * Duplicates are recognised by the tick's content id (the JetStream msg id: key, token, mode, exchange
 * timestamp, packet hash), remembered for the last `maxRecentIds` messages: a tick repeating the same
 * values inside that horizon (an unchanged ltp) also counts as one, so feed it ticks that change.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { encodeTick } from '../../src/protocol/encode.js';
import { ContinuityTracker } from '../../src/sinks/continuity.js';
import { decodeEnvelope, type Envelope } from '../../src/sinks/envelope.js';
import { subscribeTicks } from '../../src/sinks/index.js';
import { tickMsgId } from '../../src/sinks/msg-id.js';
import type { SubscribeTicksOptions, TickSubscription } from '../../src/sinks/types.js';

/** The fields of a decoded envelope the recorder reads. */
export type RecordedMessage = Pick<
  Envelope,
  'tick' | 'apiKeyId' | 'instanceId' | 'keySequence' | 'receivedAt'
>;

export interface HandoverRecord {
  apiKeyId: string;
  from: string;
  to: string;
  /** Publishers' clocks: first receivedAt from `to` minus last from `from`. */
  gapMs: number;
  /** The consumer's clock: first arrival from `to` minus last arrival from `from`. */
  arrivalGapMs: number;
  /** When the first message from `to` arrived (consumer clock). */
  at: number;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface KeyReport {
  received: number;
  /** Gap events within one publisher and the messages they say are missing. */
  gaps: number;
  missing: number;
  duplicates: number;
  handovers: HandoverRecord[];
  /** Instances seen publishing this key, in order of first appearance. */
  instances: string[];
  /** Instruments seen for this key. */
  tokens: number;
}

export interface ConsumerReport {
  received: number;
  missing: number;
  duplicates: number;
  handovers: number;
  /** Handover gaps by the consumer's clock (what the takeover cost a consumer) and by the publishers'. */
  arrivalGapMs: Distribution;
  gapMs: Distribution;
  keys: Record<string, KeyReport>;
}

export interface TickRecorderOptions {
  /** Check per-key sequences (the consumer receives every tick). Default true. */
  keySequences?: boolean;
  /** See SubscribeTicksOptions.overlapMs. Default 5 000. */
  overlapMs?: number;
  /** Content ids remembered for duplicate detection. Default 200 000. */
  maxRecentIds?: number;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

interface KeyState {
  received: number;
  gaps: number;
  missing: number;
  duplicates: number;
  handovers: HandoverRecord[];
  instances: string[];
  /** Arrival time of each instrument's last tick. */
  lastByToken: Map<number, number>;
}

/** Nearest-rank percentiles; NaN fields for no values. */
export function distribution(values: readonly number[]): Distribution {
  if (values.length === 0) return { count: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted[sorted.length - 1]! };
}

export class TickRecorder {
  private readonly continuity: ContinuityTracker;
  private readonly keys = new Map<string, KeyState>();
  private readonly recent = new Set<string>();
  private readonly maxRecentIds: number;
  private readonly now: () => number;

  constructor(options: TickRecorderOptions = {}) {
    this.now = options.now ?? Date.now;
    this.maxRecentIds = options.maxRecentIds ?? 200_000;
    this.continuity = new ContinuityTracker({
      keySequences: options.keySequences ?? true,
      now: this.now,
      ...(options.overlapMs !== undefined ? { overlapMs: options.overlapMs } : {}),
    });
  }

  /** Records one message (`subjectGap`: the per-subject gap, used when key sequences are not checked). */
  record(message: RecordedMessage, subjectGap = 0): void {
    const arrival = this.now();
    const key = this.keyState(message.apiKeyId);
    key.received++;
    if (!key.instances.includes(message.instanceId)) key.instances.push(message.instanceId);
    key.lastByToken.set(message.tick.instrument_token, arrival);
    const id = tickMsgId(message.apiKeyId, message.tick, encodeTick(message.tick));
    if (this.recent.has(id)) key.duplicates++;
    else {
      this.recent.add(id);
      if (this.recent.size > this.maxRecentIds) {
        const oldest = this.recent.values().next().value;
        if (oldest !== undefined) this.recent.delete(oldest);
      }
    }
    const event = this.continuity.observe(
      message.apiKeyId,
      message.instanceId,
      message.keySequence,
      message.receivedAt,
      subjectGap,
    );
    if (event?.type === 'gap') {
      key.gaps++;
      key.missing += event.missing;
    } else if (event?.type === 'handover') {
      key.handovers.push({
        apiKeyId: event.apiKeyId,
        from: event.from,
        to: event.to,
        gapMs: event.gapMs,
        arrivalGapMs: event.arrivalGapMs,
        at: arrival,
      });
    }
  }

  /** Decodes a raw payload (e.g. from a JetStream consumer) and records it. */
  recordPayload(data: Uint8Array): void {
    this.record(decodeEnvelope(data));
  }

  /** Instruments of `apiKeyId` whose last tick arrived before `since` (consumer clock): silent ones. */
  silentTokens(apiKeyId: string, since: number): number[] {
    const key = this.keys.get(apiKeyId);
    if (!key) return [];
    return [...key.lastByToken].filter(([, at]) => at < since).map(([token]) => token);
  }

  /** Every handover seen, in order. */
  handovers(): HandoverRecord[] {
    return [...this.keys.values()].flatMap((k) => k.handovers).sort((a, b) => a.at - b.at);
  }

  report(): ConsumerReport {
    const keys: Record<string, KeyReport> = {};
    let received = 0;
    let missing = 0;
    let duplicates = 0;
    for (const [id, k] of this.keys) {
      keys[id] = {
        received: k.received,
        gaps: k.gaps,
        missing: k.missing,
        duplicates: k.duplicates,
        handovers: [...k.handovers],
        instances: [...k.instances],
        tokens: k.lastByToken.size,
      };
      received += k.received;
      missing += k.missing;
      duplicates += k.duplicates;
    }
    const all = this.handovers();
    return {
      received,
      missing,
      duplicates,
      handovers: all.length,
      arrivalGapMs: distribution(all.map((h) => h.arrivalGapMs)),
      gapMs: distribution(all.map((h) => h.gapMs)),
      keys,
    };
  }

  private keyState(apiKeyId: string): KeyState {
    let state = this.keys.get(apiKeyId);
    if (!state) {
      state = {
        received: 0,
        gaps: 0,
        missing: 0,
        duplicates: 0,
        handovers: [],
        instances: [],
        lastByToken: new Map(),
      };
      this.keys.set(apiKeyId, state);
    }
    return state;
  }
}

/**
 * Subscribes with subscribeTicks and records every message until `close()`. Key sequences are checked
 * when the subscription has no filter (it then sees every tick).
 */
export async function startTickConsumer(
  target: NatsConnection | string | string[],
  options: SubscribeTicksOptions & { recorder?: TickRecorderOptions } = {},
): Promise<{ recorder: TickRecorder; subscription: TickSubscription; close: () => Promise<void> }> {
  const { recorder: recorderOptions, ...subscribeOptions } = options;
  const recorder = new TickRecorder({
    keySequences: subscribeOptions.filter === undefined && subscribeOptions.queue === undefined,
    ...recorderOptions,
  });
  const subscription = await subscribeTicks(target, subscribeOptions);
  const loop = (async () => {
    for await (const message of subscription) recorder.record(message, message.gap);
  })();
  return {
    recorder,
    subscription,
    close: async () => {
      await subscription.close();
      await loop.catch(() => undefined);
    },
  };
}
