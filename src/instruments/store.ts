/**
 * `InstrumentStore`: a Kite instruments list held in memory with O(1) look-ups by token and by
 * `EXCHANGE:TRADINGSYMBOL`, search by name or prefix, and derivatives queries (expiries, futures,
 * option chains). Load it from a string, a file, or the daily download (see cache.ts).
 */
import { readFile } from 'node:fs/promises';
import { ExpiredInstrumentError, InvalidArgumentError, UnknownInstrumentError } from '../errors.js';
import {
  closestNames,
  DerivativesIndex,
  type ExpirySpec,
  INDEX_SPOTS,
  isDerivative,
  type OptionChain,
} from './derivatives.js';
import { isIsoDate, istDate } from './ist.js';
import { parseSymbol } from './lookup.js';
import { parseInstrumentsCsv } from './parse.js';
import type { Instrument } from './types.js';

export interface InstrumentStoreOptions {
  /**
   * Today's date (`YYYY-MM-DD`, Asia/Kolkata) for expiry checks and nearest-expiry queries. Default:
   * the real date. A fixed list (a recording's, the simulator's) can pin its own.
   */
  today?: string;
}

export interface SearchOptions {
  /** Only these exchanges (NSE, NFO...). */
  exchange?: string | readonly string[];
  /** Only these instrument types (EQ, FUT, CE, PE). */
  type?: string | readonly string[];
  /** At most this many results (default 50). */
  limit?: number;
}

/** Search lists NSE's row of a symbol before BSE's, cash before derivatives. */
const EXCHANGE_ORDER = ['NSE', 'BSE', 'NFO', 'BFO', 'CDS', 'BCD', 'MCX'];
function exchangeRank(exchange: string): number {
  const i = EXCHANGE_ORDER.indexOf(exchange.toUpperCase());
  return i < 0 ? EXCHANGE_ORDER.length : i;
}

function upperSet(v: string | readonly string[] | undefined): Set<string> | undefined {
  if (v === undefined) return undefined;
  const list = (typeof v === 'string' ? v.split(',') : v).map((s) => s.trim().toUpperCase()).filter(Boolean);
  return list.length > 0 ? new Set(list) : undefined;
}

export class InstrumentStore {
  readonly #rows: readonly Instrument[];
  readonly #byToken = new Map<number, Instrument>();
  /** Exchange -> upper-case trading symbol -> row: no key strings to build per row. */
  readonly #bySymbol = new Map<string, Map<string, Instrument>>();
  #derivatives: DerivativesIndex | undefined;
  readonly #today: string | undefined;

  /** Later rows win on a duplicate symbol or token (a dump lists each once). */
  constructor(instruments: readonly Instrument[], options: InstrumentStoreOptions = {}) {
    if (options.today !== undefined && !isIsoDate(options.today)) {
      throw new InvalidArgumentError(`today must be YYYY-MM-DD, got ${JSON.stringify(options.today)}`);
    }
    this.#today = options.today;
    this.#rows = instruments;
    let exchange = '';
    let symbols: Map<string, Instrument> | undefined;
    for (const ins of instruments) {
      this.#byToken.set(ins.instrument_token, ins);
      if (ins.exchange !== exchange || symbols === undefined) {
        exchange = ins.exchange;
        const ex = exchange.toUpperCase();
        symbols = this.#bySymbol.get(ex);
        if (!symbols) {
          symbols = new Map();
          this.#bySymbol.set(ex, symbols);
        }
      }
      symbols.set(ins.tradingsymbol.toUpperCase(), ins);
    }
  }

  /** Parses CSV text in Kite's format. @throws InvalidArgumentError naming the line of a bad row. */
  static fromString(text: string, options?: InstrumentStoreOptions): InstrumentStore {
    return new InstrumentStore(parseInstrumentsCsv(text), options);
  }

