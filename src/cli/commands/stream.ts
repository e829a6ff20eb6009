/**
 * `kiteticker stream` (and `record`, the same pipeline with the recorder sink): connect, subscribe,
 * show or print ticks, feed the sinks, stop on Ctrl-C/SIGTERM/--duration/closed pipe, then print a
 * summary to stderr. Each step is a function in ../stream/ with a typed result; everything a step
 * opens is closed by the context's disposer stack, in reverse, within the stop deadline.
 */
import { readinessOf } from '../../manager/readiness.js';
import { exitCodeOf } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import type { CliStatsSnapshot } from '../snapshot.js';
import { createStreamContext, watchStop } from '../stream/context.js';
import { resolveCredentials } from '../stream/credentials.js';
import { ManagerFeed } from '../stream/feed.js';
import { HaStreamSession } from '../stream/ha.js';
import { resolveInstruments } from '../stream/instruments.js';
import { TokenStore, watchKeysFile } from '../stream/keys-reload.js';
import { buildManager, type StreamManager } from '../stream/manager.js';
import { createRenderer } from '../stream/render.js';
import { createReporter } from '../stream/report.js';
import { runUntilStopped } from '../stream/run.js';
import { retryFailedKeys } from '../stream/service-retry.js';
import { attachSinks, planSinks, type RecordTarget, type StreamSinks } from '../stream/sinks.js';
import { summarise } from '../stream/summarise.js';
import type { StreamConfig } from '../stream-config.js';

export { WELL_KNOWN_TOKENS } from '../stream/instruments.js';
export type { RecordTarget } from '../stream/sinks.js';

export async function runStream(config: StreamConfig, io: CliIo, record?: RecordTarget): Promise<number> {
  const ctx = createStreamContext(config, io);
  // Everything the user named is checked before any socket opens (errors here are the caller's).
  const credentials = await resolveCredentials(ctx);
  // Signals are watched from here: resolving symbols may download the instruments list (up to 60 s).
  watchStop(ctx);
  let instruments: Awaited<ReturnType<typeof resolveInstruments>>;
  try {
    instruments = await resolveInstruments(ctx, credentials);
  } catch (error) {
    const stopped = ctx.stop.requested;
    await ctx.disposers.dispose(ctx.stopDeadline(), () => undefined);
    if (!stopped) throw error;
    ctx.say(`kiteticker: stopped (${ctx.stop.reason}) while resolving instruments; nothing was streamed`);
    return ctx.exitCode;
  }

  const reporter = createReporter(ctx);
  const built: { manager?: StreamManager; sinks?: StreamSinks } = {};
  let snapshot: CliStatsSnapshot | undefined;
  try {
    const sinks = await planSinks(ctx, credentials, instruments, record);
    built.sinks = sinks;
    const feed = new ManagerFeed();
    // Built (every option checked by the library, nothing connected) before the sinks attach: a
    // configuration the library refuses must fail before a recording file is created.
    // A watched keys file: tokens come from this store (its providers), updated as the file changes.
    const keysFile = credentials.sim ? undefined : config.credentials.file;
    const tokens = keysFile !== undefined ? new TokenStore(credentials.keys, ctx.secrets) : undefined;
    const manager = await buildManager(ctx, credentials, instruments, feed, {
      rawFrames: sinks.wantsRawFrames,
      tokens,
    });
    const wanted = instruments.tokens.length;
    // An HA instance is ready when it does its share (its held keys); see HaStreamSession.readiness.
    const ha = manager.session instanceof HaStreamSession ? manager.session : undefined;
    ctx.readiness = ha ? () => ha.readiness() : () => readinessOf(manager.session.manager.getStats(), wanted);
    await attachSinks(ctx, sinks, feed);
    built.manager = manager;
    const renderer = createRenderer(ctx, record ? 'record' : 'stream', manager, instruments, sinks);
    reporter.watch(manager, renderer);
    if (keysFile !== undefined && tokens)
      watchKeysFile(ctx, keysFile, ha ? ha.keysTarget : manager.session.manager, tokens, renderer.report);
    if (config.service) {
      const stopRetry = retryFailedKeys(
        ha ? () => ha.heldManagers() : manager.session.manager,
        (id) => tokens?.current(id) ?? credentials.keys.find((k) => k.id === id)?.accessToken,
        (fields, msg) => ctx.logger.info(fields, msg),
      );
      ctx.disposers.push('service retry', stopRetry);
    }
    await runUntilStopped(ctx, manager, instruments, renderer);
  } catch (error) {
    ctx.exitCode = exitCodeOf(error);
    ctx.stop.request('error');
    reporter.failure(error);
  } finally {
    snapshot = built.manager?.session.snapshot();
    await ctx.disposers.dispose(ctx.stopDeadline(), (name, error) => {
      if (config.verbose) ctx.say(`kiteticker: while stopping (${name}): ${(error as Error).message}`);
    });
  }
  if (config.summary && snapshot) summarise(ctx, snapshot, built.sinks);
  return ctx.exitCode;
}
