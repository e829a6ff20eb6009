/**
 * Consumer-side continuity per API key, for publishers that hand keys over (high availability): which
 * instance publishes each key, whether its per-key sequence skipped numbers, and when another instance
 * took the key over (with the time between the last tick of the old one and the first of the new one).
 *
 * Subjects stay the same on failover, so the per-subject GapTracker cannot tell a handover from a restart;
 * this tracker follows the instance id the envelope carries. During a handover both instances may publish
 * for a moment: messages from the previous holder that keep arriving within `overlapMs` of its last one
 * are counted as overlap, not as a handover back and forth.
 */

const HALF_RANGE = 0x8000_0000;
/** Previous holders remembered per key (to recognise their late messages as overlap). */
const MAX_PREVIOUS = 4;

/** A sequence gap within one publishing instance, or a change of instance. */
export type ContinuityEvent =
  | {
      type: 'gap';
      apiKeyId: string;
      instanceId: string;
      /** Messages missing just before this one (by key sequence, or by subject sequence when filtered). */
      missing: number;
      /** The sequence after the gap. */
      sequence: number;
    }
  | {
      type: 'handover';
      apiKeyId: string;
      from: string;
      to: string;
      /** Publisher's receivedAt of the last message from `from` and of the first from `to` (epoch ms). */
      lastReceivedAt: number;
      firstReceivedAt: number;
      /** firstReceivedAt - lastReceivedAt: the gap as the publishers' clocks saw it (negative = overlap). */
      gapMs: number;
      /** The same gap measured by this consumer's clock between the two arrivals. */
      arrivalGapMs: number;
    };

export interface ContinuityOptions {
  /**
   * Check the per-key sequence (true when the consumer receives every tick subject of the prefix); when
   * false, `subjectGap` (the per-subject gap) is reported instead.
   */
  keySequences: boolean;
  /** Messages from a previous holder within this long of its last one are overlap. Default 5 000 ms. */
  overlapMs?: number;
  /** API keys tracked; beyond, the one first seen is forgotten (it starts afresh, no event). Default 10 000. */
  maxKeys?: number;
  /** Clock (tests). Default Date.now. */
  now?: () => number;
}

interface KeyState {
  instanceId: string;
  lastSequence: number;
  lastReceivedAt: number;
  lastArrival: number;
  /** Previous holders and when their last message arrived (local clock). */
  previous: Map<string, number>;
}

export interface ContinuityCounters {
  handovers: number;
  /** Gap events and the messages they say are missing. */
  keyGaps: number;
  keyMissed: number;
  /** Messages from a previous holder during a handover. */
  overlapping: number;
}

export class ContinuityTracker {
  private readonly byKey = new Map<string, KeyState>();
  private readonly keySequences: boolean;
  private readonly overlapMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;
  readonly counters: ContinuityCounters = { handovers: 0, keyGaps: 0, keyMissed: 0, overlapping: 0 };

  constructor(options: ContinuityOptions) {
    this.keySequences = options.keySequences;
    this.overlapMs = options.overlapMs ?? 5_000;
    this.maxKeys = Math.max(1, options.maxKeys ?? 10_000);
    this.now = options.now ?? Date.now;
  }

  /**
   * Follows one message; returns an event when it reveals a gap or a handover, otherwise undefined (the
   * common case allocates nothing). `keySequence` 0 means unknown (a version 1 publisher).
   */
  observe(
    apiKeyId: string,
    instanceId: string,
    keySequence: number,
    receivedAt: number,
    subjectGap: number,
  ): ContinuityEvent | undefined {
    const now = this.now();
    const state = this.byKey.get(apiKeyId);
    if (state === undefined) {
      if (this.byKey.size >= this.maxKeys) {
        const oldest = this.byKey.keys().next().value;
        if (oldest !== undefined) this.byKey.delete(oldest);
      }
      this.byKey.set(apiKeyId, {
        instanceId,
        lastSequence: keySequence,
        lastReceivedAt: receivedAt,
        lastArrival: now,
        previous: new Map(),
      });
      return undefined;
    }
    if (state.instanceId === instanceId)
      return this.sameInstance(apiKeyId, state, keySequence, receivedAt, now, subjectGap);
    const previousArrival = state.previous.get(instanceId);
    if (previousArrival !== undefined && now - previousArrival <= this.overlapMs) {
      state.previous.set(instanceId, now);
      this.counters.overlapping++;
      return undefined;
    }
    const event: ContinuityEvent = {
      type: 'handover',
      apiKeyId,
      from: state.instanceId,
      to: instanceId,
      lastReceivedAt: state.lastReceivedAt,
      firstReceivedAt: receivedAt,
      gapMs: receivedAt - state.lastReceivedAt,
      arrivalGapMs: now - state.lastArrival,
    };
    state.previous.delete(instanceId);
    state.previous.set(state.instanceId, state.lastArrival);
    if (state.previous.size > MAX_PREVIOUS) {
      const oldest = state.previous.keys().next().value;
      if (oldest !== undefined) state.previous.delete(oldest);
    }
    state.instanceId = instanceId;
    state.lastSequence = keySequence;
    state.lastReceivedAt = receivedAt;
    state.lastArrival = now;
    this.counters.handovers++;
    return event;
  }

  private sameInstance(
    apiKeyId: string,
    state: KeyState,
    keySequence: number,
    receivedAt: number,
    now: number,
    subjectGap: number,
  ): ContinuityEvent | undefined {
    state.lastArrival = now;
    if (receivedAt > state.lastReceivedAt) state.lastReceivedAt = receivedAt;
    let missing = 0;
    if (this.keySequences && keySequence !== 0) {
      // uint32, wraps: compare modulo 2^32. Old or repeated numbers are not gaps and do not move back.
      const ahead = (keySequence - state.lastSequence) >>> 0;
      if (ahead === 0 || ahead >= HALF_RANGE) return undefined;
      state.lastSequence = keySequence;
      missing = ahead - 1;
    } else {
      state.lastSequence = keySequence;
      missing = subjectGap;
    }
    if (missing === 0) return undefined;
    this.counters.keyGaps++;
    this.counters.keyMissed += missing;
    return { type: 'gap', apiKeyId, instanceId: state.instanceId, missing, sequence: keySequence };
  }

  /** API keys tracked now. */
  get size(): number {
    return this.byKey.size;
  }
}