  static async fromFile(path: string, options?: InstrumentStoreOptions): Promise<InstrumentStore> {
    return InstrumentStore.fromString(await readFile(path, 'utf8'), options);
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** Today's date in Asia/Kolkata (or the pinned one). */
  get today(): string {
    return this.#today ?? istDate(Date.now());
  }

  /** Every row, in file order. */
  all(): readonly Instrument[] {
    return this.#rows;
  }

  byToken(token: number): Instrument | undefined {
    return this.#byToken.get(token);
  }

  /** The instrument of `EXCHANGE:TRADINGSYMBOL` (any case; spaces allowed), or undefined. */
  find(symbol: string): Instrument | undefined {
    const { exchange, tradingsymbol } = parseSymbol(symbol);
    return this.#lookup(exchange, tradingsymbol);
  }

  #lookup(exchange: string, tradingsymbol: string): Instrument | undefined {
    return this.#bySymbol.get(exchange.toUpperCase())?.get(tradingsymbol.toUpperCase());
  }

  /**
   * The instrument of `EXCHANGE:TRADINGSYMBOL`.
   * @throws UnknownInstrumentError listing the closest known symbols.
   * @throws ExpiredInstrumentError for a derivative past its expiry, unless `allowExpired`.
   */
  get(symbol: string, options: { allowExpired?: boolean } = {}): Instrument {
    const ins = this.find(symbol);
    if (!ins) throw new UnknownInstrumentError(symbol, this.closest(symbol));
    if (!options.allowExpired && isDerivative(ins) && ins.expiry !== '' && ins.expiry < this.today) {
      throw new ExpiredInstrumentError(`${ins.exchange}:${ins.tradingsymbol}`, ins.expiry, this.today);
    }
    return ins;
  }

  /** `EXCHANGE:TRADINGSYMBOL` of a token, or undefined. */
  symbolOf(token: number): string | undefined {
    const ins = this.#byToken.get(token);
    return ins ? `${ins.exchange}:${ins.tradingsymbol}` : undefined;
  }

  /** Up to `limit` known symbols closest to `symbol` (same exchange first), best first. */
  closest(symbol: string, limit = 5): string[] {
    let exchange = '';
    let wanted = symbol.trim().toUpperCase();
    const at = wanted.indexOf(':');
    if (at > 0) {
      exchange = wanted.slice(0, at).trim();
      wanted = wanted.slice(at + 1).trim();
    }
    const names: string[] = [];
    for (const ins of this.#rows) {
      if (exchange === '' || ins.exchange.toUpperCase() === exchange) names.push(ins.tradingsymbol);
    }
    const pick = closestNames(wanted, names, limit);
    if (exchange === '' || pick.length > 0) {
      return pick.map((s) => {
        const ins =
          exchange !== '' ? this.#lookup(exchange, s) : this.#rows.find((r) => r.tradingsymbol === s);
        return ins ? `${ins.exchange}:${ins.tradingsymbol}` : s;
      });
    }
    // Nothing close on that exchange: the symbol may be on another one (NSE:NIFTY25JANFUT is NFO's).
    return this.closest(wanted, limit);
  }

  /**
   * Instruments whose trading symbol or name starts with (or else contains) `text`, best first: exact
   * symbol, symbol prefix, name prefix, then containment; ties by expiry, strike, symbol.
   */
  search(text: string, options: SearchOptions = {}): Instrument[] {
    const q = text.trim().toUpperCase();
    const exchanges = upperSet(options.exchange);
    const types = upperSet(options.type);
    const limit = options.limit ?? 50;
    const hits: Array<[rank: number, ins: Instrument]> = [];
    for (const ins of this.#rows) {
      if (exchanges && !exchanges.has(ins.exchange.toUpperCase())) continue;
      if (types && !types.has(ins.instrument_type.toUpperCase())) continue;
      const sym = ins.tradingsymbol.toUpperCase();
      const name = ins.name.toUpperCase();
      let rank: number;
      if (q === '' || sym === q) rank = 0;
      else if (sym.startsWith(q)) rank = 1;
      else if (name.startsWith(q)) rank = 2;
      else if (sym.includes(q) || name.includes(q)) rank = 3;
      else continue;
      hits.push([rank, ins]);
    }
    hits.sort(
      (a, b) =>
        a[0] - b[0] ||
        a[1].expiry.localeCompare(b[1].expiry) ||
        a[1].strike - b[1].strike ||
        a[1].tradingsymbol.localeCompare(b[1].tradingsymbol) ||
        exchangeRank(a[1].exchange) - exchangeRank(b[1].exchange) ||
        a[1].exchange.localeCompare(b[1].exchange),
    );
    return hits.slice(0, Math.max(0, limit)).map(([, ins]) => ins);
  }

