/**
 * The instrument half of `stream`/`record`: which list resolves symbols (`--instruments`, the cache, or
 * the built-in simulator's), `--watchlist FILE`, `--chain UNDERLYING[:EXPIRY][:N]` with `--follow`, and
 * the token -> symbol look-up that ndjson lines and the live view use.
 */
import { readFile } from 'node:fs/promises';
import { ExpiredInstrumentError, KiteTickerError, UnknownInstrumentError } from '../errors.js';
import { defaultCacheDir } from '../instruments/cache.js';
import { isIsoDate } from '../instruments/ist.js';
import { LiveChain, type RecenterEvent } from '../instruments/live-chain.js';
import { InstrumentStore } from '../instruments/store.js';
import type { Instrument } from '../instruments/types.js';
import type { Mode } from '../protocol/constants.js';
import { MAX_TOKEN } from '../protocol/constants.js';
import type { ApiKeyCredential } from './credentials.js';
import { UsageError } from './exit-codes.js';
import { loadInstrumentSource, simulatorStore } from './instrument-source.js';
import { parseInteger } from './parse.js';
import { pickDefaultSet, resolveInstrumentArgs, type SelectableInstrument } from './selection.js';
import type { QuoteRow } from './view.js';

/** Raw flags this module adds to `stream`/`record`. */
export interface RawChainOptions {
  chain?: string[];
  follow?: boolean;
  watchlist?: string;
  apiUrl?: string;
  recenterStrikes?: string;
}

export interface ChainSpec {
  underlying: string;
  expiry: string;
  strikes: number;
}

export interface ChainConfig {
  chains: ChainSpec[];
  follow: boolean;
  recenterStrikes: number;
  watchlist: string | undefined;
  apiUrl: string | undefined;
}

export const DEFAULT_CHAIN_STRIKES = 10;

/** `UNDERLYING[:EXPIRY][:N]`: `NIFTY`, `NIFTY:next`, `BANKNIFTY:2026-01-27:5`, `NIFTY:5`. */
export function parseChainSpec(text: string): ChainSpec {
  const parts = text.split(':').map((p) => p.trim());
  const underlying = parts[0]!.toUpperCase();
  if (underlying === '' || parts.length > 3) {
    throw new UsageError(
      `--chain: expected UNDERLYING[:EXPIRY][:N] (e.g. NIFTY, NIFTY:next:5, BANKNIFTY:2026-01-27), got ${JSON.stringify(text)}`,
    );
  }
  let expiry = 'nearest';
  let strikes = DEFAULT_CHAIN_STRIKES;
  const rest = parts.slice(1);
  if (rest.length === 1 && /^\d+$/.test(rest[0]!)) rest.unshift('');
  if (rest[0] !== undefined && rest[0] !== '') {
    const e = rest[0].toLowerCase();
    if (!['nearest', 'next', 'monthly'].includes(e) && !isIsoDate(e)) {
      throw new UsageError(
        `--chain ${text}: expiry must be nearest, next, monthly or YYYY-MM-DD, got ${JSON.stringify(rest[0])}`,
      );
    }
    expiry = e;
  }
  if (rest[1] !== undefined && rest[1] !== '') strikes = parseInteger(`--chain ${text}: N`, rest[1], 1, 500);
  return { underlying, expiry, strikes };
}

export function resolveChainConfig(raw: RawChainOptions): ChainConfig {
  const chains = (raw.chain ?? []).map(parseChainSpec);
  if (raw.follow === true && chains.length === 0) throw new UsageError('--follow needs --chain');
  return {
    chains,
    follow: raw.follow === true,
    recenterStrikes:
      raw.recenterStrikes === undefined ? 2 : parseInteger('--recenter-strikes', raw.recenterStrikes, 0, 100),
    watchlist: raw.watchlist,
    apiUrl: raw.apiUrl,
  };
}

/** One symbol or token per line; `#` starts a comment; blank lines are skipped; spaces inside stay. */
export function parseWatchlist(text: string): string[] {
  const out: string[] = [];
  for (const line of text.replace(/^\ufeff/, '').split(/\r?\n/)) {
    const hash = line.indexOf('#');
    const entry = (hash >= 0 ? line.slice(0, hash) : line).trim();
    if (entry !== '') out.push(entry);
  }
  return out;
}

