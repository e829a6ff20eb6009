/**
 * Sample ticks for the NATS tests and bench: every packet kind (ltp, index quote/full, quote, full) on
 * several exchanges, made canonical by one trip through the codec so that what a consumer decodes can be
 * compared with deep equality.
 */
import { decodeFrame } from '../../src/protocol/decode.js';
import { encodeTicks } from '../../src/protocol/encode.js';
import type { Tick } from '../../src/protocol/types.js';

export const INFY = 408065; // NSE (segment 1)
export const NIFTY_FUT = (13_000 << 8) | 2; // NFO
export const USDINR = (1_500 << 8) | 3; // CDS, divisor 1e7
export const NIFTY_50 = 256265; // INDICES

function level(i: number, base: number) {
  return { quantity: 10 * (i + 1), price: base + i * 0.05, orders: i + 1 };
}

/** The i-th sample tick: kinds and tokens cycle, values move with i. */
export function sampleTick(i: number): Tick {
  const step = i * 0.05;
  switch (i % 5) {
    case 0:
      return {
        mode: 'full',
        tradable: true,
        exchange: 'NSE',
        instrument_token: INFY,
        last_price: 1573.7 + step,
        last_traded_quantity: 7 + i,
        average_traded_price: 1570.37,
        volume_traded: 1_192_471 + i,
        total_buy_quantity: 256_443,
        total_sell_quantity: 363_009,
        ohlc: { open: 1569.15, high: 1575 + step, low: 1561.05, close: 1567.8 },
        change: 0,
        net_change: 0,
        last_trade_time: new Date(1_625_461_887_000 + i * 1000),
        oi: 0,
        oi_day_high: 0,
        oi_day_low: 0,
        exchange_timestamp: new Date(1_625_461_887_000 + i * 1000),
        depth: {
          buy: [0, 1, 2, 3, 4].map((k) => level(k, 1573.4 - 0.25)),
          sell: [0, 1, 2, 3, 4].map((k) => level(k, 1573.7)),
        },
      };
    case 1:
      return {
        mode: 'quote',
        tradable: true,
        exchange: 'NFO',
        instrument_token: NIFTY_FUT,
        last_price: 22_150.5 + step,
        last_traded_quantity: 50,
        average_traded_price: 22_140.25,
        volume_traded: 9_000_000 + i,
        total_buy_quantity: 400_000,
        total_sell_quantity: 350_000,
        ohlc: { open: 22_100, high: 22_200, low: 22_050, close: 22_080 },
        change: 0,
        net_change: 0,
      };
    case 2:
      return {
        mode: 'ltp',
        tradable: true,
        exchange: 'CDS',
        instrument_token: USDINR,
        last_price: 83.1234 + i * 0.0001,
      };
    case 3:
      return {
        mode: 'quote',
        tradable: false,
        exchange: 'INDICES',
        instrument_token: NIFTY_50,
        last_price: 22_000.35 + step,
        ohlc: { open: 21_950, high: 22_050.5, low: 21_900.25, close: 21_980 },
        change: 0,
        net_change: 0,
      };
    default:
      return {
        mode: 'full',
        tradable: false,
        exchange: 'INDICES',
        instrument_token: NIFTY_50,
        last_price: 22_001.35 + step,
        ohlc: { open: 21_950, high: 22_050.5, low: 21_900.25, close: 21_980 },
        change: 0,
        net_change: 0,
        exchange_timestamp: new Date(1_700_000_000_000 + i * 1000),
      };
  }
}

/** `n` canonical ticks: encoded and decoded once, so field values are exactly what the wire carries. */
export function sampleTicks(n: number, from = 0): Tick[] {
  const out: Tick[] = [];
  // A frame holds at most 65535 packets: canonicalize in chunks.
  for (let start = from; start < from + n; start += 10_000) {
    const raw: Tick[] = [];
    for (let i = start; i < Math.min(from + n, start + 10_000); i++) raw.push(sampleTick(i));
    out.push(...decodeFrame(encodeTicks(raw)));
  }
  return out;
}
