/**
 * `kiteticker stream` (and the streaming half of `record`): connect, subscribe, show or print ticks,
 * export metrics, stop on Ctrl-C/SIGTERM/--duration/closed pipe, then print a summary to stderr.
 */

import type { StatusEvent } from '../../connection/types.js';
import { ConnectTimeoutError, redact } from '../../errors.js';
import { InstrumentIndex } from '../../instruments/index.js';
import { silentLogger } from '../../logger.js';
import type { OrderUpdate, Tick } from '../../protocol/types.js';
import { redactUrl } from '../../redact.js';
import { authFailureHint, isAuthFailure } from '../auth-hint.js';
import { createStderrLogger } from '../cli-logger.js';
import { type ApiKeyCredential, secretsOf, tokenSourceOf } from '../credentials.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { loadInstrumentsFile } from '../instruments-file.js';
import { type CliIo, STOP_FLUSH_MS, StopRequest } from '../io.js';
import { LiveView } from '../live-view.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { ticksToNdjson } from '../ndjson.js';
import { OutputSink } from '../output.js';
import { type MetricsServer, renderPrometheus, startMetricsServer } from '../prometheus.js';
import { RecordKind } from '../recording.js';
import { RecordingWriter } from '../recording-writer.js';
import { type SelectableInstrument, selectionNotes } from '../selection.js';
import { StreamSession } from '../session.js';
import { createSimHost, type SimHost } from '../sim-host.js';
import type { CliStatsSnapshot } from '../snapshot.js';
import { RateTracker } from '../snapshot.js';
import { STARTUP_REPORT_INTERVAL_MS, startupState, waitingLine } from '../startup-progress.js';
import type { StreamConfig } from '../stream-config.js';
import { buildChains, describeRecenter, followRows, planStreamInstruments } from '../stream-instruments.js';
import { renderSummary } from '../summary.js';
import { terminalLine } from '../terminal-text.js';
import { plural, type QuoteRow, renderView } from '../view.js';

/** Used against the real endpoint when no instrument is named and no instruments file is given. */
export const WELL_KNOWN_TOKENS: readonly number[] = [
  256265, // NSE:NIFTY 50
  260105, // NSE:NIFTY BANK
  408065, // NSE:INFY
  738561, // NSE:RELIANCE
  2953217, // NSE:TCS
  341249, // NSE:HDFCBANK
  1270529, // NSE:ICICIBANK
  779521, // NSE:SBIN
  424961, // NSE:ITC
];

export interface RecordTarget {
  path: string;
  /** Replace an existing file (`record --force`). */
  force?: boolean;
}

const textEncoder = new TextEncoder();

