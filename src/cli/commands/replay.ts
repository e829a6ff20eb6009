/**
 * `kiteticker replay FILE`: decodes a `.ktrec` recording as ndjson (the same lines as `stream`) or
 * through the live view, at the recorded pace times `--speed` (0 = as fast as possible).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerMs } from '../../config/validate.js';
import { decodeFrame } from '../../protocol/index.js';
import type { ProtocolErrorInfo, Tick } from '../../protocol/types.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { type CliIo, STOP_FLUSH_MS, StopRequest } from '../io.js';
import { LiveView } from '../live-view.js';
import { ticksToNdjson } from '../ndjson.js';
import { OutputSink } from '../output.js';
import { parseChoice, parseInteger, parseNumber, parsePort, parseSeconds } from '../parse.js';
import { type RecordingMetadata, RecordKind, readRecording, UNKNOWN_CONNECTION } from '../recording.js';
import { type CliConnectionStats, type CliStatsSnapshot, RateTracker } from '../snapshot.js';
import { renderSummary } from '../summary.js';
import { terminalLine } from '../terminal-text.js';
import { type QuoteRow, renderView } from '../view.js';
import type { ReplayConfig, ReplayServeOptions } from './replay-types.js';

const NO_TICKS: readonly Tick[] = [];

export interface RawReplayOptions {
  format?: string;
  speed?: string;
  quotes?: string;
  summary?: boolean;
  serve?: boolean;
  port?: string;
  host?: string;
  loop?: boolean;
  keys?: string;
  duration?: string;
  ignoreSubscriptions?: boolean;
}

/** Flags that only mean something with --serve, and the name to report them by. */
const SERVE_ONLY: readonly [keyof RawReplayOptions, string][] = [
  ['port', '--port'],
  ['host', '--host'],
  ['loop', '--loop'],
  ['keys', '--keys'],
  ['duration', '--duration'],
  ['ignoreSubscriptions', '--ignore-subscriptions'],
];

function resolveServeOptions(raw: RawReplayOptions): ReplayServeOptions | undefined {
  if (raw.serve !== true) {
    const stray = SERVE_ONLY.find(([key]) => raw[key] !== undefined);
    if (stray) throw new UsageError(`${stray[1]} needs --serve`);
    return undefined;
  }
  if (raw.format !== undefined) throw new UsageError('--format cannot be combined with --serve');
  return {
    port: raw.port === undefined ? 0 : parsePort('--port', raw.port),
    host: raw.host ?? '127.0.0.1',
    loop: raw.loop === true,
    keys: raw.keys === undefined ? 3 : parseInteger('--keys', raw.keys, 1, 20),
    ignoreSubscriptions: raw.ignoreSubscriptions === true,
    durationMs: raw.duration === undefined ? undefined : parseSeconds('--duration', raw.duration),
  };
}

export function resolveReplayConfig(file: string, raw: RawReplayOptions, isTty: boolean): ReplayConfig {
  const serve = resolveServeOptions(raw);
  const choice =
    raw.format === undefined
      ? 'auto'
      : parseChoice('--format', raw.format, ['auto', 'view', 'ndjson'] as const);
  const format = choice === 'auto' ? (isTty ? 'view' : 'ndjson') : choice;
  const speed =
    raw.speed === undefined
      ? format === 'view' || serve !== undefined
        ? 1
        : 0
      : parseNumber('--speed', raw.speed, 0, 1_000_000, 'a speed factor');
  return {
    file,
    format,
    speed,
    quotes: raw.quotes === undefined ? 20 : parseInteger('--quotes', raw.quotes, 0, 1000),
    summary: raw.summary ?? true,
    serve,
  };
}

/** Per-source counters shaped as a stats snapshot, so the view and summary render a replay as a stream. */
class ReplayStats {
  private readonly keys = new Map<string, Map<number, CliConnectionStats>>();
  readonly startedAt = Date.now();
  /** Recorded time of the last record (the replay clock). */
  clock = 0;
  firstTime: number | undefined;
  protocolErrors = 0;
  private readonly lastTimes = new Map<CliConnectionStats, number>();
  private readonly tokens = new Map<CliConnectionStats, Set<number>>();

  add(apiKeyId: string, connection: number, time: number, bytes: number, ticks: readonly Tick[]): void {
    let conns = this.keys.get(apiKeyId);
    if (!conns) this.keys.set(apiKeyId, (conns = new Map()));
    const index = connection === UNKNOWN_CONNECTION ? 0 : connection;
    let c = conns.get(index);
    if (!c) {
      c = {
        index,
        status: 'replay',
        connected: true,
        symbols: 0,
        frames: 0,
        ticks: 0,
        bytes: 0,
        reconnects: 0,
        protocolErrors: 0,
        lastFrameAgeMs: null,
      };
      conns.set(index, c);
      this.tokens.set(c, new Set());
    }
    c.frames++;
    c.ticks += ticks.length;
    c.bytes += bytes;
    this.lastTimes.set(c, time);
    // Instruments are the distinct tokens seen: a recording does not hold the subscription list.
    const seen = this.tokens.get(c)!;
    for (let i = 0; i < ticks.length; i++) seen.add(ticks[i]!.instrument_token);
  }

