/**
 * Test helper: one tick of each of the five packet kinds, with unique tokens, null and non-null
 * timestamps, negative prices and the three price divisors. Every value is one the official kiteconnect
 * client also reads right (no unsigned field >= 2^31, no index close of 0), so ours and theirs must agree.
 */
import type { FullTick, QuoteTick, Tick } from '../../src/protocol/types.js';

export function contractTicks(): Tick[] {
  const full: FullTick = {
    tradable: true,
    mode: 'full',
    instrument_token: 408065,
    exchange: 'NSE',
    last_price: 1573.7,
    last_traded_quantity: 7,
    average_traded_price: 1570.37,
    volume_traded: 1_192_471,
    total_buy_quantity: 256_443,
    total_sell_quantity: 363_009,
    ohlc: { open: 1569.15, high: 1575, low: 1561.05, close: 1567.8 },
    change: 0,
    net_change: 0,
    last_trade_time: new Date(1_625_461_887_000),
    exchange_timestamp: new Date(1_625_461_888_000),
    oi: 12,
    oi_day_high: 13,
    oi_day_low: 11,
    depth: {
      buy: [1, 2, 3, 4, 5].map((k) => ({ quantity: k * 100, price: 1573.7 - k * 0.05, orders: k })),
      sell: [1, 2, 3, 4, 5].map((k) => ({ quantity: k * 7, price: 1573.7 + k * 0.05, orders: 2 * k })),
    },
  };
  return [
    full,
    {
      ...full,
      instrument_token: 1000 * 256 + 3,
      exchange: 'CDS',
      last_price: 83.1234567,
      average_traded_price: 83,
      ohlc: { open: 83, high: 84, low: 82, close: 82.5 },
      last_trade_time: null,
      exchange_timestamp: null,
      depth: {
        buy: [1, 2, 3, 4, 5].map((k) => ({ quantity: k, price: 83 - k / 1000, orders: k })),
        sell: [1, 2, 3, 4, 5].map((k) => ({ quantity: k * 10, price: 83 + k / 1000, orders: 2 * k })),
      },
    },
    { ...full, mode: 'quote', instrument_token: 738561, last_price: -2.5 } as QuoteTick,
    { tradable: true, mode: 'ltp', instrument_token: 500 * 256 + 6, exchange: 'BCD', last_price: -1.25 },
    {
      tradable: false,
      mode: 'quote',
      instrument_token: 256265,
      exchange: 'INDICES',
      last_price: 24000.5,
      ohlc: { open: 23900, high: 24100, low: 23800, close: 23950 },
      change: 0,
      net_change: 0,
    },
    {
      tradable: false,
      mode: 'full',
      instrument_token: 265,
      exchange: 'INDICES',
      last_price: 80000,
      ohlc: { open: 79000, high: 81000, low: 78000, close: 79500 },
      change: 0,
      net_change: 0,
      exchange_timestamp: new Date(1_625_461_887_000),
    },
    {
      tradable: false,
      mode: 'full',
      instrument_token: 521,
      exchange: 'INDICES',
      last_price: 100.5,
      ohlc: { open: 100, high: 101, low: 99, close: 100.25 },
      change: 0,
      net_change: 0,
      exchange_timestamp: null,
    },
  ];
}