export async function runStream(config: StreamConfig, io: CliIo, record?: RecordTarget): Promise<number> {
  let secrets = secretsOf(config.credentials.keys);
  const say = (line: string): void => {
    io.stderr.write(`${terminalLine(line, secrets)}\n`);
  };
  const logger = config.verbose
    ? createStderrLogger(
        (l) => io.stderr.write(l),
        secrets,
        () => keys,
      )
    : silentLogger;
  for (const warning of config.credentials.warnings ?? []) say(`kiteticker: ${warning}`);
  let startedAt = Date.now();

  // 1. Instruments: everything the user named is checked before any socket opens.
  let universe: readonly SelectableInstrument[] | undefined;
  let index: InstrumentIndex | undefined;
  if (config.instrumentsFile !== undefined) {
    const list = await loadInstrumentsFile(config.instrumentsFile);
    universe = list;
    index = new InstrumentIndex(list);
  }
  let sim: SimHost | undefined;
  let keys: readonly ApiKeyCredential[] = config.credentials.keys;
  if (config.simulator) {
    sim = createSimHost({
      keys: config.simKeys,
      seed: config.simSeed,
      rate: config.simRate,
      ...(universe ? { instruments: universe as never } : {}),
      // Generating the synthetic universe costs time in proportion to its size: a default set only
      // needs a few times its own size, named symbols get the full universe to be found in.
      ...(universe === undefined &&
      config.instrumentSpecs.length === 0 &&
      config.chain.chains.length === 0 &&
      config.chain.watchlist === undefined
        ? { universeSize: Math.min(30_000, Math.max(5_000, config.instrumentsCount * 2)) }
        : {}),
    });
    keys = sim.keys;
    if (universe === undefined) {
      const simUniverse = sim.simulator.instruments();
      universe = simUniverse;
      index = new InstrumentIndex(simUniverse);
    }
    secrets = [...secrets, ...secretsOf(keys)];
  }
  // Symbols, --watchlist and --chain resolve against one list (stream-instruments.ts).
  const plan = await planStreamInstruments({
    specs: config.instrumentSpecs,
    instrumentsCount: config.instrumentsCount,
    universe,
    simulator: sim !== undefined,
    credentials: config.credentials.keys[0],
    chain: config.chain,
    wellKnown: WELL_KNOWN_TOKENS,
    env: io.env,
    say,
  });
  const tokens = plan.tokens;
  const names = plan.store ?? index;
  const notes = selectionNotes(tokens, {
    named:
      config.instrumentSpecs.length > 0 ||
      config.chain.watchlist !== undefined ||
      config.chain.chains.length > 0,
    requestedCount: config.instrumentsCount,
    index: names,
    source:
      config.instrumentsFile !== undefined
        ? { kind: 'file', path: config.instrumentsFile }
        : sim
          ? { kind: 'simulator' }
          : plan.store
            ? { kind: 'cache' }
            : { kind: 'well-known' },
  });
  for (const line of notes) say(`kiteticker: ${line}`);

  const stop = new StopRequest();
  const cleanups: (() => Promise<void> | void)[] = [];
  let view: LiveView | undefined;
  let session: StreamSession | undefined;
  let writer: RecordingWriter | undefined;
  let metrics: MetricsServer | undefined;
  let output: OutputSink | undefined;
  let natsDropped: (() => number) | undefined;
  let finalSnapshot: CliStatsSnapshot | undefined;
  let exitCode: number = ExitCode.Ok;
  let notice: string | undefined;
  const rates = new RateTracker();
  /** Key ids whose refused token was already explained (once per key, not once per socket). */
  const authReported = new Set<string>();
  const tokenSource = (id: string): string => tokenSourceOf(id, config.credentials, io.env);

  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  io.stdout.on('error', () => stop.request('output closed'));
  let durationTimer: NodeJS.Timeout | undefined;
  cleanups.push(() => clearTimeout(durationTimer));
  let stoppedAt: number | undefined;
  void stop.promise.then(() => {
    stoppedAt = Date.now();
  });

  try {
    // The metrics port first: a port in use is a usage error before anything connects or starts.
    if (config.metricsPort !== undefined) {
      metrics = await startMetricsServer(config.metricsPort, () =>
        renderPrometheus(session?.snapshot() ?? { at: Date.now(), uptimeMs: 0, apiKeys: [] }, {
          outputDrops: output?.droppedBatches ?? 0,
          ...(writer ? { recordDrops: writer.dropped } : {}),
        }),
      ).catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(
          error.code === 'EADDRINUSE'
            ? `--metrics-port ${config.metricsPort}: the port is in use; pick another, or 0 for any free port`
            : `--metrics-port ${config.metricsPort}: cannot listen: ${error.code ?? error.message}`,
        );
      });
      const m = metrics;
      cleanups.push(() => m.close());
    }
    if (sim) {
      await sim.simulator.start({ host: '127.0.0.1', port: 0 });
      const simulator = sim.simulator;
      cleanups.push(() => simulator.stop());
    }
    const url = sim ? sim.simulator.url : config.url;
    // Userinfo in --url (ws://user:pass@host) is a password: shown and recorded without it.
    const shownUrl = redactUrl(url);
    const endpoint = sim ? `simulator ${shownUrl}` : shownUrl;

    if (record) {
      writer = await RecordingWriter.open(
        record.path,
        {
          createdAt: new Date(startedAt).toISOString(),
          tool: 'kiteticker',
          endpoint: sim ? 'simulator' : shownUrl.split('?')[0]!,
          mode: config.mode,
          sources: keys.map((k) => k.id),
          instruments: tokens.length,
          quoteSymbols: tokens
            .slice(0, config.quotes)
            .map((t) => ({ token: t, symbol: names?.symbolOf(t) ?? String(t) })),
        },
        { overwrite: record.force === true },
      ).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'EEXIST') {
          throw new UsageError(`--out: ${record.path} already exists; add --force to overwrite it`);
        }
        throw new UsageError(`--out: cannot write ${record.path}: ${error.code ?? error.message}`);
      });
    }
    const recorder = writer;

    session = new StreamSession({
      keys,
      url,
      mode: config.mode,
      maxConnectionsPerApi: config.maxConnectionsPerApi,
      maxSymbolsPerConnection: config.maxSymbolsPerConnection,
      logger,
      ...(recorder
        ? {
            onRawFrame: (data: Uint8Array, apiKeyId: string, connectionIndex: number) =>
              recorder.write(Date.now(), RecordKind.Binary, apiKeyId, connectionIndex, data),
          }
        : {}),
    });
    const manager = session.manager;
    cleanups.push(() => manager.stop());
    const chains = buildChains(plan, manager, {
      follow: config.chain.follow,
      recenterStrikes: config.chain.recenterStrikes,
      mode: config.mode,
      fixed: new Set(tokens),
    });
    cleanups.push(() => {
      for (const c of chains) c.stop();
    });

    // 2. Outputs.
    const quoteRows: QuoteRow[] = tokens
      .slice(0, config.format === 'view' ? config.quotes : 0)
      .map((token) => ({
        token,
        symbol: names?.symbolOf(token) ?? String(token),
        tick: undefined,
        receivedAt: undefined,
      }));
    const rowByToken = new Map(quoteRows.map((r) => [r.token, r]));
    const store = plan.store;
    const symbolLookup = store ? (token: number) => store.byToken(token) : undefined;
    if (config.format === 'ndjson') {
      output = new OutputSink(io.stdout, { onClosed: () => stop.request('output closed') });
    }
    const sink = output;
    manager.on('ticks', (ticks: Tick[], apiKeyId: string) => {
      if (sink !== undefined) sink.write(ticksToNdjson(ticks, apiKeyId, symbolLookup));
      if (rowByToken.size > 0) {
        const now = Date.now();
        for (let i = 0; i < ticks.length; i++) {
          const row = rowByToken.get(ticks[i]!.instrument_token);
          if (row !== undefined) {
            row.tick = ticks[i];
            row.receivedAt = now;
          }
        }
      }
    });
    if (recorder) {
      manager.on('order', (order: OrderUpdate, apiKeyId: string, connectionIndex: number) => {
        const text = JSON.stringify({ type: 'order', data: order });
        recorder.write(Date.now(), RecordKind.Text, apiKeyId, connectionIndex, textEncoder.encode(text));
      });
    }
    const report = (line: string): void => {
      if (view) notice = terminalLine(line, secrets);
      else say(`kiteticker: ${line}`);
    };
    manager.on('status', (event: StatusEvent, apiKeyId: string, connectionIndex: number) => {
      if (event.status === 'auth_failed') {
        // The 'error' event already says so on stderr; the view has no stderr, so it gets a notice.
        if (view && !authReported.has(apiKeyId)) {
          authReported.add(apiKeyId);
          report(authFailureHint(apiKeyId, event.httpStatus, tokenSource(apiKeyId)));
        }
      } else if (event.status === 'reconnecting' && config.verbose) {
        report(`${apiKeyId} #${connectionIndex}: reconnecting (attempt ${event.attempt}): ${event.reason}`);
      }
    });
    manager.on('serverError', (message: string, apiKeyId: string) =>
      report(`${apiKeyId}: server error: ${message}`),
    );
    manager.on('error', (error: Error, apiKeyId: string | undefined) => {
      if (!isAuthFailure(error)) report(`${apiKeyId ?? 'manager'}: ${error.message}`);
      else if (!authReported.has(apiKeyId ?? '')) {
        // The library's text tells a programmer to call updateAccessToken(); a CLI user needs a new token.
        authReported.add(apiKeyId ?? '');
        report(authFailureHint(apiKeyId, (error as { status?: number }).status, tokenSource(apiKeyId ?? '')));
      }
    });

    if (config.nats !== undefined) {
      // Imported on demand: the NATS client is an optional peer dependency.
      const { createNatsSink } = await import('../../sinks/index.js').catch((error: unknown) => {
        throw new UsageError(
          `--nats needs the optional package @nats-io/transport-node (npm install @nats-io/transport-node): ${(error as Error).message}`,
        );
      });
      const natsServers = [config.nats];
      secrets = [...secrets, ...natsSecrets(io.env, natsServers)];
      const nats = await createNatsSink({
        servers: natsServers,
        connectOptions: await natsAuthOptions(natsServers, config.natsCreds, io.env),
        logger,
        ...(config.natsJetstream ? { jetstream: true } : {}),
      });
      nats.attach(manager);
      natsDropped = () => nats.stats().dropped;
      cleanups.push(() => nats.close());
    }

    const title = `kiteticker ${record ? 'record' : 'stream'} · ${endpoint} · mode ${config.mode}`;
    const metricsLine = metrics ? `metrics ${metrics.url}` : undefined;
    if (config.format === 'view') {
      const s = session;
      view = new LiveView(io.stdout, (size) => {
        const snapshot = s.snapshot();
        rates.update(snapshot);
        const extra = [
          metricsLine,
          writer ? `recording to ${writer.path}: ${writer.records} frames` : undefined,
          // The view clears the screen, so the start-up notes said on stderr stay visible here.
          ...notes,
          notice,
        ]
          .filter((x) => x !== undefined)
          .join(' · ');
        return renderView(
          {
            title,
            snapshot,
            rates,
            quotes: quoteRows,
            ...(s.progress ? { progress: s.progress } : {}),
            ...(extra ? { notice: extra } : {}),
          },
          size,
        );
      });
      view.start();
    } else {
      say(
        `kiteticker: ${endpoint}, ${plural(keys.length, 'key')}, ${plural(tokens.length, 'instrument')}${chains.length > 0 ? ` + ${plural(chains.length, 'chain')}` : ''}, mode ${config.mode}`,
      );
      if (metricsLine) say(`kiteticker: ${metricsLine}`);
      if (writer) say(`kiteticker: recording to ${writer.path}`);
    }

    // 3. Run until asked to stop; a stop request during start-up wins over start-up.
    startedAt = Date.now();
    if (config.durationMs !== undefined)
      durationTimer = setTimeout(() => stop.request('duration'), config.durationMs);
    for (const c of chains) {
      c.on('error', (error) => report(`chain ${c.underlying}: re-centre failed: ${error.message}`));
      c.on('recenter', (e) => {
        report(describeRecenter(e));
        if (config.format === 'view') followRows(quoteRows, rowByToken, e, names, config.quotes);
      });
    }
    const started = session.start(tokens).then(
      () => Promise.all(chains.map((c) => c.start())).then(() => undefined),
      (error: unknown) => error,
    );
    // A stalled handshake must not look like a hang: say what start-up waits for, every few seconds
    // (the view shows it in its table already).
    const s = session;
    const waiting =
      config.format === 'view'
        ? undefined
        : setInterval(() => {
            if (s.progress === undefined || stop.requested) return;
            say(`kiteticker: ${waitingLine(s.snapshot(), Date.now() - startedAt, s.progress.phase)}`);
          }, STARTUP_REPORT_INTERVAL_MS);
    const startError = await Promise.race([started, stop.promise.then(() => undefined)]).finally(() =>
      clearInterval(waiting),
    );
    if (startError !== undefined) throw startError;
    if (stop.reason === 'duration' && session.progress !== undefined) {
      throw new ConnectTimeoutError(
        `--duration ran out while ${startupState(session.snapshot(), session.progress.phase)}`,
      );
    }
    if (!stop.requested && config.format !== 'view') say('kiteticker: streaming; Ctrl-C to stop');
    await stop.promise;
  } catch (error) {
    exitCode = exitCodeOf(error);
    stop.request('error');
    view?.stop();
    view = undefined;
    if (isAuthFailure(error)) {
      say(
        `kiteticker: error: ${
          authReported.size > 0
            ? 'stopping: Kite refused the access token (see above)'
            : authFailureHint(
                keys.length === 1 ? keys[0]!.id : undefined,
                (error as { status?: number }).status,
                keys.length === 1 ? tokenSource(keys[0]!.id) : 'KITE_ACCESS_TOKEN (or --keys-file)',
              )
        }`,
      );
    } else say(`kiteticker: error: ${(error as Error).message}`);
  } finally {
    if (session) finalSnapshot = session.snapshot();
    view?.stop();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        if (config.verbose) say(`kiteticker: while stopping: ${(error as Error).message}`);
      }
    }
    if (writer) {
      await writer.close().catch((error: Error) => {
        say(`kiteticker: error: writing ${writer?.path}: ${error.message}`);
        exitCode = ExitCode.Runtime;
      });
    }
    // Signals stay handled until here: a SIGTERM during this wait ends it (see afterSignal).
    await output?.flush(stop.afterSignal(STOP_FLUSH_MS));
    removeSignals();
  }
  if (config.summary && finalSnapshot) {
    io.stderr.write(
      redact(
        renderSummary(finalSnapshot, (stoppedAt ?? Date.now()) - startedAt, {
          outputDrops: output?.droppedBatches ?? 0,
          ...(natsDropped ? { natsDrops: natsDropped() } : {}),
          ...(stop.reason ? { reason: stop.reason } : {}),
          ...(writer
            ? {
                recorded: {
                  records: writer.records,
                  bytes: writer.bytes,
                  dropped: writer.dropped,
                  path: writer.path,
                },
              }
            : {}),
        }),
        secrets,
      ),
    );
  }
  return exitCode;
}
