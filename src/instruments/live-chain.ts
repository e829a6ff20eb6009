/**
 * A live option chain: subscribes an underlying's spot instrument (the index, the equity, else the
 * nearest future), centres a chain of N strikes each side on its live price, and, when following,
 * re-centres (subscribes the new strikes, unsubscribes the far ones, through the manager's ordinary
 * calls) once the price has moved more than `recenterStrikes` strikes from the centre. Each re-centre
 * is a 'recenter' event and a log line.
 *
 * Invariants: a token is subscribed once (only tokens not already held by this chain are sent), never
 * more tokens are asked for than the manager has room for, and tokens pinned by someone else (the
 * user's own instruments, another chain) are never unsubscribed.
 */
import { EventEmitter } from 'node:events';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { Mode } from '../protocol/constants.js';
import type { Tick } from '../protocol/types.js';
import type { ExpirySpec, OptionChain } from './derivatives.js';
import type { InstrumentStore } from './store.js';
import type { Instrument } from './types.js';

/** What a chain needs of a manager; the single-key and the multi-key managers both fit. */
export interface ChainManager {
  subscribeSymbols(tokens: readonly number[], mode?: Mode): Promise<void>;
  unsubscribeSymbols(tokens: readonly number[]): Promise<void>;
  availableCapacity(): number;
  on(event: 'ticks', listener: (ticks: Tick[]) => void): unknown;
  off(event: 'ticks', listener: (ticks: Tick[]) => void): unknown;
}

export interface LiveChainOptions {
  /** Kite's `name` of the underlying: NIFTY, BANKNIFTY, RELIANCE... */
  underlying: string;
  /** Default `nearest`. */
  expiry?: ExpirySpec;
  /** Strikes each side of the money (default 10). */
  strikes?: number;
  /** Re-centre on live prices (default true); false: centre once on the first price. */
  follow?: boolean;
  /** Re-centre once the price is more than this many strikes from the centre (default 2). */
  recenterStrikes?: number;
  mode?: Mode;
  /** Tokens this chain must never unsubscribe (held by someone else). */
  isPinned?: (token: number) => boolean;
  logger?: Logger;
}

export interface RecenterEvent {
  underlying: string;
  expiry: string;
  /** ATM strike before (undefined for the first centring) and after. */
  from: number | undefined;
  to: number;
  price: number;
  added: number[];
  removed: number[];
  /** Strikes' tokens left out for lack of capacity (nearest the money are kept). */
  skipped: number[];
}

export interface LiveChainEvents {
  recenter: [event: RecenterEvent];
  error: [error: Error];
}

export class LiveChain extends EventEmitter<LiveChainEvents> {
  readonly underlying: string;
  readonly expiry: string;
  readonly spot: Instrument;
  readonly #store: InstrumentStore;
  readonly #manager: ChainManager;
  readonly #strikes: number;
  readonly #follow: boolean;
  readonly #recenterStrikes: number;
  readonly #mode: Mode | undefined;
  readonly #pinned: (token: number) => boolean;
  readonly #log: Logger;
  /** Every listed strike of the expiry, ascending, to measure moves in strikes. */
  readonly #ladder: number[];
  readonly #held = new Set<number>();
  #centre: number | undefined;
  #lastPrice: number | undefined;
  #busy = false;
  #stopped = false;
  readonly #onTicks = (ticks: Tick[]): void => this.#ticks(ticks);

