/**
 * `kiteticker subscribe --nats URL`: the consumer side of the NATS fan-out. Prints the ticks another
 * process publishes (`kiteticker stream --nats`, or any `NatsTickSink`) as ndjson, the same lines as
 * `stream` prints, optionally starting with the JetStream snapshot of the last tick per instrument
 * (`--latest`). The NATS client is an optional peer dependency, so it is loaded only here, on demand.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ConnectionError } from '../../errors.js';
import { withUrlCredentials } from '../../sinks/auth.js';
import type { ContinuityEvent } from '../../sinks/continuity.js';
import { redactUrl } from '../../sinks/secrets.js';
import { DEFAULT_SUBJECT_PREFIX, filterSubject, parseTickFilter } from '../../sinks/subjects.js';
import type { TickFilter, TickMessage, TickSubscription } from '../../sinks/types.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { type CliIo, STOP_FLUSH_MS, StopRequest } from '../io.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { tickToNdjson } from '../ndjson.js';
import { OutputSink } from '../output.js';
import { parseChoice, parseInteger, parseSeconds } from '../parse.js';
import { escapeJsonControls, terminalLine } from '../terminal-text.js';
import { formatInt } from '../view.js';

export const DEFAULT_SUBSCRIBE_NATS_URL = 'nats://127.0.0.1:4222';

export interface RawSubscribeOptions {
  nats?: string;
  filter?: string[];
  queue?: string;
  count?: string;
  latest?: boolean;
  format?: string;
  duration?: string;
  subjectPrefix?: string;
  envelope?: boolean;
  summary?: boolean;
  natsCreds?: string;
}

export interface SubscribeConfig {
  servers: string[];
  /** Parsed filters; at least one (`{}` = everything). */
  filters: TickFilter[];
  queue: string | undefined;
  /** Stop after this many ticks printed (snapshot included); undefined = no limit. */
  count: number | undefined;
  latest: boolean;
  format: 'ndjson' | 'none';
  durationMs: number | undefined;
  subjectPrefix: string;
  /** Add receivedAt, sequence, gap and subject to each line. */
  envelope: boolean;
  summary: boolean;
  /** A NATS .creds file to authenticate with. */
  natsCreds: string | undefined;
}

