/**
 * `kiteticker replay FILE --serve`: a Kite-compatible server (the simulator with its market switched
 * off) that plays a `.ktrec` recording to whoever connects, with the recorded pacing times `--speed`.
 * Any Kite client works against it (ours, the official one): it connects with the printed test
 * credentials, subscribes, and receives the recorded packets of the tokens it subscribed, exactly as
 * they were received (modes included: a `mode` command does not change recorded packets). Heartbeats
 * flow while nothing is played. Playback starts when the first client subscribes, so nothing is played
 * to an empty room; `--loop` starts again at the end, otherwise the server stops after the last frame.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { timerMs } from '../../config/validate.js';
import { KiteSimulator } from '../../simulator/index.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { type CliIo, StopRequest } from '../io.js';
import { type RecordingMetadata, RecordKind, readRecording } from '../recording.js';
import { simCredentials } from '../sim-host.js';
import { escapeControls, terminalLine } from '../terminal-text.js';
import { formatInt, plural } from '../view.js';
import type { ReplayConfig, ReplayServeOptions } from './replay-config.js';

/** How often to look for the first subscribing client. */
const WAIT_POLL_MS = 50;
/** After the first subscription, time for the client's other connections to subscribe too. */
const START_GRACE_MS = 250;
/** After the last frame, time for the sockets to flush before the server closes them. */
const END_GRACE_MS = 500;
/** With --speed 0, yield to the event loop every this many frames so sockets get written. */
const FAST_YIELD_EVERY = 16;

interface Played {
  frames: number;
  packets: number;
  texts: number;
  passes: number;
  /** Frames that reached at least one socket. */
  delivered: number;
}

/** Reads only the header, so a bad file is a usage error before anything listens. */
async function readHeader(file: string): Promise<RecordingMetadata> {
  for await (const event of readRecording(file)) {
    if (event.type === 'header') return event.metadata;
  }
  // readRecording throws on a file without a header; this is not reached.
  throw new UsageError(`${file}: no recording header`);
}

export async function runReplayServe(
  config: ReplayConfig,
  serve: ReplayServeOptions,
  io: CliIo,
): Promise<number> {
  const say = (line: string): void => {
    io.stderr.write(`${terminalLine(line)}\n`);
  };
  const metadata = await readHeader(config.file);
  const keys = simCredentials(serve.keys);
  const simulator = new KiteSimulator({
    marketTicks: false,
    // The market is off: a one-instrument universe costs nothing to build.
    universeSize: 1,
    credentials: Object.fromEntries(keys.map((k) => [k.apiKey, k.accessToken])),
  });
  const stop = new StopRequest();
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  const timer =
    serve.durationMs === undefined ? undefined : setTimeout(() => stop.request('duration'), serve.durationMs);
  const cleanup = async (): Promise<void> => {
    removeSignals();
    clearTimeout(timer);
    await simulator.stop();
  };
  try {
    await simulator.start({ port: serve.port, host: serve.host });
  } catch (error) {
    await cleanup();
    const code = (error as NodeJS.ErrnoException).code;
    say(
      `kiteticker: error: cannot listen on ${serve.host}:${serve.port}: ${code ?? (error as Error).message}`,
    );
    return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
      ? ExitCode.Usage
      : exitCodeOf(error);
  }

  const url = simulator.url;
  const first = keys[0]!;
  const sampleTokens = (metadata.quoteSymbols ?? []).slice(0, 5).map((q) => q.token);
  const speed = config.speed === 0 ? 'as fast as possible' : `x${config.speed}`;
  const lines = [
    `kiteticker replay server listening on ${url}`,
    `  recording: ${config.file} (recorded ${metadata.createdAt} from ${metadata.endpoint}, mode ${metadata.mode}${metadata.instruments !== undefined ? `, ${plural(metadata.instruments, 'instrument')}` : ''})`,
    `  speed ${speed}, loop ${serve.loop ? 'on' : 'off'}; playback starts when a client subscribes${serve.ignoreSubscriptions ? '' : ' (clients get the packets of the tokens they subscribe)'}`,
    '  test credentials (api_key  access_token):',
    ...keys.map((k) => `    ${k.apiKey}  ${k.accessToken}`),
    `  try: KITE_API_KEY=${first.apiKey} KITE_ACCESS_TOKEN=${first.accessToken} kiteticker stream --url ${url} ${sampleTokens.length > 0 ? sampleTokens.join(' ') : 'TOKEN...'}`,
    'Ctrl-C to stop',
  ];
  // One write, so a reader never sees the URL without the credentials. The recording's metadata is
  // shared, untrusted text: shown escaped like anything else from outside.
  io.stdout.write(`${lines.map(escapeControls).join('\n')}\n`);

  const played: Played = { frames: 0, packets: 0, texts: 0, passes: 0, delivered: 0 };
  let exitCode: number = ExitCode.Ok;
  const clients = new Set<number>();
  simulator.on('connection', ({ id }) => clients.add(id));
  try {
    if (await waitForClient(simulator, serve.ignoreSubscriptions, stop)) {
      say('kiteticker: a client subscribed; playing');
      do {
        played.passes++;
        const ended = await playOnce(config, serve, simulator, stop, played);
        if (ended !== undefined) say(`kiteticker: warning: ${ended}`);
      } while (serve.loop && !stop.requested);
      if (!stop.requested) {
        stop.request('end of recording');
        await Promise.race([sleep(END_GRACE_MS), stop.promise]);
      }
    }
  } catch (error) {
    exitCode = exitCodeOf(error);
    say(`kiteticker: error: ${(error as Error).message}`);
  } finally {
    await cleanup();
  }
  if (config.summary) {
    io.stderr.write(
      [
        `kiteticker replay server summary (stopped: ${stop.reason ?? 'error'})`,
        `  frames     ${formatInt(played.frames)} played (${formatInt(played.delivered)} to a client), ${formatInt(played.packets)} packets`,
        `  text       ${formatInt(played.texts)}`,
        `  passes     ${played.passes}`,
        `  clients    ${clients.size}`,
        '',
      ].join('\n'),
    );
  }
  return exitCode;
}

