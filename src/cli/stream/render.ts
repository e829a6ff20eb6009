/**
 * Step 5: what the user sees. The live view (a terminal) redraws the counters and the quote rows and
 * shows notices in place; otherwise ticks go to stdout as NDJSON (or nowhere with --format none) and
 * notices are stderr lines. Created here, started by the run step (so it stops first).
 */
import type { RecenterEvent } from '../../instruments/live-chain.js';
import type { Tick } from '../../protocol/types.js';
import { LiveView } from '../live-view.js';
import { ticksToNdjson } from '../ndjson.js';
import { RateTracker } from '../snapshot.js';
import { followRows } from '../stream-instruments.js';
import { terminalLine } from '../terminal-text.js';
import { plural, type QuoteRow, renderView } from '../view.js';
import type { StreamContext } from './context.js';
import type { StreamInstruments } from './instruments.js';
import type { StreamManager } from './manager.js';
import type { StreamSinks } from './sinks.js';

export interface Renderer {
  /** True for the live view: it shows start-up progress itself and has no stderr to speak on. */
  readonly live: boolean;
  /** Draws the first screen, or says what streams where. */
  start(): void;
  /** A line for the user: a notice in the view, else a `kiteticker: ` line on stderr. */
  report(line: string): void;
  /** A followed chain moved: the view's quote rows follow it. */
  followRecenter(e: RecenterEvent): void;
  /** Draws the last screen and gives the terminal back; later reports go to stderr. Idempotent. */
  stop(): void;
}

export function createRenderer(
  ctx: StreamContext,
  command: 'stream' | 'record',
  manager: StreamManager,
  instruments: StreamInstruments,
  sinks: StreamSinks,
): Renderer {
  return ctx.config.format === 'view'
    ? liveView(ctx, command, manager, instruments, sinks)
    : lines(ctx, manager, instruments, sinks);
}

function liveView(
  ctx: StreamContext,
  command: 'stream' | 'record',
  { session, feed, endpoint }: StreamManager,
  { tokens, names, notes }: StreamInstruments,
  { metrics, recorder }: StreamSinks,
): Renderer {
  const { config } = ctx;
  const rows: QuoteRow[] = tokens.slice(0, config.quotes).map((token) => ({
    token,
    symbol: names?.symbolOf(token) ?? String(token),
    tick: undefined,
    receivedAt: undefined,
  }));
  const rowByToken = new Map(rows.map((r) => [r.token, r]));
  feed.on('ticks', (ticks: Tick[]) => {
    if (rowByToken.size === 0) return;
    const now = Date.now();
    for (let i = 0; i < ticks.length; i++) {
      const row = rowByToken.get(ticks[i]!.instrument_token);
      if (row !== undefined) {
        row.tick = ticks[i];
        row.receivedAt = now;
      }
    }
  });
  const title = `kiteticker ${command} · ${endpoint} · mode ${config.mode}`;
  const rates = new RateTracker();
  let notice: string | undefined;
  let view: LiveView | undefined = new LiveView(ctx.io.stdout, (size) => {
    const snapshot = session.snapshot();
    rates.update(snapshot);
    const extra = [
      metrics?.url ? `metrics ${metrics.url}` : undefined,
      recorder ? `recording to ${recorder.path}: ${recorder.stats().records} frames` : undefined,
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
        quotes: rows,
        ...(session.progress ? { progress: session.progress } : {}),
        ...(extra ? { notice: extra } : {}),
      },
      size,
    );
  });
  return {
    get live() {
      return view !== undefined;
    },
    start: () => view?.start(),
    report: (line) => {
      if (view) notice = terminalLine(line, ctx.secrets);
      else ctx.say(`kiteticker: ${line}`);
    },
    followRecenter: (e) => followRows(rows, rowByToken, e, names, config.quotes),
    stop: () => {
      view?.stop();
      view = undefined;
    },
  };
}

function lines(
  ctx: StreamContext,
  { feed, endpoint, chains }: StreamManager,
  { tokens, plan }: StreamInstruments,
  { metrics, recorder }: StreamSinks,
): Renderer {
  const { config, output } = ctx;
  if (output) {
    const store = plan.store;
    const symbolLookup = store ? (token: number) => store.byToken(token) : undefined;
    feed.on('ticks', (ticks: Tick[], apiKeyId: string) => {
      output.write(ticksToNdjson(ticks, apiKeyId, symbolLookup));
    });
  }
  return {
    live: false,
    start: () => {
      const keys = ctx.keys.length;
      ctx.say(
        `kiteticker: ${endpoint}, ${plural(keys, 'key')}, ${plural(tokens.length, 'instrument')}${chains.length > 0 ? ` + ${plural(chains.length, 'chain')}` : ''}, mode ${config.mode}`,
      );
      if (metrics?.url) ctx.say(`kiteticker: metrics ${metrics.url}`);
      if (recorder) ctx.say(`kiteticker: recording to ${recorder.path}`);
    },
    report: (line) => ctx.say(`kiteticker: ${line}`),
    followRecenter: () => undefined,
    stop: () => undefined,
  };
}
