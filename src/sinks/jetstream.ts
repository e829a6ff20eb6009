/**
 * JetStream "last tick per instrument": a stream on `<prefix>.tick.>` with max-msgs-per-subject 1, so
 * the server keeps exactly the latest tick of every instrument and a consumer that starts late can read
 * the whole market at once. The sink keeps publishing with core NATS (no per-message ack round trip);
 * the stream captures those messages by subject.
 *
 * `@nats-io/jetstream` is an optional peer dependency: loaded on first use only.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { TIMEOUT } from '../config/limits.js';
import { duration } from '../config/validate.js';
import { ConnectionError, InvalidArgumentError, KiteTickerError } from '../errors.js';
import { decodeEnvelope } from './envelope.js';
import { DEFAULT_SUBJECT_PREFIX, filterSubject, validatePrefix } from './subjects.js';
import type { LastTickStreamOptions, TickFilter, TickMessage } from './types.js';

export const DEFAULT_STREAM = 'KITE_TICKS';
/**
 * How long the stream remembers `Nats-Msg-Id`s. Covers a handover overlap (a lease TTL of a few seconds)
 * with room to spare; the server keeps every id for this long, so at 5 000 ticks/s about 150 000 ids.
 */
export const DEFAULT_DUPLICATE_WINDOW_MS = 30_000;
const NANOS_PER_MS = 1_000_000;

/** The stream's duplicate window in ms, checked (at least 100 ms, at most what a timer holds). */
export function duplicateWindowMs(options: LastTickStreamOptions): number {
  return duration(options.duplicateWindowMs, 'duplicateWindowMs', {
    ...TIMEOUT,
    default: DEFAULT_DUPLICATE_WINDOW_MS,
  });
}

type JetStreamModule = typeof import('@nats-io/jetstream');

async function loadJetStream(): Promise<JetStreamModule> {
  try {
    return await import('@nats-io/jetstream');
  } catch (cause) {
    throw new InvalidArgumentError(
      'the JetStream features need the package @nats-io/jetstream (npm i @nats-io/jetstream)',
      {
        cause,
      },
    );
  }
}

/** Creates the stream, or makes an existing one keep one message per subject. Returns its name. */
export async function ensureLastTickStream(
  nc: NatsConnection,
  subjectPrefix: string = DEFAULT_SUBJECT_PREFIX,
  options: LastTickStreamOptions = {},
): Promise<string> {
  const name = options.stream ?? DEFAULT_STREAM;
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new InvalidArgumentError(
      `stream name must be letters, digits, '_' or '-', got ${JSON.stringify(name)}`,
    );
  }
  const subject = `${validatePrefix(subjectPrefix)}.tick.>`;
  const windowNanos = duplicateWindowMs(options) * NANOS_PER_MS;
  const js = await loadJetStream();
  const jsm = await js.jetstreamManager(nc);
  let existing: Awaited<ReturnType<typeof jsm.streams.info>> | undefined;
  try {
    existing = await jsm.streams.info(name);
  } catch (error) {
    if (!isStreamNotFound(error, js)) throw wrap(error, `cannot read stream ${name}`);
  }
  try {
    if (!existing) {
      await jsm.streams.add({
        name,
        subjects: [subject],
        max_msgs_per_subject: 1,
        storage: options.storage === 'file' ? js.StorageType.File : js.StorageType.Memory,
        num_replicas: options.replicas ?? 1,
        discard: js.DiscardPolicy.Old,
        duplicate_window: windowNanos,
      });
    } else if (
      existing.config.max_msgs_per_subject !== 1 ||
      !existing.config.subjects?.includes(subject) ||
      existing.config.duplicate_window !== windowNanos
    ) {
      const subjects = existing.config.subjects ?? [];
      await jsm.streams.update(name, {
        subjects: subjects.includes(subject) ? subjects : [...subjects, subject],
        max_msgs_per_subject: 1,
        duplicate_window: windowNanos,
      });
    }
  } catch (error) {
    throw wrap(error, `cannot create or update stream ${name}`);
  }
  return name;
}

export interface LatestTicksOptions {
  /** Default 'KITE_TICKS'. */
  stream?: string;
  /** Default: every instrument. */
  filter?: TickFilter;
  /** Default 'kite'. */
  subjectPrefix?: string;
  /** Give up waiting for the messages after this long. Default 5 000 ms. */
  timeoutMs?: number;
}

/**
 * Reads the last stored tick of every subject matching the filter (one message per instrument), oldest
 * first. Uses an ordered consumer with deliver policy last-per-subject (nats-server 2.9.4+); it is removed
 * by the server when idle.
 */
export async function latestTicks(
  nc: NatsConnection,
  options: LatestTicksOptions = {},
): Promise<TickMessage[]> {
  const prefix = validatePrefix(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const timeoutMs = duration(options.timeoutMs, 'timeoutMs', { ...TIMEOUT, default: 5_000 });
  const subject = filterSubject(prefix, options.filter ?? {});
  const stream = options.stream ?? DEFAULT_STREAM;
  const js = await loadJetStream();
  const client = js.jetstream(nc);
  const out: TickMessage[] = [];
  try {
    const consumer = await client.consumers.get(stream, {
      filter_subjects: subject,
      deliver_policy: js.DeliverPolicy.LastPerSubject,
      inactive_threshold: 30_000,
    });
    const info = await consumer.info(true);
    let pending = info.num_pending;
    if (pending === 0) return out;
    const messages = await consumer.fetch({ max_messages: pending, expires: timeoutMs });
    for await (const m of messages) {
      try {
        const envelope = decodeEnvelope(m.data);
        out.push({ ...envelope, gap: 0, subject: m.subject });
      } catch {
        // A message we cannot read (another publisher's format) is skipped, not fatal.
      }
      pending = m.info.pending;
      if (pending === 0) break;
    }
    await consumer.delete().catch(() => undefined);
  } catch (error) {
    throw wrap(error, `cannot read the latest ticks from stream ${stream}`);
  }
  return out;
}

/** JetStream API error 10059, "stream not found". */
function isStreamNotFound(error: unknown, js: JetStreamModule): boolean {
  return error instanceof js.JetStreamApiError && error.code === js.JetStreamApiCodes.StreamNotFound;
}

function wrap(error: unknown, what: string): KiteTickerError {
  if (error instanceof KiteTickerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  // The server refused or failed the request (JetStream disabled, no such stream, timeout...).
  return new ConnectionError(`${what}: ${detail}`, { cause: error });
}