/** Resolves true once a client has subscribed (or connected, when subscriptions are ignored). */
async function waitForClient(
  simulator: KiteSimulator,
  anyConnection: boolean,
  stop: StopRequest,
): Promise<boolean> {
  while (!stop.requested) {
    const open = simulator.connections();
    if (open.some((c) => anyConnection || c.subscriptions.size > 0)) {
      await Promise.race([sleep(START_GRACE_MS), stop.promise]);
      return !stop.requested;
    }
    await Promise.race([sleep(WAIT_POLL_MS), stop.promise]);
  }
  return false;
}

/** One pass over the file. Returns a warning about its tail (truncated, corrupt), if any. */
async function playOnce(
  config: ReplayConfig,
  serve: ReplayServeOptions,
  simulator: KiteSimulator,
  stop: StopRequest,
  played: Played,
): Promise<string | undefined> {
  const injectOptions = { subscribedOnly: !serve.ignoreSubscriptions };
  const wallStart = Date.now();
  let firstTime: number | undefined;
  let sinceYield = 0;
  for await (const event of readRecording(config.file)) {
    if (stop.requested) return undefined;
    if (event.type === 'header') continue;
    if (event.type === 'end') {
      if (event.corruptOffset !== undefined)
        return `${config.file}: corrupt record at byte ${event.corruptOffset}; this pass stopped there`;
      if (event.truncatedBytes > 0)
        return `${config.file}: ignored a truncated record at the end (${event.truncatedBytes} bytes)`;
      return undefined;
    }
    firstTime ??= event.time;
    if (config.speed > 0) {
      const wait = wallStart + (event.time - firstTime) / config.speed - Date.now();
      if (wait > 2) await Promise.race([sleep(timerMs(wait)), stop.promise]);
      if (stop.requested) return undefined;
    } else if (++sinceYield >= FAST_YIELD_EVERY) {
      sinceYield = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // The payload is a view into the reader's buffer, which is never rewritten: safe to queue as is.
    const kind = event.kind === RecordKind.Text ? 'text' : 'binary';
    const sockets = simulator.injectFrame('all', event.payload, kind, injectOptions);
    played.frames++;
    if (sockets > 0) played.delivered++;
    if (kind === 'text') played.texts++;
    else if (event.payload.length >= 2) played.packets += (event.payload[0]! << 8) | event.payload[1]!;
  }
  return undefined;
}