  snapshot(): CliStatsSnapshot {
    const apiKeys = [...this.keys.entries()].map(([apiKeyId, conns]) => ({
      apiKeyId,
      state: 'replay',
      drops: 0,
      connections: [...conns.values()].map((c) => ({
        ...c,
        symbols: this.tokens.get(c)?.size ?? 0,
        lastFrameAgeMs: Math.max(0, this.clock - (this.lastTimes.get(c) ?? this.clock)),
      })),
    }));
    const uptimeMs = this.firstTime === undefined ? 0 : this.clock - this.firstTime;
    return { at: Date.now(), uptimeMs, apiKeys };
  }
}

export async function runReplay(config: ReplayConfig, io: CliIo): Promise<number> {
  const say = (line: string): void => {
    io.stderr.write(`${terminalLine(line)}\n`);
  };
  const stop = new StopRequest();
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  const stats = new ReplayStats();
  const onProtocolError = (_info: ProtocolErrorInfo): void => {
    stats.protocolErrors++;
  };
  let metadata: RecordingMetadata | undefined;
  let view: LiveView | undefined;
  let output: OutputSink | undefined;
  const quoteRows: QuoteRow[] = [];
  const rowByToken = new Map<number, QuoteRow>();
  let exitCode: number = ExitCode.Ok;
  io.stdout.on('error', () => stop.request('output closed'));
  try {
    if (config.format === 'ndjson')
      output = new OutputSink(io.stdout, { onClosed: () => stop.request('output closed') });
    const wallStart = Date.now();
    for await (const event of readRecording(config.file)) {
      if (stop.requested) break;
      if (event.type === 'header') {
        metadata = event.metadata;
        for (const q of (metadata.quoteSymbols ?? []).slice(0, config.quotes)) {
          const row: QuoteRow = { token: q.token, symbol: q.symbol, tick: undefined, receivedAt: undefined };
          quoteRows.push(row);
          rowByToken.set(q.token, row);
        }
        if (config.format === 'view') {
          const meta = metadata;
          const rates = new RateTracker();
          view = new LiveView(io.stdout, (size) => {
            const snapshot = stats.snapshot();
            rates.update(snapshot);
            return renderView(
              {
                title: `kiteticker replay · ${config.file} · recorded ${meta.createdAt} from ${meta.endpoint} · mode ${meta.mode}`,
                snapshot,
                rates,
                quotes: quoteRows,
                notice: config.speed === 0 ? 'speed: as fast as possible' : `speed x${config.speed}`,
              },
              size,
            );
          });
          view.start();
        }
        continue;
      }
      if (event.type === 'end') {
        if (event.corruptOffset !== undefined) {
          say(
            `kiteticker: warning: ${config.file}: corrupt record at byte ${event.corruptOffset}; replay stopped there`,
          );
        } else if (event.truncatedBytes > 0) {
          say(
            `kiteticker: warning: ${config.file}: ignored a truncated record at the end (${event.truncatedBytes} bytes)`,
          );
        }
        break;
      }
      stats.firstTime ??= event.time;
      if (config.speed > 0) {
        const due = wallStart + (event.time - stats.firstTime) / config.speed;
        const wait = due - Date.now();
        if (wait > 2) await Promise.race([sleep(timerMs(wait)), stop.promise]);
        if (stop.requested) break;
      }
      stats.clock = event.time;
      const apiKeyId = metadata?.sources[event.source] ?? 'unknown';
      if (event.kind !== RecordKind.Binary) {
        stats.add(apiKeyId, event.connection, event.time, event.payload.length, NO_TICKS);
        continue;
      }
      const ticks = decodeFrame(event.payload, onProtocolError);
      stats.add(apiKeyId, event.connection, event.time, event.payload.length, ticks);
      if (output) {
        output.write(ticksToNdjson(ticks, apiKeyId));
        await output.ready(stop.promise);
      } else {
        for (const tick of ticks) {
          let row = rowByToken.get(tick.instrument_token);
          if (row === undefined && quoteRows.length < config.quotes) {
            row = {
              token: tick.instrument_token,
              symbol: String(tick.instrument_token),
              tick: undefined,
              receivedAt: undefined,
            };
            quoteRows.push(row);
            rowByToken.set(row.token, row);
          }
          if (row) {
            row.tick = tick;
            row.receivedAt = Date.now();
          }
        }
      }
    }
  } catch (error) {
    exitCode = exitCodeOf(error);
    view?.stop();
    view = undefined;
    say(`kiteticker: error: ${(error as Error).message}`);
  } finally {
    view?.stop();
    // Signals stay handled until here: a SIGTERM during this wait ends it (see afterSignal).
    await output?.flush(stop.afterSignal(STOP_FLUSH_MS));
    removeSignals();
  }
  if (config.summary && metadata !== undefined) {
    const snapshot = stats.snapshot();
    io.stderr.write(
      renderSummary(snapshot, Math.max(1, snapshot.uptimeMs), {
        outputDrops: output?.droppedBatches ?? 0,
        reason: stop.reason ?? 'end of recording',
        title: 'kiteticker replay summary',
        clock: 'recorded',
      }),
    );
    if (stats.protocolErrors > 0) say(`  bad packets  ${stats.protocolErrors}`);
  }
  return exitCode;
}
