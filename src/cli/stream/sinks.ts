/**
 * Step 3: the sinks asked for (--metrics-port, record's --out, --nats), planned before the manager is
 * built (the recorder needs its sockets tapped) and attached in that order once it is, before anything
 * connects: a port in use or a recording that exists is a usage error before any socket opens, and a
 * configuration the library refuses fails before the recording file exists. A recording that holds no
 * frame when the run fails is removed, so a retry does not meet "already exists".
 */
import { redactUrl } from '../../redact.js';
import { PrometheusSink } from '../../sinks/prometheus/sink.js';
import { RecorderSink } from '../../sinks/recorder/sink.js';
import type { NatsTickSink } from '../../sinks/sink.js';
import type { TickFeed, TickSink } from '../../sinks/tick-sink.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { splitList } from '../parse.js';
import type { StreamContext } from './context.js';
import type { StreamCredentials } from './credentials.js';
import { healthRoutes, isLoopback } from './health.js';
import type { StreamInstruments } from './instruments.js';

export interface RecordTarget {
  path: string;
  /** Replace an existing file (`record --force`). */
  force?: boolean;
}

/** A sink and how this command opens it and explains its failures. */
interface PlannedSink {
  sink: TickSink;
  /** Runs before attach: NATS connects here (a rejection is a runtime failure, exit 1). */
  open?: () => Promise<void>;
  /** An attach failure as the user should read it. */
  explain?: (error: NodeJS.ErrnoException) => Error;
  /** A close failure that makes the run fail, as its message; without it, said only with --verbose. */
  closeFailure?: (error: Error) => string;
  /** Closed in full even after the stop deadline (a recording is always closed complete). */
  finish?: boolean;
  /** Runs once the sink has closed (the recorder removes a file that holds nothing of a failed run). */
  afterClose?: () => Promise<void>;
}

export interface StreamSinks {
  planned: readonly PlannedSink[];
  metrics: PrometheusSink | undefined;
  recorder: RecorderSink | undefined;
  nats: NatsTickSink | undefined;
  wantsRawFrames: boolean;
  /** The sinks attached so far (a sink that failed to attach counts nothing in the summary). */
  attached: TickSink[];
}

export async function planSinks(
  ctx: StreamContext,
  credentials: StreamCredentials,
  instruments: StreamInstruments,
  record: RecordTarget | undefined,
): Promise<StreamSinks> {
  const { config } = ctx;
  const planned: PlannedSink[] = [];
  const recorder = record ? recorderSink(ctx, credentials, instruments, record) : undefined;
  let metrics: PrometheusSink | undefined;
  if (config.metricsPort !== undefined) {
    const port = config.metricsPort;
    const host = config.metricsHost;
    if (!isLoopback(host)) {
      ctx.say(
        `kiteticker: warning: --metrics-host ${host}: /metrics and /readyz are served beyond this machine (they name your API key ids); prefer 127.0.0.1 behind a proxy or a firewall`,
      );
    }
    metrics = new PrometheusSink({
      port,
      host,
      readiness: () => ctx.readiness(),
      routes: healthRoutes(() => ctx.readiness()),
      counters: () => ({
        outputDrops: ctx.output?.droppedBatches ?? 0,
        ...(recorder ? { recordDrops: recorder.stats().dropped } : {}),
      }),
    });
    planned.push({
      sink: metrics,
      explain: (error) =>
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `--metrics-port ${port}: the port is in use; pick another, or 0 for any free port`
            : `--metrics-port ${port} on ${host}: cannot listen: ${error.code ?? error.message}`,
        ),
    });
  }
  if (recorder && record) {
    planned.push({
      sink: recorder,
      explain: (error) =>
        error.code === 'EEXIST'
          ? new UsageError(`--out: ${record.path} already exists; add --force to overwrite it`)
          : new UsageError(`--out: cannot write ${record.path}: ${error.code ?? error.message}`),
      closeFailure: (error) => `writing ${record.path}: ${error.message}`,
      finish: true,
      // A failed start-up (refused token, unreachable URL) would leave a header-only file that the
      // retry meets as "already exists": nothing was recorded, so nothing is lost by removing it.
      afterClose: async () => {
        if (ctx.exitCode === ExitCode.Ok) return;
        if (await recorder.removeIfEmpty())
          ctx.say(`kiteticker: removed ${record.path}: nothing was recorded before the failure`);
      },
    });
  }
  const nats = config.nats !== undefined ? await natsSink(ctx, config.nats) : undefined;
  if (nats) planned.push({ sink: nats, open: () => nats.connect() });
  return {
    planned,
    metrics,
    recorder,
    nats,
    wantsRawFrames: planned.some((p) => p.sink.wantsRawFrames),
    attached: [],
  };
}

