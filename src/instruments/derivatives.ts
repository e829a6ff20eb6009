/**
 * Futures and options grouped by underlying: expiries, nearest/next/monthly expiry, futures, and option
 * chains around a price. Built once from the instrument list; every query is a map look-up plus work
 * proportional to its answer.
 */
import { InvalidArgumentError, UnknownInstrumentError } from '../errors.js';
import { isIsoDate } from './ist.js';
import type { Instrument } from './types.js';

/** Index options' names (Kite's `name` column) and the index whose price they follow. */
export const INDEX_SPOTS: Readonly<Record<string, string>> = {
  NIFTY: 'NSE:NIFTY 50',
  BANKNIFTY: 'NSE:NIFTY BANK',
  FINNIFTY: 'NSE:NIFTY FIN SERVICE',
  MIDCPNIFTY: 'NSE:NIFTY MID SELECT',
  NIFTYNXT50: 'NSE:NIFTY NEXT 50',
  SENSEX: 'BSE:SENSEX',
  BANKEX: 'BSE:BANKEX',
  SENSEX50: 'BSE:SENSEX50',
};

/** Which expiry of an underlying: the nearest, the one after, the last of the nearest month, or a date. */
export type ExpirySpec = 'nearest' | 'next' | 'monthly' | (string & {});

export interface ChainStrike {
  strike: number;
  ce: Instrument | undefined;
  pe: Instrument | undefined;
}

export interface OptionChain {
  underlying: string;
  /** Exchange of the options (NFO, BFO, CDS, MCX...). */
  exchange: string;
  expiry: string;
  /** The listed strike nearest the price (the lower one on a tie). */
  atm: number;
  /** Ascending strikes, at most `2 * strikes + 1`: the ATM and N each side (fewer at the edges). */
  strikes: ChainStrike[];
  /** Every option token of the chain, CE then PE per strike, ascending strikes. */
  tokens: number[];
}

/**
 * The underlying of a derivative: its `name` (Kite fills it: "NIFTY"), else the trading symbol before
 * the expiry code (monthly NIFTY24DEC24000CE, weekly NIFTY2412524000CE), for older dumps and the
 * simulator, which leave option names empty.
 */
export function underlyingName(ins: { name: string; tradingsymbol: string }): string {
  const name = ins.name.trim();
  if (name !== '') return name.toUpperCase();
  const m = /^(.+?)\d{2}(?:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|[1-9OND]\d{2})/.exec(
    ins.tradingsymbol.toUpperCase(),
  );
  return m?.[1] ?? ins.tradingsymbol.toUpperCase();
}

export function isDerivative(ins: Instrument): boolean {
  return ins.instrument_type === 'FUT' || ins.instrument_type === 'CE' || ins.instrument_type === 'PE';
}

interface Group {
  futures: Instrument[];
  /** Options by exchange, then by expiry; each list sorted by strike, CE before PE. */
  options: Map<string, Map<string, Instrument[]>>;
}

export class DerivativesIndex {
  readonly #groups = new Map<string, Group>();

  constructor(instruments: readonly Instrument[]) {
    for (const ins of instruments) {
      if (!isDerivative(ins)) continue;
      const key = underlyingName(ins);
      let g = this.#groups.get(key);
      if (!g) {
        g = { futures: [], options: new Map() };
        this.#groups.set(key, g);
      }
      if (ins.instrument_type === 'FUT') {
        g.futures.push(ins);
        continue;
      }
      let byExpiry = g.options.get(ins.exchange);
      if (!byExpiry) {
        byExpiry = new Map();
        g.options.set(ins.exchange, byExpiry);
      }
      const list = byExpiry.get(ins.expiry);
      if (list) list.push(ins);
      else byExpiry.set(ins.expiry, [ins]);
    }
    for (const g of this.#groups.values()) {
      g.futures.sort((a, b) => a.expiry.localeCompare(b.expiry) || a.exchange.localeCompare(b.exchange));
      for (const byExpiry of g.options.values()) {
        for (const list of byExpiry.values()) {
          list.sort((a, b) => a.strike - b.strike || a.instrument_type.localeCompare(b.instrument_type));
        }
      }
    }
  }