export function resolveSubscribeConfig(raw: RawSubscribeOptions): SubscribeConfig {
  const servers = (raw.nats ?? DEFAULT_SUBSCRIBE_NATS_URL)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (servers.length === 0) throw new UsageError('--nats: expected a NATS URL such as nats://127.0.0.1:4222');
  for (const s of servers) {
    let url: URL | undefined;
    try {
      url = new URL(s.includes('://') ? s : `nats://${s}`);
    } catch {
      url = undefined;
    }
    if (
      url === undefined ||
      !['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) ||
      url.hostname === ''
    ) {
      throw new UsageError(`--nats: not a NATS URL: ${JSON.stringify(redactUrl(s))}`);
    }
  }
  const subjectPrefix = raw.subjectPrefix ?? DEFAULT_SUBJECT_PREFIX;
  const texts = raw.filter === undefined || raw.filter.length === 0 ? ['all'] : raw.filter;
  const filters = texts.map((text) => {
    const filter = parseTickFilter(text, subjectPrefix);
    // Builds the subject now, so a bad exchange or token is a usage error before connecting.
    filterSubject(subjectPrefix, filter);
    return filter;
  });
  if (raw.queue !== undefined && !/^[A-Za-z0-9_.-]+$/.test(raw.queue)) {
    throw new UsageError(
      `--queue: expected letters, digits, '_', '-' or '.', got ${JSON.stringify(raw.queue)}`,
    );
  }
  return {
    servers,
    filters,
    queue: raw.queue,
    count:
      raw.count === undefined ? undefined : parseInteger('--count', raw.count, 1, Number.MAX_SAFE_INTEGER),
    latest: raw.latest === true,
    format:
      raw.format === undefined ? 'ndjson' : parseChoice('--format', raw.format, ['ndjson', 'none'] as const),
    durationMs: raw.duration === undefined ? undefined : parseSeconds('--duration', raw.duration),
    subjectPrefix,
    envelope: raw.envelope === true,
    summary: raw.summary ?? true,
    natsCreds: raw.natsCreds,
  };
}

type SinksModule = typeof import('../../sinks/index.js');
type TransportModule = typeof import('@nats-io/transport-node');

const MISSING_PACKAGE =
  'subscribe needs the optional package @nats-io/transport-node (npm install @nats-io/transport-node)';

async function loadNats(): Promise<{ sinks: SinksModule; transport: TransportModule }> {
  try {
    const [sinks, transport] = await Promise.all([
      import('../../sinks/index.js'),
      import('@nats-io/transport-node'),
    ]);
    return { sinks, transport };
  } catch (error) {
    throw new UsageError(`${MISSING_PACKAGE}: ${(error as Error).message}`);
  }
}

/** The publisher's key id and the subject come off the bus: DEL and C1 controls are escaped too. */
function toLine(message: TickMessage, envelope: boolean): string {
  const line = escapeJsonControls(tickToNdjson(message.tick, message.apiKeyId));
  if (!envelope) return `${line}\n`;
  return `${line.slice(0, -1)},"receivedAt":${message.receivedAt},"sequence":${message.sequence},"gap":${message.gap},"subject":${escapeJsonControls(JSON.stringify(message.subject))},"instanceId":${escapeJsonControls(JSON.stringify(message.instanceId))},"keySequence":${message.keySequence}}\n`;
}

/** Continuity lines printed on stderr; beyond, events are only counted (a lossy bus must not flood it). */
const MAX_CONTINUITY_LINES = 100;

/** One stderr line for a gap or a handover. Ids come off the bus: terminalLine escapes them. */
function continuityLine(event: ContinuityEvent): string {
  if (event.type === 'handover') {
    return `kiteticker: key ${JSON.stringify(event.apiKeyId)}: handover from ${JSON.stringify(event.from)} to ${JSON.stringify(event.to)}, gap ${event.gapMs} ms (publishers' clocks; ${event.arrivalGapMs} ms here)`;
  }
  return `kiteticker: key ${JSON.stringify(event.apiKeyId)}: ${formatInt(event.missing)} ticks missing from ${JSON.stringify(event.instanceId)}`;
}

export async function runSubscribe(config: SubscribeConfig, io: CliIo): Promise<number> {
  const secrets = natsSecrets(io.env, config.servers);
  const say = (line: string): void => {
    io.stderr.write(`${terminalLine(line, secrets)}\n`);
  };
  const where = config.servers.map(redactUrl).join(', ');
  const { sinks, transport } = await loadNats();
  const stop = new StopRequest();
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  const timer =
    config.durationMs === undefined
      ? undefined
      : setTimeout(() => stop.request('duration'), config.durationMs);
  io.stdout.on('error', () => stop.request('output closed'));
  const output =
    config.format === 'ndjson'
      ? new OutputSink(io.stdout, { onClosed: () => stop.request('output closed') })
      : undefined;
  let nc: NatsConnection | undefined;
  let sub: TickSubscription | undefined;
  let printed = 0;
  let snapshotCount = 0;
  let exitCode: number = ExitCode.Ok;
  try {
    const connectOptions = {
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      name: 'kiteticker subscribe',
      ...(await natsAuthOptions(config.servers, config.natsCreds, io.env)),
    };
    if (config.latest) {
      // One connection for both, subscribed before the snapshot is read: nothing falls in between.
      const auth = withUrlCredentials(config.servers, connectOptions);
      nc = await transport.connect({ ...auth.options, servers: auth.servers }).catch((error: unknown) => {
        throw new ConnectionError(
          `cannot connect to NATS at ${where}: ${redactUrl((error as Error).message)}`,
        );
      });
    }
    let continuityLines = 0;
    const onContinuity = (event: ContinuityEvent): void => {
      if (continuityLines >= MAX_CONTINUITY_LINES) return;
      continuityLines++;
      say(continuityLine(event));
      if (continuityLines === MAX_CONTINUITY_LINES)
        say('kiteticker: further gaps and handovers are only counted (see the summary)');
    };
    sub = await sinks.subscribeTicks(nc ?? config.servers, {
      filter: config.filters,
      onContinuity,
      subjectPrefix: config.subjectPrefix,
      ...(config.queue !== undefined ? { queue: config.queue } : {}),
      ...(nc === undefined ? { connectOptions } : {}),
    });
    const subjects = [...new Set(config.filters.map((f) => filterSubject(config.subjectPrefix, f)))];
    say(
      `kiteticker: subscribed to ${subjects.join(', ')} on ${where}${config.queue !== undefined ? ` (queue ${config.queue})` : ''}`,
    );
    const subscription = sub;
    void stop.promise.then(() => subscription.close());

    const emit = async (message: TickMessage): Promise<void> => {
      printed++;
      if (output) {
        output.write(toLine(message, config.envelope));
        await output.ready(stop.promise);
      }
      if (config.count !== undefined && printed >= config.count) stop.request('count');
    };

    // Snapshot first. A live message older than (or equal to) the snapshot's for its subject is a
    // duplicate of it, and is skipped.
    const seen = new Map<string, { publisherId: number; sequence: number }>();
    if (nc !== undefined) {
      for (const filter of config.filters) {
        if (stop.requested) break;
        const latest = await sinks.latestTicks(nc, { filter, subjectPrefix: config.subjectPrefix });
        for (const message of latest) {
          if (stop.requested || seen.has(message.subject)) continue;
          seen.set(message.subject, { publisherId: message.publisherId, sequence: message.sequence });
          snapshotCount++;
          await emit(message);
        }
      }
      say(`kiteticker: ${formatInt(snapshotCount)} ticks from the JetStream snapshot, then live`);
    }

    if (!stop.requested) {
      for await (const message of subscription) {
        if (stop.requested) break;
        if (seen.size > 0) {
          const last = seen.get(message.subject);
          if (last !== undefined) {
            if (last.publisherId === message.publisherId && message.sequence <= last.sequence) continue;
            seen.delete(message.subject);
          }
        }
        await emit(message);
        if (stop.requested) break;
      }
      // The iterator ends on its own only when the subscription is closed or NATS closed it.
      stop.request(stop.reason ?? 'subscription closed');
    }
  } catch (error) {
    exitCode = exitCodeOf(error);
    const message = redactUrl((error as Error).message ?? String(error));
    say(`kiteticker: error: ${message}`);
    if (exitCode === ExitCode.Usage) say('(add --help for usage)');
  } finally {
    clearTimeout(timer);
    await sub?.close().catch(() => undefined);
    if (nc !== undefined && !nc.isClosed()) await nc.close().catch(() => undefined);
    // Signals stay handled until here: a SIGTERM during this wait ends it (see afterSignal).
    await output?.flush(stop.afterSignal(STOP_FLUSH_MS));
    removeSignals();
  }
  if (config.summary && sub !== undefined) {
    const stats = sub.stats();
    io.stderr.write(
      [
        `kiteticker subscribe summary (stopped: ${stop.reason ?? 'error'})`,
        `  ticks      ${formatInt(printed)} printed${config.latest ? ` (${formatInt(snapshotCount)} from the snapshot)` : ''}`,
        `  received   ${formatInt(stats.received)} live`,
        `  missed     ${formatInt(stats.missed)} (sequence gaps)`,
        `  handovers  ${formatInt(stats.handovers)} (publisher changes per key), ${formatInt(stats.overlapping)} ticks from the previous publisher while handing over`,
        `  key gaps   ${formatInt(stats.keyGaps)} (${formatInt(stats.keyMissed)} ticks)`,
        `  dropped    ${formatInt(stats.dropped)} (reader too slow), ${formatInt(output?.droppedBatches ?? 0)} (output)`,
        ...(stats.decodeErrors > 0 ? [`  bad msgs   ${formatInt(stats.decodeErrors)}`] : []),
        '',
      ].join('\n'),
    );
  }
  return exitCode;
}
