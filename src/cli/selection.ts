/**
 * Which instruments to stream: the user's tokens and `EXCHANGE:TRADINGSYMBOL`s resolved against an
 * instrument list, or, when none were given, a realistic default set drawn from the list (an index,
 * equities, an options chain around the money).
 */
import { InstrumentIndex, type InstrumentLike } from '../instruments/index.js';
import { MAX_TOKEN } from '../protocol/constants.js';
import { UsageError } from './exit-codes.js';
import { formatInt, plural } from './view.js';

/** What selection needs of an instrument; the CSV rows and the simulator's universe both fit. */
export interface SelectableInstrument extends InstrumentLike {
  instrument_type: string;
  segment: string;
  name: string;
  expiry: string;
  strike: number;
  last_price: number;
}

export const NIFTY_50_TOKEN = 256265;

/**
 * Resolves instrument arguments in order, dropping duplicates. A whole number is a token (accepted
 * even when the list does not know it, as Kite does); anything with a colon is a symbol and must be in
 * `index`. Every unknown symbol is listed in one `UsageError`.
 */
export function resolveInstrumentArgs(
  specs: readonly string[],
  index: InstrumentIndex | undefined,
): number[] {
  const tokens: number[] = [];
  const seen = new Set<number>();
  const missing: string[] = [];
  for (const raw of specs) {
    const spec = raw.trim();
    if (spec === '') continue;
    let token: number | undefined;
    if (/^\d+$/.test(spec)) {
      token = Number(spec);
      if (!Number.isSafeInteger(token) || token > MAX_TOKEN) {
        throw new UsageError(
          `invalid instrument token ${spec}: expected a whole number from 0 to ${MAX_TOKEN}`,
        );
      }
    } else if (spec.includes(':')) {
      if (index === undefined) {
        throw new UsageError(
          `cannot resolve ${JSON.stringify(spec)}: give --instruments FILE (a Kite instruments CSV) to use trading symbols`,
        );
      }
      try {
        token = index.tokenOf(spec);
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
      if (token === undefined) {
        missing.push(spec);
        continue;
      }
    } else {
      throw new UsageError(
        `invalid instrument ${JSON.stringify(spec)}: expected a token (e.g. 256265) or EXCHANGE:TRADINGSYMBOL (e.g. NSE:INFY)`,
      );
    }
    if (!seen.has(token)) {
      seen.add(token);
      tokens.push(token);
    }
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((s) => JSON.stringify(s));
    throw new UsageError(
      `unknown instrument symbol${missing.length > 1 ? 's' : ''}: ${shown.join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
    );
  }
  return tokens;
}

function isIndex(i: SelectableInstrument): boolean {
  return (i.instrument_token & 0xff) === 9 || i.segment === 'INDICES';
}

function isOption(i: SelectableInstrument): boolean {
  return i.instrument_type === 'CE' || i.instrument_type === 'PE';
}

function isEquity(i: SelectableInstrument): boolean {
  return i.instrument_type === 'EQ' && !isIndex(i);
}

/** Index options' underlyings and the index that is their spot. */
const INDEX_UNDERLYINGS: Record<string, string> = {
  NIFTY: 'NIFTY 50',
  BANKNIFTY: 'NIFTY BANK',
  FINNIFTY: 'NIFTY FIN SERVICE',
  MIDCPNIFTY: 'NIFTY MID SELECT',
  SENSEX: 'SENSEX',
  BANKEX: 'BANKEX',
};

/**
 * The underlying of an option: its `name` in a Kite dump ("NIFTY"), else the trading symbol before the
 * expiry code (monthly NIFTY24DEC24000CE, weekly NIFTY2412524000CE).
 */
export function underlyingOf(option: { name: string; tradingsymbol: string }): string {
  if (option.name.trim() !== '') return option.name.trim().toUpperCase();
  const m = /^([A-Z&-]+?)\d{2}(?:[A-Z]{3}|[1-9OND]\d{2})/.exec(option.tradingsymbol.toUpperCase());
  return m?.[1] ?? option.tradingsymbol.toUpperCase();
}

/**
 * A default set of `count` tokens: NIFTY 50 (and other indices, up to 5), then equities and an
 * options chain in equal shares (the chain of the nearest expiry of the most listed underlying,
 * strikes nearest the money first, CE and PE together), then anything else until `count`.
 */
export function pickDefaultSet(instruments: readonly SelectableInstrument[], count: number): number[] {
  const out: number[] = [];
  const taken = new Set<number>();
  const take = (i: SelectableInstrument): boolean => {
    if (out.length >= count || taken.has(i.instrument_token)) return false;
    taken.add(i.instrument_token);
    out.push(i.instrument_token);
    return true;
  };

  const indices = instruments.filter(isIndex);
  indices.sort(
    (a, b) => Number(b.instrument_token === NIFTY_50_TOKEN) - Number(a.instrument_token === NIFTY_50_TOKEN),
  );
  for (const i of indices.slice(0, Math.min(5, Math.max(1, Math.floor(count / 20))))) take(i);

  const remaining = count - out.length;
  const equities = instruments.filter(isEquity);
  const chain = optionsChain(instruments.filter(isOption), indices, instruments);
  // Equal shares; whichever runs short leaves its share to the other.
  const equityShare = Math.min(equities.length, Math.max(remaining - chain.length, Math.ceil(remaining / 2)));
  for (const e of equities.slice(0, equityShare)) take(e);
  for (const o of chain) take(o);
  for (const e of equities) take(e);
  for (const i of instruments) {
    if (out.length >= count) break;
    take(i);
  }
  return out;
}

/**
 * Options ordered: NIFTY's chain first (then BANKNIFTY, then the other underlyings by how many options
 * they list), expiries nearest first, strikes nearest the spot first, CE before PE at each strike.
 */
function optionsChain(
  options: SelectableInstrument[],
  indices: readonly SelectableInstrument[],
  all: readonly SelectableInstrument[],
): SelectableInstrument[] {
  if (options.length === 0) return [];
  const byUnderlying = new Map<string, SelectableInstrument[]>();
  for (const o of options) {
    const name = underlyingOf(o);
    const list = byUnderlying.get(name);
    if (list) list.push(o);
    else byUnderlying.set(name, [o]);
  }
  const priority = (name: string): number => {
    const p = Object.keys(INDEX_UNDERLYINGS).indexOf(name);
    return p < 0 ? Number.MAX_SAFE_INTEGER : p;
  };
  const underlyings = [...byUnderlying.entries()].sort(
    (a, b) => priority(a[0]) - priority(b[0]) || b[1].length - a[1].length,
  );
  const spotOf = (name: string, list: SelectableInstrument[]): number => {
    const indexName = INDEX_UNDERLYINGS[name];
    const spot =
      (indexName && indices.find((i) => i.tradingsymbol.toUpperCase() === indexName)?.last_price) ||
      all.find((i) => isEquity(i) && i.tradingsymbol.toUpperCase() === name)?.last_price;
    if (spot !== undefined && spot > 0) return spot;
    const strikes = list.map((o) => o.strike).sort((a, b) => a - b);
    return strikes[Math.floor(strikes.length / 2)] ?? 0;
  };
  const out: SelectableInstrument[] = [];
  for (const [name, list] of underlyings) {
    const spot = spotOf(name, list);
    list.sort(
      (a, b) =>
        a.expiry.localeCompare(b.expiry) ||
        Math.abs(a.strike - spot) - Math.abs(b.strike - spot) ||
        a.strike - b.strike ||
        a.instrument_type.localeCompare(b.instrument_type),
    );
    out.push(...list);
  }
  return out;
}

export { InstrumentIndex };

/** Where the instrument list in use came from, for messages. */
export type ListSource =
  | { kind: 'file'; path: string }
  | { kind: 'simulator' }
  | { kind: 'cache' }
  | { kind: 'well-known' };

function describeSource(source: ListSource): string {
  if (source.kind === 'file') return source.path;
  if (source.kind === 'simulator') return "the built-in simulator's list";
  if (source.kind === 'cache') return 'the daily instruments list';
  return 'the built-in list of well-known instruments (give --instruments FILE for more)';
}

/**
 * What the user should know about the selection before it streams: a default set smaller than
 * `-n` asked for, and tokens the instrument list in use does not know (Kite subscribes them without
 * a word and sends nothing). Lines without the "kiteticker: " prefix.
 */
export function selectionNotes(
  tokens: readonly number[],
  options: {
    /** Instruments named by the user (arguments, --symbols); none = the default set was used. */
    named: boolean;
    /** `-n` (or its default). */
    requestedCount: number;
    index: { byToken(token: number): unknown } | undefined;
    source: ListSource;
  },
): string[] {
  const notes: string[] = [];
  if (!options.named && tokens.length < options.requestedCount) {
    const n = tokens.length;
    notes.push(
      `note: -n ${formatInt(options.requestedCount)}: only ${plural(n, 'instrument')} ${n === 1 ? 'is' : 'are'} available in ${describeSource(options.source)}; streaming ${formatInt(n)}`,
    );
  }
  if (options.named && options.index !== undefined) {
    const index = options.index;
    const unknown = tokens.filter((t) => index.byToken(t) === undefined);
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 10).join(', ');
      const more = unknown.length > 10 ? ` and ${unknown.length - 10} more` : '';
      notes.push(
        `warning: token${unknown.length === 1 ? '' : 's'} ${shown}${more} not in ${describeSource(options.source)}: subscribed anyway, but an unknown token streams nothing`,
      );
    }
  }
  return notes;
}
