/**
 * The synthetic instrument universe: deterministic for a seed, shaped like a Kite instruments dump.
 * Tokens follow token = exchange_token * 256 + segment id and are unique. A few well-known instruments
 * keep their real tokens (NIFTY 50 256265, NIFTY BANK 260105, SENSEX 265, INFY 408065, ...), so examples
 * and tests can name them.
 */
import type { Instrument } from '../instruments/types.js';
import { Segment } from '../protocol/constants.js';
import { Rng } from './random.js';

/** Default universe size. */
export const DEFAULT_UNIVERSE_SIZE = 30_000;

/** Share of the universe (after the indices) per instrument family. Sums to 1. */
const SHARES = {
  nseEq: 0.3,
  bseEq: 0.15,
  nfoFut: 0.03,
  nfoOpt: 0.35,
  cds: 0.06,
  bcd: 0.02,
  mcx: 0.09,
} as const;

const INDICES: ReadonlyArray<[exchangeToken: number, exchange: string, symbol: string, price: number]> = [
  [1001, 'NSE', 'NIFTY 50', 24150.35],
  [1016, 'NSE', 'NIFTY BANK', 51820.6],
  [1, 'BSE', 'SENSEX', 79486.32],
  [1015, 'NSE', 'NIFTY IT', 41210.15],
  [1035, 'NSE', 'INDIA VIX', 13.42],
  [1007, 'NSE', 'NIFTY FIN SERVICE', 23875.4],
  [1003, 'NSE', 'NIFTY MIDCAP 100', 56210.85],
  [1058, 'NSE', 'NIFTY NEXT 50', 70125.3],
  [12, 'BSE', 'BANKEX', 58990.12],
];

/** Real NSE/BSE equity tokens, first in their lists so they exist in every universe large enough. */
const KNOWN_EQUITIES: ReadonlyArray<
  [symbol: string, name: string, nseEt: number, bseEt: number, price: number]
> = [
  ['INFY', 'INFOSYS', 1594, 500209, 1573.7],
  ['RELIANCE', 'RELIANCE INDUSTRIES', 2885, 500325, 2935.4],
  ['SBIN', 'STATE BANK OF INDIA', 3045, 500112, 812.25],
  ['TCS', 'TATA CONSULTANCY SERV LT', 11536, 532540, 4105.6],
  ['HDFCBANK', 'HDFC BANK', 1333, 500180, 1642.3],
  ['ICICIBANK', 'ICICI BANK.', 4963, 532174, 1218.45],
  ['ITC', 'ITC', 1660, 500875, 468.9],
];

const EXPIRIES: ReadonlyArray<[iso: string, code: string]> = [
  ['2026-01-29', '26JAN'],
  ['2026-02-26', '26FEB'],
  ['2026-03-26', '26MAR'],
];

interface Underlying {
  symbol: string;
  price: number;
  strikeStep: number;
  tickSize: number;
  lot: number;
}

const CURRENCIES: Underlying[] = [
  { symbol: 'USDINR', price: 83.1234, strikeStep: 0.25, tickSize: 0.0025, lot: 1 },
  { symbol: 'EURINR', price: 90.2175, strikeStep: 0.25, tickSize: 0.0025, lot: 1 },
  { symbol: 'GBPINR', price: 105.4425, strikeStep: 0.25, tickSize: 0.0025, lot: 1 },
  { symbol: 'JPYINR', price: 55.8125, strikeStep: 0.25, tickSize: 0.0025, lot: 1 },
];

const COMMODITIES: Underlying[] = [
  { symbol: 'GOLD', price: 72150, strikeStep: 100, tickSize: 1, lot: 1 },
  { symbol: 'SILVER', price: 85420, strikeStep: 250, tickSize: 1, lot: 1 },
  { symbol: 'CRUDEOIL', price: 6512, strikeStep: 50, tickSize: 1, lot: 100 },
  { symbol: 'NATURALGAS', price: 251.4, strikeStep: 5, tickSize: 0.1, lot: 1250 },
  { symbol: 'COPPER', price: 812.35, strikeStep: 5, tickSize: 0.05, lot: 2500 },
  { symbol: 'ZINC', price: 262.1, strikeStep: 2.5, tickSize: 0.05, lot: 5000 },
  { symbol: 'ALUMINIUM', price: 231.45, strikeStep: 2.5, tickSize: 0.05, lot: 5000 },
];