  /** Rows per exchange, largest first. */
  countsByExchange(): Array<[exchange: string, rows: number]> {
    const counts = new Map<string, number>();
    for (const ins of this.#rows) counts.set(ins.exchange, (counts.get(ins.exchange) ?? 0) + 1);
    return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  }

  // ---------------------------------------------------------------- derivatives

  /** Built on first use: plain symbol look-ups never pay for it. */
  get #deriv(): DerivativesIndex {
    this.#derivatives ??= new DerivativesIndex(this.#rows);
    return this.#derivatives;
  }

  /** Names of every underlying with futures or options (Kite's `name`: NIFTY, RELIANCE...). */
  underlyings(): string[] {
    return this.#deriv.underlyings();
  }

  /** Unexpired expiry dates of an underlying, ascending. @throws UnknownInstrumentError */
  expiries(underlying: string, kind: 'all' | 'options' | 'futures' = 'all'): string[] {
    return this.#deriv.expiries(underlying, this.today, kind);
  }

  /** `nearest`, `next`, `monthly` (last expiry of the nearest month) or a listed `YYYY-MM-DD`. */
  expiry(underlying: string, spec: ExpirySpec = 'nearest'): string {
    return this.#deriv.expiry(underlying, spec, this.today);
  }

  /** Unexpired futures, nearest first. */
  futures(underlying: string): Instrument[] {
    return this.#deriv.futures(underlying, this.today);
  }

  /** CE and PE of `strikes` strikes each side of the strike nearest `price`. */
  optionChain(
    underlying: string,
    options: { expiry?: ExpirySpec; price: number; strikes?: number },
  ): OptionChain {
    const expiry = this.expiry(underlying, options.expiry ?? 'nearest');
    return this.#deriv.optionChain(underlying, expiry, options.price, options.strikes ?? 10);
  }

  /** Ascending strikes listed for one expiry. */
  strikes(underlying: string, expiry: string): number[] {
    return this.#deriv.strikes(underlying, expiry);
  }

  /**
   * The instrument whose price an underlying's options follow: the index for index options (NIFTY ->
   * NSE:NIFTY 50), the NSE (else BSE) equity for stock options, else the nearest future.
   * @throws UnknownInstrumentError when the list has none of these.
   */
  spotOf(underlying: string): Instrument {
    const name = underlying.trim().toUpperCase();
    const index = INDEX_SPOTS[name];
    const candidates = index ? [index] : [`NSE:${name}`, `BSE:${name}`];
    for (const c of candidates) {
      const ins = this.find(c);
      if (ins) return ins;
    }
    // Other index names are their own spot when listed as such (an INDICES row named like them).
    const asIndex = this.#rows.find((r) => r.segment === 'INDICES' && r.tradingsymbol.toUpperCase() === name);
    if (asIndex) return asIndex;
    const future = this.#deriv.has(name) ? this.futures(name)[0] : undefined;
    if (future) return future;
    throw new UnknownInstrumentError(
      underlying,
      this.#deriv.has(name) ? [] : closestNames(name, this.underlyings()),
      'underlying',
    );
  }
}
