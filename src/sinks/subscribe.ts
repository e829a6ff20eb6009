/**
 * The consumer side: subscribe to tick subjects and iterate decoded ticks with their envelope
 * (`apiKeyId`, `receivedAt`, `sequence`, `gap`). Messages are decoded as they arrive and held in a
 * bounded queue for the reader; a reader slower than `maxPending` loses the oldest (counted, and visible
 * to it as gaps).
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { MAX_CHANNEL_CAPACITY } from '../config/limits.js';
import { count } from '../config/validate.js';
import { ConnectionError, InvalidArgumentError, UnexpectedError } from '../errors.js';
import { withUrlCredentials } from './auth.js';
import { ContinuityTracker } from './continuity.js';
import { decodeEnvelope } from './envelope.js';
import { GapTracker } from './gap-tracker.js';
import { redactNatsText, redactUrl } from './secrets.js';
import { DEFAULT_SUBJECT_PREFIX, filterSubject, validatePrefix } from './subjects.js';
import type { SubscribeTicksOptions, TickMessage, TickSubscription, TickSubscriptionStats } from './types.js';

const DEFAULT_MAX_PENDING = 100_000;

/**
 * Subscribes to ticks on `target` (a connection, or server URL(s) to connect to; such a connection is
 * closed with the subscription). Resolves once the server has registered the subscriptions, so every
 * tick published after that is delivered.
 */
export async function subscribeTicks(
  target: NatsConnection | string | string[],
  options: SubscribeTicksOptions = {},
): Promise<TickSubscription> {
  const prefix = validatePrefix(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const filters =
    options.filter === undefined ? [{}] : Array.isArray(options.filter) ? options.filter : [options.filter];
  if (filters.length === 0) throw new InvalidArgumentError('filter must name at least one subject');
  const subjects = [...new Set(filters.map((f) => filterSubject(prefix, f)))];
  const maxPending = count(options.maxPending, 'maxPending', {
    min: 1,
    max: MAX_CHANNEL_CAPACITY,
    default: DEFAULT_MAX_PENDING,
  });

  let nc: NatsConnection;
  let owned = false;
  if (typeof target === 'string' || Array.isArray(target)) {
    const { servers, options: authOptions } = withUrlCredentials(target, options.connectOptions);
    try {
      nc = await connect({
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1_000,
        ...authOptions,
        servers,
      });
    } catch (error) {
      const list = servers.map(redactUrl).join(', ');
      const detail = redactNatsText(error instanceof Error ? error.message : String(error), authOptions);
      throw new ConnectionError(`cannot connect to NATS at ${list}: ${detail}`);
    }
    owned = true;
  } else {
    nc = target;
  }

  // Key sequences count every tick of a key: checkable only when every tick subject arrives here.
  const everyTick = options.queue === undefined && subjects.includes(filterSubject(prefix, {}));
  const subscription = new QueuedTickSubscription(nc, owned, maxPending, options, everyTick);
  for (const subject of subjects) subscription.listen(subject);
  try {
    await nc.flush();
  } catch (error) {
    await subscription.close();
    throw new ConnectionError(`subscribing to ${subjects.join(', ')} failed: ${String(error)}`);
  }
  return subscription;
}

class QueuedTickSubscription implements TickSubscription {
  /** Private (#): NATS subscriptions reference the connection and its options (credentials). */
  readonly #subs: Subscription[] = [];
  private readonly tracker = new GapTracker();
  private readonly trackGaps: boolean;
  private queue: (TickMessage | undefined)[] = [];
  private head = 0;
  private waiter:
    | { resolve: (result: IteratorResult<TickMessage>) => void; reject: (error: Error) => void }
    | undefined;
  private failure: Error | undefined;
  private ended = false;
  private readonly counters = { received: 0, missed: 0, decodeErrors: 0, dropped: 0 };
  private readonly continuity: ContinuityTracker;

  /** Private (#): the connection and the options hold NATS credentials, which util.inspect would show. */
  readonly #nc: NatsConnection;
  readonly #options: SubscribeTicksOptions;

  constructor(
    nc: NatsConnection,
    private readonly owned: boolean,
    private readonly maxPending: number,
    options: SubscribeTicksOptions,
    everyTick: boolean,
  ) {
    this.#nc = nc;
    this.#options = options;
    // In a queue group each member sees only some messages of a subject: gaps would be noise.
    this.trackGaps = options.queue === undefined;
    this.continuity = new ContinuityTracker({
      keySequences: everyTick,
      ...(options.overlapMs !== undefined ? { overlapMs: options.overlapMs } : {}),
    });
  }

  listen(subject: string): void {
    const sub = this.#nc.subscribe(subject, {
      ...(this.#options.queue !== undefined ? { queue: this.#options.queue } : {}),
      callback: (error, msg) => {
        if (error) {
          this.fail(error);
          return;
        }
        this.onMessage(msg.subject, msg.data);
      },
    });
    this.#subs.push(sub);
  }

  private onMessage(subject: string, data: Uint8Array): void {
    if (this.ended) return;
    let message: TickMessage;
    try {
      const e = decodeEnvelope(data);
      const gap = this.trackGaps ? this.tracker.observe(subject, e.publisherId, e.sequence) : 0;
      message = {
        tick: e.tick,
        apiKeyId: e.apiKeyId,
        receivedAt: e.receivedAt,
        sequence: e.sequence,
        publisherId: e.publisherId,
        instanceId: e.instanceId,
        keySequence: e.keySequence,
        gap,
        subject,
      };
    } catch (error) {
      this.counters.decodeErrors++;
      this.report(() =>
        this.#options.onError?.(error instanceof Error ? error : new UnexpectedError(String(error)), subject),
      );
      return;
    }
    const event = this.continuity.observe(
      message.apiKeyId,
      message.instanceId,
      message.keySequence,
      message.receivedAt,
      message.gap,
    );
    if (event !== undefined && this.#options.onContinuity) {
      const onContinuity = this.#options.onContinuity;
      this.report(() => onContinuity(event));
    }
    this.counters.received++;
    this.counters.missed += message.gap;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter.resolve({ value: message, done: false });
      return;
    }
    if (this.queue.length - this.head >= this.maxPending) {
      this.queue[this.head++] = undefined;
      this.counters.dropped++;
    }
    this.queue.push(message);
  }

  /** A user callback runs inside the NATS client's socket callback: what it throws must not escape. */
  private report(call: () => void): void {
    try {
      call();
    } catch {
      // The callback's own failure is its business; the subscription goes on.
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (!waiter) return;
    if (this.failure) waiter.reject(this.wrappedFailure(this.failure));
    else waiter.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<TickMessage>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head]!;
      this.queue[this.head++] = undefined;
      // Compact now and then so the array does not grow forever.
      if (this.head > 4096 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) return Promise.reject(this.wrappedFailure(this.failure));
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** A subscription error (permissions violation...) as our typed error. */
  private wrappedFailure(failure: Error): ConnectionError {
    return new ConnectionError(`tick subscription failed: ${failure.message}`, { cause: failure });
  }

  [Symbol.asyncIterator](): AsyncIterator<TickMessage> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }

  async close(): Promise<void> {
    if (this.ended && this.#subs.length === 0) return;
    this.finish();
    const subs = this.#subs.splice(0);
    for (const sub of subs) {
      if (!sub.isClosed()) sub.unsubscribe();
    }
    this.queue = [];
    this.head = 0;
    if (this.owned && !this.#nc.isClosed()) await this.#nc.close().catch(() => undefined);
  }

  stats(): TickSubscriptionStats {
    return { ...this.counters, ...this.continuity.counters };
  }
}