/**
 * Attaches every sink in order; each attached one is closed (in reverse) by the disposer stack, before
 * the stdout flush and after the manager stops (the later steps push theirs later, so they run first).
 */
export async function attachSinks(ctx: StreamContext, sinks: StreamSinks, feed: TickFeed): Promise<void> {
  for (const { sink, open, explain, closeFailure, finish, afterClose } of sinks.planned) {
    try {
      await open?.();
      await sink.attach(feed);
    } catch (error) {
      if (open) await sink.close().catch(() => undefined);
      throw explain ? explain(error as NodeJS.ErrnoException) : error;
    }
    sinks.attached.push(sink);
    ctx.disposers.push(
      sink.name,
      (deadline) =>
        sink
          .close(finish ? undefined : deadline)
          .catch((error: Error) => {
            if (closeFailure) ctx.fail(closeFailure(error));
            else throw error;
          })
          .then(afterClose),
      { finish: finish === true },
    );
  }
}

function recorderSink(
  ctx: StreamContext,
  credentials: StreamCredentials,
  instruments: StreamInstruments,
  record: RecordTarget,
): RecorderSink {
  const { config } = ctx;
  const { tokens, names } = instruments;
  return new RecorderSink({
    path: record.path,
    overwrite: record.force === true,
    // Read at each write: the list grows as steps learn secrets (the simulator's tokens).
    secrets: ctx.secrets,
    metadata: {
      createdAt: new Date(ctx.createdAt).toISOString(),
      tool: 'kiteticker',
      // Userinfo in --url is a password: recorded without it, and without the query string.
      endpoint: credentials.sim ? 'simulator' : redactUrl(config.url).split('?')[0]!,
      mode: config.mode,
      sources: credentials.keys.map((k) => k.id),
      instruments: tokens.length,
      quoteSymbols: tokens
        .slice(0, config.quotes)
        .map((t) => ({ token: t, symbol: names?.symbolOf(t) ?? String(t) })),
    },
  });
}

/** What the NATS sink needs of a command (stream's context fits; the relay builds one). */
export type NatsSinkContext = Pick<StreamContext, 'io' | 'secrets' | 'logger'> & {
  readonly config: {
    readonly natsCreds: string | undefined;
    readonly natsJetstream: boolean;
    /** Set for `stream --ha`: the sink publishes with the HA instance id. */
    readonly ha?: { readonly instance: string } | undefined;
  };
};

/** The NATS sink, not yet connected. Imported on demand: the NATS client is an optional peer dependency. */
export async function natsSink(ctx: NatsSinkContext, server: string) {
  const { NatsTickSink } = await import('../../sinks/index.js').catch((error: unknown) => {
    throw new UsageError(
      `--nats needs the optional package @nats-io/transport-node (npm install @nats-io/transport-node): ${(error as Error).message}`,
    );
  });
  // A comma-separated --nats names several nodes of a cluster: the sink fails over between them too.
  const servers = splitList(server);
  ctx.secrets.push(...natsSecrets(ctx.io.env, servers));
  const ha = ctx.config.ha;
  return new NatsTickSink({
    servers,
    connectOptions: await natsAuthOptions(servers, ctx.config.natsCreds, ctx.io.env),
    logger: ctx.logger,
    // An HA instance's ticks carry its instance id, so consumers name both sides of a handover.
    ...(ha ? { instanceId: ha.instance } : {}),
    ...(ctx.config.natsJetstream ? { jetstream: true } : {}),
  });
}
