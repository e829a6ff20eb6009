/**
 * Symbol lookup over an instrument list: `EXCHANGE:TRADINGSYMBOL` (Kite's own notation, e.g. `NSE:INFY`,
 * `NSE:NIFTY 50`, `NFO:NIFTY25JANFUT`) <-> instrument token.
 */
import { InvalidArgumentError } from '../errors.js';

/** The fields lookup needs; both `Instrument` and the simulator's instruments satisfy it. */
export interface InstrumentLike {
  instrument_token: number;
  tradingsymbol: string;
  exchange: string;
}

/** Parses `EXCHANGE:TRADINGSYMBOL`; the symbol may contain spaces and colons after the first one. */
export function parseSymbol(symbol: string): { exchange: string; tradingsymbol: string } {
  const at = symbol.indexOf(':');
  if (at <= 0 || at === symbol.length - 1) {
    throw new InvalidArgumentError(
      `invalid instrument symbol ${JSON.stringify(symbol)}: expected EXCHANGE:TRADINGSYMBOL, e.g. NSE:INFY`,
    );
  }
  return { exchange: symbol.slice(0, at).trim().toUpperCase(), tradingsymbol: symbol.slice(at + 1).trim() };
}

function key(exchange: string, tradingsymbol: string): string {
  // Kite symbols are upper case; match case-insensitively so `nse:infy` works from a shell.
  return `${exchange.toUpperCase()}:${tradingsymbol.toUpperCase()}`;
}

export class InstrumentIndex<T extends InstrumentLike = InstrumentLike> {
  readonly #bySymbol = new Map<string, T>();
  readonly #byToken = new Map<number, T>();

  /** Later rows win on a duplicate symbol or token (a dump lists each once). */
  constructor(instruments: Iterable<T>) {
    for (const ins of instruments) {
      this.#bySymbol.set(key(ins.exchange, ins.tradingsymbol), ins);
      this.#byToken.set(ins.instrument_token, ins);
    }
  }

  get size(): number {
    return this.#byToken.size;
  }

  /** The instrument of `EXCHANGE:TRADINGSYMBOL`, or undefined. Throws only for a malformed symbol. */
  bySymbol(symbol: string): T | undefined {
    const { exchange, tradingsymbol } = parseSymbol(symbol);
    return this.#bySymbol.get(key(exchange, tradingsymbol));
  }

  byToken(token: number): T | undefined {
    return this.#byToken.get(token);
  }

  /** The token of `EXCHANGE:TRADINGSYMBOL`, or undefined when unknown. */
  tokenOf(symbol: string): number | undefined {
    return this.bySymbol(symbol)?.instrument_token;
  }

  /** `EXCHANGE:TRADINGSYMBOL` of a token, or undefined. */
  symbolOf(token: number): string | undefined {
    const ins = this.#byToken.get(token);
    return ins ? `${ins.exchange}:${ins.tradingsymbol}` : undefined;
  }

  /** Resolves many symbols; unknown ones are listed in `missing` (in input order) instead of throwing. */
  resolve(symbols: readonly string[]): { tokens: number[]; missing: string[] } {
    const tokens: number[] = [];
    const missing: string[] = [];
    for (const s of symbols) {
      const t = this.tokenOf(s);
      if (t === undefined) missing.push(s);
      else tokens.push(t);
    }
    return { tokens, missing };
  }

  /** Like `resolve` but throws `InvalidArgumentError` listing every unknown symbol. */
  resolveAll(symbols: readonly string[]): number[] {
    const { tokens, missing } = this.resolve(symbols);
    if (missing.length > 0) {
      const shown = missing.slice(0, 10).map((s) => JSON.stringify(s));
      throw new InvalidArgumentError(
        `unknown instrument symbol${missing.length > 1 ? 's' : ''}: ${shown.join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`,
      );
    }
    return tokens;
  }
}