  /** Resolves the underlying, its spot and expiry now. @throws UnknownInstrumentError, InvalidArgumentError */
  constructor(store: InstrumentStore, manager: ChainManager, options: LiveChainOptions) {
    super();
    this.#store = store;
    this.#manager = manager;
    this.underlying = options.underlying.trim().toUpperCase();
    this.#strikes = options.strikes ?? 10;
    this.#recenterStrikes = options.recenterStrikes ?? 2;
    if (!Number.isInteger(this.#recenterStrikes) || this.#recenterStrikes < 0) {
      throw new InvalidArgumentError(
        `recenterStrikes must be a whole number >= 0, got ${this.#recenterStrikes}`,
      );
    }
    this.#follow = options.follow ?? true;
    this.#mode = options.mode;
    this.#pinned = options.isPinned ?? (() => false);
    this.#log = options.logger ?? silentLogger;
    this.expiry = store.expiry(this.underlying, options.expiry ?? 'nearest');
    this.spot = store.spotOf(this.underlying);
    this.#ladder = store.strikes(this.underlying, this.expiry);
    // Validates `strikes` early (a bad N throws here, not on the first tick).
    store.optionChain(this.underlying, { expiry: this.expiry, price: 0, strikes: this.#strikes });
  }

  /** Tokens the chain holds now (options only), ascending strikes. */
  tokens(): number[] {
    return [...this.#held];
  }

  /** The ATM strike the chain is centred on (undefined before the first price). */
  get centre(): number | undefined {
    return this.#centre;
  }

  /**
   * Subscribes the spot and starts listening. The chain itself follows on the spot's first tick, or at
   * once when `initialPrice` (or the list's last price) is known.
   */
  async start(initialPrice?: number): Promise<void> {
    this.#manager.on('ticks', this.#onTicks);
    await this.#manager.subscribeSymbols([this.spot.instrument_token], this.#mode);
    const price = initialPrice ?? (this.spot.last_price > 0 ? this.spot.last_price : undefined);
    if (price !== undefined) await this.#recentre(price);
  }

  /** Stops following; subscriptions stay (the manager's stop ends them). */
  stop(): void {
    this.#stopped = true;
    this.#manager.off('ticks', this.#onTicks);
  }

  #ticks(ticks: Tick[]): void {
    const token = this.spot.instrument_token;
    for (let i = ticks.length - 1; i >= 0; i--) {
      const t = ticks[i]!;
      if (t.instrument_token === token) {
        this.#price(t.last_price);
        return;
      }
    }
  }

  #price(price: number): void {
    if (!(price > 0) || this.#stopped) return;
    this.#lastPrice = price;
    if (this.#busy) return; // the running re-centre looks at the latest price when it ends
    if (this.#centre !== undefined && (!this.#follow || !this.#movedEnough(price))) return;
    void this.#recentre(price).catch((error: unknown) => {
      this.#log.warn(
        { underlying: this.underlying, err: (error as Error).message },
        'chain re-centre failed',
      );
      if (this.listenerCount('error') > 0) this.emit('error', error as Error);
    });
  }

  #movedEnough(price: number): boolean {
    const at = (strike: number): number => nearest(this.#ladder, strike);
    return Math.abs(at(price) - at(this.#centre!)) > this.#recenterStrikes;
  }

  async #recentre(price: number): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    try {
      let target = price;
      for (;;) {
        await this.#apply(target);
        // Prices that came in meanwhile: follow the latest if it moved far enough.
        const latest = this.#lastPrice;
        if (this.#stopped || !this.#follow || latest === undefined || latest === target) break;
        if (!this.#movedEnough(latest)) break;
        target = latest;
      }
    } finally {
      this.#busy = false;
    }
  }

  async #apply(price: number): Promise<void> {
    const chain: OptionChain = this.#store.optionChain(this.underlying, {
      expiry: this.expiry,
      price,
      strikes: this.#strikes,
    });
    const wanted = new Set(chain.tokens);
    const removed = [...this.#held].filter((t) => !wanted.has(t));
    const removable = removed.filter((t) => !this.#pinned(t) && t !== this.spot.instrument_token);
    // Off first: the far strikes' room is what the new ones use.
    if (removable.length > 0) await this.#manager.unsubscribeSymbols(removable);
    for (const t of removed) this.#held.delete(t);
    // Nearest the money first, so a capacity shortfall drops the far wings.
    const centre = chain.atm;
    const fresh = chain.strikes
      .slice()
      .sort((a, b) => Math.abs(a.strike - centre) - Math.abs(b.strike - centre))
      .flatMap((s) => [s.ce, s.pe])
      .filter((i): i is Instrument => i !== undefined && !this.#held.has(i.instrument_token))
      .map((i) => i.instrument_token);
    // Pinned tokens are subscribed already (by their owner): held, but not sent again.
    const toSend = fresh.filter((t) => !this.#pinned(t));
    const room = Math.max(0, this.#manager.availableCapacity());
    const added = toSend.slice(0, room);
    const skipped = toSend.slice(room);
    if (added.length > 0) await this.#manager.subscribeSymbols(added, this.#mode);
    for (const t of fresh) if (!skipped.includes(t)) this.#held.add(t);
    const from = this.#centre;
    this.#centre = centre;
    const event: RecenterEvent = {
      underlying: this.underlying,
      expiry: this.expiry,
      from,
      to: centre,
      price,
      added,
      removed: removable,
      skipped,
    };
    this.#log.info(
      {
        underlying: this.underlying,
        expiry: this.expiry,
        from,
        to: centre,
        price,
        added: added.length,
        removed: removable.length,
        ...(skipped.length > 0 ? { skipped: skipped.length } : {}),
      },
      from === undefined ? 'chain centred' : 'chain re-centred',
    );
    this.emit('recenter', event);
  }
}

/** Index of the value nearest `x` in ascending `list` (0 for an empty list). */
function nearest(list: readonly number[], x: number): number {
  let lo = 0;
  let hi = list.length - 1;
  if (hi < 0) return 0;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(list[lo - 1]! - x) <= Math.abs(list[lo]! - x)) return lo - 1;
  return lo;
}
