/**
 * The NATS sink's options: defaults, and the checks that fail at construction (the sink's one
 * configuration source; the ranges come from src/config). Secrets in the options are not read here.
 *
 * Separate from sink.ts because validation runs once and says nothing about publishing.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { MAX_CHANNEL_CAPACITY, TIMEOUT } from '../config/limits.js';
import { count, duration } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { duplicateWindowMs } from './jetstream.js';
import { DEFAULT_MAX_SUBJECTS } from './subject-cache.js';
import { DEFAULT_SUBJECT_PREFIX, validatePrefix } from './subjects.js';
import type { NatsTickSinkOptions, TickEncoding } from './types.js';

export const NATS_SINK_DEFAULTS = {
  maxBufferedMessages: 50_000,
  maxPendingBytes: 8 * 1024 * 1024,
  connectTimeoutMs: 10_000,
  apiKeyId: 'default',
} as const;

/** The sink's options with defaults filled in (the connection-related ones stay on the options object). */
export interface ResolvedSinkOptions {
  readonly logger: Logger;
  readonly prefix: string;
  readonly encoding: TickEncoding;
  readonly defaultApiKeyId: string;
  /** Capacity of the outbox (messages kept while NATS is unreachable). */
  readonly maxBuffered: number;
  readonly maxPendingBytes: number;
  /** Start a confirming round trip once this many bytes are unconfirmed. */
  readonly flushEveryBytes: number;
  readonly maxSubjects: number;
  readonly instanceId: string;
  /** Set `Nats-Msg-Id` on ticks (JetStream on, `dedupe` not false). */
  readonly msgIds: boolean;
}

/** @throws InvalidArgumentError naming the first bad option. */
export function resolveSinkOptions(options: NatsTickSinkOptions): ResolvedSinkOptions {
  const logger = options.logger ?? silentLogger;
  const prefix = validatePrefix(options.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX);
  const encoding = options.encoding ?? 'binary';
  if (encoding !== 'binary' && encoding !== 'json') {
    throw new InvalidArgumentError(`encoding must be 'binary' or 'json', got ${JSON.stringify(encoding)}`);
  }
  // The outbox allocates its ring up front: bound it as a channel is bounded.
  const maxBuffered = count(options.maxBufferedMessages, 'maxBufferedMessages', {
    min: 0,
    max: MAX_CHANNEL_CAPACITY,
    default: NATS_SINK_DEFAULTS.maxBufferedMessages,
  });
  const maxPendingBytes = count(options.maxPendingBytes, 'maxPendingBytes', {
    min: 1024,
    default: NATS_SINK_DEFAULTS.maxPendingBytes,
  });
  // Checked here; read from the options when dialling (nats-connection.ts).
  duration(options.connectTimeoutMs, 'connectTimeoutMs', {
    ...TIMEOUT,
    default: NATS_SINK_DEFAULTS.connectTimeoutMs,
  });
  const maxSubjects = options.maxSubjects ?? DEFAULT_MAX_SUBJECTS;
  if (!Number.isSafeInteger(maxSubjects) || maxSubjects < 2) {
    throw new InvalidArgumentError(`maxSubjects must be a whole number >= 2, got ${String(maxSubjects)}`);
  }
  const js = options.jetstream;
  // Checked here so a bad window fails at construction, not at connect().
  if (typeof js === 'object' && js !== null) duplicateWindowMs(js);
  return {
    instanceId: resolveInstanceId(options.instanceId),
    msgIds: js === true || (typeof js === 'object' && js !== null && js.dedupe !== false),
    logger,
    prefix,
    encoding,
    defaultApiKeyId: options.apiKeyId ?? NATS_SINK_DEFAULTS.apiKeyId,
    maxBuffered,
    maxPendingBytes,
    flushEveryBytes: Math.min(256 * 1024, Math.floor(maxPendingBytes / 4)),
    maxSubjects,
  };
}

const utf8 = new TextEncoder();

/** The instance id the sink puts on every tick: given (checked), or host:pid:random. */
export function resolveInstanceId(given: string | undefined): string {
  if (given === undefined) {
    // The hostname is cut so the default always fits the 255-byte header field.
    const host =
      hostname()
        .slice(0, 64)
        .replace(/[^\x21-\x7e]/g, '_') || 'host';
    return `${host}:${process.pid}:${randomBytes(4).toString('hex')}`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (typeof given !== 'string' || given.length === 0 || /[\u0000-\u001f\u007f-\u009f]/.test(given)) {
    throw new InvalidArgumentError('instanceId must be a non-empty string without control characters');
  }
  const bytes = utf8.encode(given).byteLength;
  if (bytes > 255) throw new InvalidArgumentError(`instanceId must be at most 255 UTF-8 bytes, got ${bytes}`);
  return given;
}