async function readWatchlist(path: string): Promise<string[]> {
  try {
    return parseWatchlist(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `--watchlist: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
}

/** Resolves tokens and symbols against the store: unknown symbols list their closest matches. */
export function resolveWithStore(specs: readonly string[], store: InstrumentStore, source: string): number[] {
  const tokens: number[] = [];
  const seen = new Set<number>();
  const problems: string[] = [];
  for (const spec of specs) {
    let token: number;
    if (/^\d+$/.test(spec)) {
      token = Number(spec);
      if (!Number.isSafeInteger(token) || token > MAX_TOKEN) {
        throw new UsageError(
          `invalid instrument token ${spec}: expected a whole number from 0 to ${MAX_TOKEN}`,
        );
      }
    } else {
      if (!spec.includes(':')) {
        throw new UsageError(
          `invalid instrument ${JSON.stringify(spec)} (${source}): expected a token (e.g. 256265) or EXCHANGE:TRADINGSYMBOL (e.g. NSE:INFY)`,
        );
      }
      try {
        token = store.get(spec).instrument_token;
      } catch (error) {
        if (error instanceof UnknownInstrumentError || error instanceof ExpiredInstrumentError) {
          problems.push(error.message);
          continue;
        }
        throw new UsageError((error as Error).message);
      }
    }
    if (!seen.has(token)) {
      seen.add(token);
      tokens.push(token);
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 10).join('\n  ');
    throw new UsageError(
      `${problems.length === 1 ? shown : `${problems.length} instruments not found:\n  ${shown}`}${problems.length > 10 ? `\n  and ${problems.length - 10} more` : ''}`,
    );
  }
  return tokens;
}

export interface StreamInstrumentPlan {
  /** The list symbols came from (undefined: tokens only, no list at hand). */
  store: InstrumentStore | undefined;
  /** Tokens to subscribe at start (the user's, the watchlist's, else the default set). */
  tokens: number[];
  /** Chains, built (validated) but not started. */
  chains: ChainSpec[];
}

export interface PlanInput {
  specs: readonly string[];
  instrumentsCount: number;
  /** The --instruments list or the simulator's universe. */
  universe: readonly SelectableInstrument[] | undefined;
  simulator: boolean;
  credentials: ApiKeyCredential | undefined;
  chain: ChainConfig;
  wellKnown: readonly number[];
  /** For the cache directory ($XDG_CACHE_HOME). */
  env: NodeJS.ProcessEnv;
  say: (line: string) => void;
  /** Aborts a download of the instruments list (a stop requested meanwhile). */
  signal?: AbortSignal;
}

export async function planStreamInstruments(input: PlanInput): Promise<StreamInstrumentPlan> {
  const watch = input.chain.watchlist !== undefined ? await readWatchlist(input.chain.watchlist) : [];
  const needList = input.chain.chains.length > 0 || [...input.specs, ...watch].some((s) => !/^\d+$/.test(s));
  let store: InstrumentStore | undefined;
  if (input.universe !== undefined) {
    // The built-in simulator's list (its own, or the --instruments file it plays) keeps fixed expiry
    // dates: its store pins "today" to them. Against real Kite, the file's dates are checked for real.
    store = input.simulator
      ? simulatorStore(input.universe as Instrument[])
      : new InstrumentStore(input.universe as Instrument[]);
  } else if (needList || input.chain.apiUrl !== undefined) {
    // Real Kite without --instruments: the daily cache (downloaded when stale and credentials allow).
    const source = await loadInstrumentSource(
      {
        credentials: input.credentials,
        cacheDir: defaultCacheDir(input.env),
        ...(input.chain.apiUrl !== undefined ? { apiUrl: input.chain.apiUrl } : {}),
        ...(input.signal !== undefined ? { signal: input.signal } : {}),
      },
      (line) => input.say(`kiteticker: ${line}`),
    );
    store = source.store;
  }
  let tokens: number[];
  if (input.specs.length > 0 || watch.length > 0) {
    tokens = store
      ? [
          ...new Set([
            ...resolveWithStore(input.specs, store, 'arguments'),
            ...resolveWithStore(watch, store, input.chain.watchlist ?? ''),
          ]),
        ]
      : resolveInstrumentArgs([...input.specs, ...watch], undefined);
  } else if (input.chain.chains.length > 0) {
    tokens = [];
  } else {
    tokens = input.universe
      ? pickDefaultSet(input.universe, input.instrumentsCount)
      : input.wellKnown.slice(0, input.instrumentsCount);
  }
  // Chains are checked now, before any socket opens: an unknown underlying is a usage error.
  for (const spec of input.chain.chains) {
    if (!store) throw new UsageError('--chain needs an instruments list');
    try {
      store.expiry(spec.underlying, spec.expiry);
      store.spotOf(spec.underlying);
    } catch (error) {
      throw new UsageError(`--chain ${spec.underlying}: ${(error as Error).message}`, { cause: error });
    }
  }
  return { store, tokens, chains: input.chain.chains };
}

/** Builds every chain (errors here are usage errors: unknown underlying, expiry not listed). */
export function buildChains(
  plan: StreamInstrumentPlan,
  manager: ConstructorParameters<typeof LiveChain>[1],
  options: { follow: boolean; recenterStrikes: number; mode: Mode; fixed: ReadonlySet<number> },
): LiveChain[] {
  if (plan.chains.length === 0) return [];
  const store = plan.store;
  if (!store) throw new UsageError('--chain needs an instruments list');
  const chains: LiveChain[] = [];
  // A token held by the user's own list, or by another chain, is never unsubscribed by a re-centre.
  const pinnedBy = (self: LiveChain) => (token: number) =>
    options.fixed.has(token) || chains.some((c) => c !== self && c.tokens().includes(token));
  for (const spec of plan.chains) {
    let chain: LiveChain;
    const holder: { self?: LiveChain } = {};
    try {
      chain = new LiveChain(store, manager, {
        underlying: spec.underlying,
        expiry: spec.expiry,
        strikes: spec.strikes,
        follow: options.follow,
        recenterStrikes: options.recenterStrikes,
        mode: options.mode,
        isPinned: (t) => (holder.self ? pinnedBy(holder.self)(t) : options.fixed.has(t)),
      });
    } catch (error) {
      if (error instanceof KiteTickerError)
        throw new UsageError(`--chain ${spec.underlying}: ${error.message}`);
      throw error;
    }
    holder.self = chain;
    chains.push(chain);
  }
  return chains;
}

/** The line printed for a chain's (re-)centring. */
export function describeRecenter(e: RecenterEvent): string {
  const moved = e.from === undefined ? `centred on ${e.to}` : `re-centred ${e.from} -> ${e.to}`;
  return `chain ${e.underlying} ${e.expiry}: ${moved} (price ${e.price}; +${e.added.length} -${e.removed.length}${e.skipped.length > 0 ? `, ${e.skipped.length} left out: no capacity` : ''})`;
}

/**
 * Keeps the live view's quote rows on a followed chain: rows of strikes that left go, rows of new
 * strikes come in (up to `limit` rows in all), each labelled with its symbol.
 */
export function followRows(
  rows: QuoteRow[],
  byToken: Map<number, QuoteRow>,
  e: RecenterEvent,
  names: { symbolOf(token: number): string | undefined } | undefined,
  limit: number,
): void {
  const gone = new Set(e.removed);
  for (let i = rows.length - 1; i >= 0; i--) {
    if (gone.has(rows[i]!.token)) {
      byToken.delete(rows[i]!.token);
      rows.splice(i, 1);
    }
  }
  for (const token of e.added) {
    if (rows.length >= limit) break;
    if (byToken.has(token)) continue;
    const row: QuoteRow = {
      token,
      symbol: names?.symbolOf(token) ?? String(token),
      tick: undefined,
      receivedAt: undefined,
    };
    rows.push(row);
    byToken.set(token, row);
  }
}