  /** Every underlying with derivatives, sorted. */
  underlyings(): string[] {
    return [...this.#groups.keys()].sort();
  }

  has(underlying: string): boolean {
    return this.#groups.has(underlying.trim().toUpperCase());
  }

  #group(underlying: string): Group {
    const key = underlying.trim().toUpperCase();
    const g = this.#groups.get(key);
    if (!g)
      throw new UnknownInstrumentError(underlying, closestNames(key, this.#groups.keys()), 'underlying');
    return g;
  }

  /** Expiry dates (futures and options) on or after `today`, ascending. */
  expiries(underlying: string, today: string, kind: 'all' | 'options' | 'futures' = 'all'): string[] {
    const g = this.#group(underlying);
    const set = new Set<string>();
    if (kind !== 'options') for (const f of g.futures) set.add(f.expiry);
    if (kind !== 'futures') {
      for (const byExpiry of g.options.values()) for (const e of byExpiry.keys()) set.add(e);
    }
    return [...set].filter((e) => e !== '' && e >= today).sort();
  }

  /**
   * Resolves an expiry spec against the options' expiries (futures' when the underlying has no options).
   * @throws InvalidArgumentError for a bad spec or a date that is not listed / has passed.
   */
  expiry(underlying: string, spec: ExpirySpec, today: string): string {
    let list = this.expiries(underlying, today, 'options');
    if (list.length === 0) list = this.expiries(underlying, today, 'futures');
    if (list.length === 0) {
      throw new InvalidArgumentError(
        `${underlying.toUpperCase()} has no unexpired derivatives on or after ${today}; the instrument list may be stale`,
      );
    }
    const s = spec.trim().toLowerCase();
    if (s === 'nearest' || s === '') return list[0]!;
    if (s === 'next') {
      if (list.length < 2)
        throw new InvalidArgumentError(`${underlying.toUpperCase()} lists only one expiry (${list[0]})`);
      return list[1]!;
    }
    if (s === 'monthly') {
      // The monthly contract is the last expiry of the nearest month (weeklies expire before it).
      const month = list[0]!.slice(0, 7);
      return list.filter((e) => e.startsWith(month)).at(-1)!;
    }
    if (!isIsoDate(s)) {
      throw new InvalidArgumentError(
        `invalid expiry ${JSON.stringify(spec)}: expected nearest, next, monthly or YYYY-MM-DD`,
      );
    }
    if (!list.includes(s)) {
      throw new InvalidArgumentError(
        `${underlying.toUpperCase()} has no expiry ${s}${s < today ? ` (it is before today, ${today})` : ''}; listed: ${list.slice(0, 6).join(', ')}`,
      );
    }
    return s;
  }

  /** Unexpired futures of an underlying, nearest expiry first. */
  futures(underlying: string, today: string): Instrument[] {
    return this.#group(underlying).futures.filter((f) => f.expiry >= today);
  }

  /**
   * The options of one expiry: the listed strike nearest `price` and `strikes` strikes each side, CE
   * and PE. With options on several exchanges (USDINR on CDS and BCD), the one listing the most wins.
   */
  optionChain(underlying: string, expiry: string, price: number, strikes: number): OptionChain {
    if (!Number.isFinite(price) || price < 0) throw new InvalidArgumentError(`invalid chain price ${price}`);
    if (!Number.isInteger(strikes) || strikes < 0 || strikes > 1000) {
      throw new InvalidArgumentError(`strikes each side must be a whole number in 0..1000, got ${strikes}`);
    }
    const g = this.#group(underlying);
    let exchange = '';
    let list: Instrument[] = [];
    for (const [ex, byExpiry] of g.options) {
      const l = byExpiry.get(expiry);
      if (l && l.length > list.length) {
        list = l;
        exchange = ex;
      }
    }
    if (list.length === 0) {
      throw new InvalidArgumentError(`${underlying.toUpperCase()} has no options expiring ${expiry}`);
    }
    const rows: ChainStrike[] = [];
    for (const o of list) {
      let row = rows.at(-1);
      if (!row || row.strike !== o.strike) {
        row = { strike: o.strike, ce: undefined, pe: undefined };
        rows.push(row);
      }
      if (o.instrument_type === 'CE') row.ce = o;
      else row.pe = o;
    }
    const atmAt = nearestIndex(rows, price);
    const from = Math.max(0, atmAt - strikes);
    const chosen = rows.slice(from, Math.min(rows.length, atmAt + strikes + 1));
    const tokens: number[] = [];
    for (const r of chosen) {
      if (r.ce) tokens.push(r.ce.instrument_token);
      if (r.pe) tokens.push(r.pe.instrument_token);
    }
    return {
      underlying: underlying.trim().toUpperCase(),
      exchange,
      expiry,
      atm: rows[atmAt]!.strike,
      strikes: chosen,
      tokens,
    };
  }

  /** Ascending distinct strikes of one expiry (any exchange). */
  strikes(underlying: string, expiry: string): number[] {
    const set = new Set<number>();
    for (const byExpiry of this.#group(underlying).options.values()) {
      for (const o of byExpiry.get(expiry) ?? []) set.add(o.strike);
    }
    return [...set].sort((a, b) => a - b);
  }
}

/** Index of the strike nearest `price` in ascending `rows` (binary search; the lower one on a tie). */
function nearestIndex(rows: readonly ChainStrike[], price: number): number {
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid]!.strike < price) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(rows[lo - 1]!.strike - price) <= Math.abs(rows[lo]!.strike - price)) return lo - 1;
  return lo;
}

/** Up to 5 names closest to `wanted` by edit distance (prefix matches first). */
export function closestNames(wanted: string, names: Iterable<string>, limit = 5): string[] {
  const scored: Array<[number, string]> = [];
  const w = wanted.toUpperCase();
  for (const name of names) {
    const n = name.toUpperCase();
    if (Math.abs(n.length - w.length) > Math.max(3, w.length / 2) && !n.startsWith(w)) continue;
    const d =
      n.startsWith(w) || w.startsWith(n) ? Math.abs(n.length - w.length) / 100 : editDistance(w, n, 4);
    if (d <= 3) scored.push([d, name]);
  }
  scored.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
  return scored.slice(0, limit).map(([, n]) => n);
}

/** Levenshtein distance, giving up (returning `cap`) once every path exceeds `cap`. */
export function editDistance(a: string, b: string, cap: number): number {
  if (a === b) return 0;
  let prev = new Array<number>(b.length + 1);
  let cur = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin >= cap) return cap;
    [prev, cur] = [cur, prev];
  }
  return Math.min(prev[b.length]!, cap);
}