const SYLLABLES = [
  'KA',
  'RO',
  'TE',
  'MI',
  'SU',
  'NA',
  'VI',
  'LA',
  'DE',
  'PO',
  'GRA',
  'SHI',
  'TRA',
  'BHA',
  'ZEN',
];
const SUFFIXES = ['', 'IND', 'TECH', 'FIN', 'POWER', 'PHARMA', 'MOTORS', 'INFRA', 'CHEM', 'STEEL'];

class Builder {
  readonly rows: Instrument[] = [];
  readonly #used = new Set<number>();
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get full(): boolean {
    return this.rows.length >= this.#limit;
  }

  /** Adds a row unless full or its token is taken; returns whether it was added. */
  add(row: Omit<Instrument, 'instrument_token'>, segmentId: number): boolean {
    if (this.full) return false;
    const token = row.exchange_token * 256 + segmentId;
    if (this.#used.has(token)) return false;
    this.#used.add(token);
    this.rows.push({ instrument_token: token, ...row });
    return true;
  }
}

function roundTo(price: number, tick: number): number {
  const ticks = Math.max(1, Math.round(price / tick));
  // Fix binary noise so 83.1225 prints as such, not 83.12249999.
  return Number((ticks * tick).toFixed(6));
}

function formatStrike(strike: number): string {
  return Number.isInteger(strike) ? String(strike) : String(Number(strike.toFixed(4)));
}

/** A rough option premium: intrinsic value plus a time value that shrinks away from the money. */
function optionPrice(under: number, strike: number, call: boolean, monthsOut: number, tick: number): number {
  const intrinsic = Math.max(0, call ? under - strike : strike - under);
  const distance = Math.abs(under - strike) / under;
  const time = under * 0.02 * Math.sqrt(monthsOut + 1) * Math.exp(-distance * 12);
  return roundTo(Math.max(tick * 2, intrinsic + time), tick);
}

/**
 * Builds `size` instruments for `seed`. Indices come first, then each family's share of the rest;
 * any shortfall (a family that ran out of combinations) is filled with NSE equities.
 */
export function generateUniverse(size: number = DEFAULT_UNIVERSE_SIZE, seed = 1): Instrument[] {
  const rng = new Rng(seed ^ 0x5eed);
  const b = new Builder(size);
  for (const [et, exchange, symbol, price] of INDICES) {
    b.add(
      {
        exchange_token: et,
        tradingsymbol: symbol,
        name: symbol,
        last_price: price,
        expiry: '',
        strike: 0,
        tick_size: 0,
        lot_size: 0,
        instrument_type: 'EQ',
        segment: 'INDICES',
        exchange,
      },
      Segment.Indices,
    );
  }
  // Cumulative targets: each family fills up to its running share of what is left after the indices.
  const base = b.rows.length;
  const rest = Math.max(0, size - base);
  let cumulative = 0;
  const target = (share: number): number => {
    cumulative += share;
    return base + Math.floor(rest * cumulative);
  };

  // Equities: known names first, then generated ones with unique symbols.
  const usedNames = new Set<string>();
  const names: Array<{ symbol: string; name: string; price: number }> = [];
  const nameFor = (i: number): { symbol: string; name: string; price: number } => {
    while (names.length <= i) {
      const known = KNOWN_EQUITIES[names.length];
      if (known) {
        usedNames.add(known[0]);
        names.push({ symbol: known[0], name: known[1], price: known[4] });
        continue;
      }
      let symbol = '';
      do {
        symbol = rng.pick(SYLLABLES) + rng.pick(SYLLABLES) + rng.pick(SYLLABLES) + rng.pick(SUFFIXES);
        if (usedNames.has(symbol)) symbol += String(names.length);
      } while (usedNames.has(symbol));
      usedNames.add(symbol);
      // Log-uniform prices from 5 to 8000, like a real cash market.
      const price = Math.exp(Math.log(5) + rng.next() * (Math.log(8000) - Math.log(5)));
      names.push({ symbol, name: `${symbol} LIMITED`, price });
    }
    return names[i]!;
  };
  const addEquity = (i: number, exchange: 'NSE' | 'BSE'): boolean => {
    const n = nameFor(i);
    const known = KNOWN_EQUITIES[i];
    const et = known
      ? exchange === 'NSE'
        ? known[2]
        : known[3]
      : exchange === 'NSE'
        ? 100_000 + i
        : 600_000 + i;
    const tick = n.price < 100 ? 0.01 : 0.05;
    return b.add(
      {
        exchange_token: et,
        tradingsymbol: n.symbol,
        name: n.name,
        last_price: roundTo(n.price, tick),
        expiry: '',
        strike: 0,
        tick_size: tick,
        lot_size: 1,
        instrument_type: 'EQ',
        segment: exchange,
        exchange,
      },
      exchange === 'NSE' ? Segment.NseCM : Segment.BseCM,
    );
  };
  let nseCount = 0;
  for (const end = target(SHARES.nseEq); b.rows.length < end; ) addEquity(nseCount++, 'NSE');
  let bseCount = 0;
  for (const end = target(SHARES.bseEq); b.rows.length < end; ) addEquity(bseCount++, 'BSE');

  // F&O underlyings: the two big indices, then the first NSE equities.
  const foUnderlyings: Underlying[] = [
    { symbol: 'NIFTY', price: 24150, strikeStep: 50, tickSize: 0.05, lot: 75 },
    { symbol: 'BANKNIFTY', price: 51820, strikeStep: 100, tickSize: 0.05, lot: 30 },
  ];
  for (let i = 0; i < Math.min(150, Math.max(nseCount, 1)); i++) {
    const n = nameFor(i);
    const step = n.price > 2000 ? 50 : n.price > 500 ? 10 : n.price > 100 ? 5 : 1;
    const lot = Math.max(1, Math.round(300_000 / n.price / 25) * 25);
    foUnderlyings.push({ symbol: n.symbol, price: n.price, strikeStep: step, tickSize: 0.05, lot });
  }

  const nextEt = { nfo: 35_000, cds: 1_000, bcd: 1_000, mcx: 200_000 };
  const derivatives = (
    family: 'nfo' | 'cds' | 'bcd' | 'mcx',
    unders: Underlying[],
    futEnd: number,
    optEnd: number,
  ): void => {
    const exchange = { nfo: 'NFO', cds: 'CDS', bcd: 'BCD', mcx: 'MCX' }[family];
    const segId = { nfo: Segment.NseFO, cds: Segment.NseCD, bcd: Segment.BseCD, mcx: Segment.McxFO }[family];
    const add = (row: Omit<Instrument, 'instrument_token' | 'exchange_token'>): boolean => {
      const et = nextEt[family]++;
      return b.add({ exchange_token: et, ...row }, segId);
    };
    futures: for (let e = 0; e < EXPIRIES.length; e++) {
      for (const u of unders) {
        if (b.rows.length >= futEnd) break futures;
        const [iso, code] = EXPIRIES[e]!;
        add({
          tradingsymbol: `${u.symbol}${code}FUT`,
          name: u.symbol,
          last_price: roundTo(u.price * (1 + 0.004 * (e + 1)), u.tickSize),
          expiry: iso,
          strike: 0,
          tick_size: u.tickSize,
          lot_size: u.lot,
          instrument_type: 'FUT',
          segment: `${exchange}-FUT`,
          exchange,
        });
      }
    }
    // Strikes fan out from the money: 0, +1, -1, +2, -2 ... steps, over every underlying and expiry.
    for (let k = 0; b.rows.length < optEnd && k < 100_000; k++) {
      const offset = k % 2 === 1 ? (k + 1) / 2 : -k / 2;
      for (const u of unders) {
        const atm = Math.round(u.price / u.strikeStep) * u.strikeStep;
        const strike = Number((atm + offset * u.strikeStep).toFixed(4));
        if (strike <= 0) continue;
        for (let e = 0; e < EXPIRIES.length; e++) {
          const [iso, code] = EXPIRIES[e]!;
          for (const call of [true, false]) {
            if (b.rows.length >= optEnd) return;
            add({
              tradingsymbol: `${u.symbol}${code}${formatStrike(strike)}${call ? 'CE' : 'PE'}`,
              name: '',
              last_price: optionPrice(u.price, strike, call, e, u.tickSize),
              expiry: iso,
              strike,
              tick_size: u.tickSize,
              lot_size: u.lot,
              instrument_type: call ? 'CE' : 'PE',
              segment: `${exchange}-OPT`,
              exchange,
            });
          }
        }
      }
    }
  };
  derivatives('nfo', foUnderlyings, target(SHARES.nfoFut), target(SHARES.nfoOpt));
  derivatives('cds', CURRENCIES, target(SHARES.cds * 0.1), target(SHARES.cds * 0.9));
  derivatives('bcd', CURRENCIES, target(SHARES.bcd * 0.1), target(SHARES.bcd * 0.9));
  derivatives('mcx', COMMODITIES, target(SHARES.mcx * 0.1), target(SHARES.mcx * 0.9));
  // Whatever is left (rounding, a family out of combinations) becomes more NSE equities.
  while (!b.full) addEquity(nseCount++, 'NSE');
  return b.rows;
}
