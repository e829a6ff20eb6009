/**
 * Step 2: what to subscribe. Symbols, --watchlist and --chain resolve against one list
 * (stream-instruments.ts), all checked before any socket opens; the notes about the selection are
 * said now and kept for the live view, which clears the screen.
 */
import type { InstrumentStore } from '../../instruments/store.js';
import { selectionNotes } from '../selection.js';
import { planStreamInstruments, type StreamInstrumentPlan } from '../stream-instruments.js';
import type { StreamContext } from './context.js';
import type { StreamCredentials } from './credentials.js';

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

export interface StreamInstruments {
  plan: StreamInstrumentPlan;
  /** Tokens subscribed at start. */
  tokens: readonly number[];
  /** Names tokens (EXCHANGE:TRADINGSYMBOL) when a list is at hand. */
  names: InstrumentStore | undefined;
  /** Lines about the selection (without the "kiteticker: " prefix). */
  notes: readonly string[];
}

export async function resolveInstruments(
  ctx: StreamContext,
  credentials: StreamCredentials,
): Promise<StreamInstruments> {
  const { config } = ctx;
  // A stop (SIGTERM, Ctrl-C) while the instruments list downloads ends the download.
  const abort = new AbortController();
  void ctx.stop.promise.then(() => abort.abort());
  const plan = await planStreamInstruments({
    signal: abort.signal,
    specs: config.instrumentSpecs,
    instrumentsCount: config.instrumentsCount,
    universe: credentials.universe,
    simulator: credentials.sim !== undefined,
    credentials: config.credentials.keys[0],
    chain: config.chain,
    wellKnown: WELL_KNOWN_TOKENS,
    env: ctx.io.env,
    say: ctx.say,
  });
  // With a list at hand (a file or the simulator's) the plan's store is built from it.
  const names = plan.store;
  const notes = selectionNotes(plan.tokens, {
    named:
      config.instrumentSpecs.length > 0 ||
      config.chain.watchlist !== undefined ||
      config.chain.chains.length > 0,
    requestedCount: config.instrumentsCount,
    index: names,
    source:
      config.instrumentsFile !== undefined
        ? { kind: 'file', path: config.instrumentsFile }
        : credentials.sim
          ? { kind: 'simulator' }
          : plan.store
            ? { kind: 'cache' }
            : { kind: 'well-known' },
  });
  for (const line of notes) ctx.say(`kiteticker: ${line}`);
  return { plan, tokens: plan.tokens, names, notes };
}
