/**
 * What every step of `stream`/`record` shares: the config, the process (io), the secrets every
 * written line is scrubbed of, the stop request and the disposer stack. Steps receive it and return
 * their own typed result; nothing else is shared between them.
 */
import { createJsonLogger } from '../../json-logger.js';
import { type Logger, silentLogger } from '../../logger.js';
import { type Readiness, readinessOf } from '../../manager/readiness.js';
import { createStderrLogger, withIds } from '../cli-logger.js';
import { type ApiKeyCredential, secretsOf } from '../credentials.js';
import { ExitCode } from '../exit-codes.js';
import { type CliIo, STOP_FLUSH_MS, StopRequest } from '../io.js';
import { OutputSink } from '../output.js';
import type { StreamConfig } from '../stream-config.js';
import { terminalLine } from '../terminal-text.js';
import { DisposerStack } from './disposers.js';

export interface StreamContext {
  readonly config: StreamConfig;
  readonly io: CliIo;
  /** Grows as steps learn secrets (simulator tokens, NATS credentials); read on every write. */
  readonly secrets: string[];
  /** The keys in use (the simulator's when it runs): the logger names sockets by their ids. */
  keys: readonly ApiKeyCredential[];
  readonly logger: Logger;
  readonly stop: StopRequest;
  readonly disposers: DisposerStack;
  /** Epoch ms the command began (a recording's `createdAt`). */
  readonly createdAt: number;
  /** Epoch ms streaming began (the run step sets it); the summary's duration runs from here. */
  startedAt: number;
  /** Epoch ms the stop was requested. */
  stoppedAt: number | undefined;
  /** Stdout as a line sink, with `--format ndjson` (flushed last when stopping, after the manager). */
  readonly output: OutputSink | undefined;
  /** Readiness now (/readyz, kiteticker_ready); 'not started' until the manager exists. */
  readiness: () => Readiness;
  /** What the command will exit with; a failure while stopping can still raise it. */
  exitCode: number;
  /** One line to stderr, made safe for a terminal and scrubbed of secrets. */
  say(line: string): void;
  /** Says `kiteticker: error: <message>` and makes the exit code a runtime failure. */
  fail(message: string): void;
  /** Settles STOP_FLUSH_MS after the first SIGINT/SIGTERM: the deadline of every wait while stopping. */
  stopDeadline(): Promise<void>;
}

export function createStreamContext(config: StreamConfig, io: CliIo): StreamContext {
  const secrets = secretsOf(config.credentials.keys);
  const json = config.service
    ? createJsonLogger({
        write: (l) => io.stderr.write(l),
        secrets: () => secrets,
        level: config.verbose ? 'debug' : 'info',
        fields: (obj) => withIds(obj, ctx.keys) as Record<string, unknown>,
      })
    : undefined;
  const say = (line: string): void => {
    if (json) serviceLine(json, terminalLine(line, secrets));
    else io.stderr.write(`${terminalLine(line, secrets)}\n`);
  };
  const stop = new StopRequest();
  const ctx: StreamContext = {
    config,
    io,
    secrets,
    keys: config.credentials.keys,
    // Read at log time: the keys are the simulator's once the credentials step ran.
    logger: json
      ? json
      : config.verbose
        ? createStderrLogger(
            (l) => io.stderr.write(l),
            secrets,
            () => ctx.keys,
          )
        : silentLogger,
    stop,
    disposers: new DisposerStack(),
    createdAt: Date.now(),
    startedAt: Date.now(),
    stoppedAt: undefined,
    output:
      config.format === 'ndjson'
        ? new OutputSink(io.stdout, { onClosed: () => stop.request('output closed') })
        : undefined,
    readiness: () => readinessOf(undefined),
    exitCode: ExitCode.Ok,
    say,
    fail(message) {
      say(`kiteticker: error: ${message}`);
      ctx.exitCode = ExitCode.Runtime;
    },
    stopDeadline: () => stop.afterSignal(STOP_FLUSH_MS),
  };
  void stop.promise.then(() => {
    ctx.stoppedAt = Date.now();
  });
  return ctx;
}

/**
 * A `kiteticker: ...` line as one JSON entry: its level from its words (the lines are written for
 * people; a service's log reader filters on `level`).
 */
export function serviceLine(logger: Logger, line: string): void {
  const msg = line.replace(/^kiteticker: /, '');
  if (/^error: /.test(msg)) logger.error({}, msg.slice(7));
  else if (/^warning: |refused|failed|cannot /i.test(msg)) logger.warn({}, msg.replace(/^warning: /, ''));
  else logger.info({}, msg);
}

/**
 * Wires the stop request to SIGINT/SIGTERM and to a closed stdout. Its disposers are pushed first, so
 * they run last: flush stdout within the stop deadline, then stop handling signals (a SIGTERM during
 * that flush still ends it).
 */
export function watchStop(ctx: StreamContext): void {
  const { io, stop } = ctx;
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  io.stdout.on('error', () => stop.request('output closed'));
  ctx.disposers.push('signal handlers', removeSignals);
  const output = ctx.output;
  if (output) ctx.disposers.push('stdout', (deadline) => output.flush(deadline));
}
