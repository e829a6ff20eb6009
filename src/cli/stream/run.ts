/**
 * Step 6: connect, subscribe and stream until a stop is requested (signal, --duration, closed stdout).
 * A stop during start-up wins over start-up; a start-up that stalls says what it waits for. What is
 * started here is stopped by the disposer stack: the view first, then the chains, then the manager.
 */
import { ConnectTimeoutError } from '../../errors.js';
import { STARTUP_REPORT_INTERVAL_MS, startupState, waitingLine } from '../startup-progress.js';
import type { StreamContext } from './context.js';
import type { StreamInstruments } from './instruments.js';
import type { StreamManager } from './manager.js';
import type { Renderer } from './render.js';

export async function runUntilStopped(
  ctx: StreamContext,
  { session, chains }: StreamManager,
  { tokens }: StreamInstruments,
  renderer: Renderer,
): Promise<void> {
  const { config, stop, disposers } = ctx;
  disposers.push('manager', () => session.stop());
  disposers.push('chains', () => {
    for (const c of chains) c.stop();
  });
  renderer.start();
  disposers.push('view', () => renderer.stop());

  ctx.startedAt = Date.now();
  if (config.durationMs !== undefined) {
    const timer = setTimeout(() => stop.request('duration'), config.durationMs);
    disposers.push('--duration timer', () => clearTimeout(timer));
  }
  const started = session.start(tokens).then(
    () => Promise.all(chains.map((c) => c.start())).then(() => undefined),
    (error: unknown) => error,
  );
  // A stalled handshake must not look like a hang: say what start-up waits for, every few seconds
  // (the view shows it in its table already).
  const waiting = renderer.live
    ? undefined
    : setInterval(() => {
        if (session.progress === undefined || stop.requested) return;
        ctx.say(
          `kiteticker: ${waitingLine(session.snapshot(), Date.now() - ctx.startedAt, session.progress.phase)}`,
        );
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
  if (!stop.requested && !renderer.live) ctx.say('kiteticker: streaming; Ctrl-C to stop');
  await stop.promise;
}
