/** Step 7: the exit summary on stderr (summary.ts renders it), with what each sink counted. */
import { redact } from '../../errors.js';
import type { TickSink } from '../../sinks/tick-sink.js';
import type { CliStatsSnapshot } from '../snapshot.js';
import { renderSummary } from '../summary.js';
import type { StreamContext } from './context.js';
import type { StreamSinks } from './sinks.js';

export function summarise(
  ctx: StreamContext,
  snapshot: CliStatsSnapshot,
  sinks: StreamSinks | undefined,
): void {
  const recorder = ifAttached(sinks, sinks?.recorder);
  const nats = ifAttached(sinks, sinks?.nats);
  const text = renderSummary(snapshot, (ctx.stoppedAt ?? Date.now()) - ctx.startedAt, {
    outputDrops: ctx.output?.droppedBatches ?? 0,
    ...(nats ? { natsDrops: nats.stats().dropped } : {}),
    ...(ctx.stop.reason ? { reason: ctx.stop.reason } : {}),
    ...(recorder ? { recorded: recorder.stats() } : {}),
  });
  ctx.io.stderr.write(redact(text, ctx.secrets));
}

/** A sink that failed to attach counted nothing: the summary does not list it. */
function ifAttached<T extends TickSink>(sinks: StreamSinks | undefined, sink: T | undefined): T | undefined {
  return sink !== undefined && sinks?.attached.includes(sink) ? sink : undefined;
}
