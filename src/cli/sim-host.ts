/**
 * The in-process simulator the CLI starts when no credentials are given (stream, record) and for
 * `kiteticker simulate`. Test credentials are `sim_key_N` / `sim_token_N`.
 */
import type { Instrument } from '../instruments/types.js';
import { KiteSimulator } from '../simulator/index.js';
import type { SimulatorApp } from '../simulator/rest-login.js';
import type { TradingClockOptions } from '../simulator/trading-clock.js';
import type { ChaosOptions, SimulatorInstrument } from '../simulator/types.js';
import type { ApiKeyCredential } from './credentials.js';

export interface SimHostOptions {
  keys: number;
  seed: number;
  /** Ticks per second per subscribed instrument. */
  rate: number;
  port?: number;
  host?: string;
  /** A CSV universe instead of the synthetic one. */
  instruments?: readonly Instrument[];
  universeSize?: number;
  chaos?: ChaosOptions;
  /** The trading-day clock (daily token expiry), off when undefined. */
  tradingClock?: TradingClockOptions;
}

export interface SimHost {
  simulator: KiteSimulator;
  /** The credentials it accepts, ids sim1..simN. */
  keys: ApiKeyCredential[];
}

export function simCredentials(count: number): ApiKeyCredential[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `sim${i + 1}`,
    apiKey: `sim_key_${i + 1}`,
    accessToken: `sim_token_${i + 1}`,
  }));
}

/** The REST login apps of those keys: api_secret `sim_secret_N` (test values), the login default redirect. */
export function simApps(keys: readonly ApiKeyCredential[]): Record<string, SimulatorApp> {
  return Object.fromEntries(
    keys.map((k, i) => [
      k.apiKey,
      { apiSecret: `sim_secret_${i + 1}`, userId: `SIM${String(i + 1).padStart(3, '0')}` },
    ]),
  );
}

/** Instruments from a CSV as simulator instruments; a dump's 0.0 prices get a plausible start. */
export function toSimulatorInstruments(list: readonly Instrument[]): SimulatorInstrument[] {
  return list.map((i) => ({
    instrument_token: i.instrument_token,
    tradingsymbol: i.tradingsymbol,
    exchange: i.exchange,
    segment: i.segment,
    instrument_type: i.instrument_type,
    name: i.name,
    expiry: i.expiry,
    strike: i.strike,
    tick_size: i.tick_size > 0 ? i.tick_size : 0.05,
    lot_size: i.lot_size,
    last_price: i.last_price > 0 ? i.last_price : i.strike > 0 ? Math.max(1, i.strike / 50) : 100,
  }));
}

/** Creates the simulator (not started): its universe is readable at once, to resolve symbols. */
export function createSimHost(options: SimHostOptions): SimHost {
  const keys = simCredentials(options.keys);
  const simulator = new KiteSimulator({
    seed: options.seed,
    ticksPerSecond: options.rate,
    credentials: Object.fromEntries(keys.map((k) => [k.apiKey, k.accessToken])),
    apps: simApps(keys),
    ...(options.tradingClock ? { tradingClock: options.tradingClock } : {}),
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.instruments ? { instruments: toSimulatorInstruments(options.instruments) } : {}),
    ...(options.universeSize !== undefined ? { universeSize: options.universeSize } : {}),
    ...(options.chaos ? { chaos: options.chaos } : {}),
  });
  return { simulator, keys };
}
