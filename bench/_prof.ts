import { decodeFrame, encodeTicks } from '../src/protocol/index.js';

const t: any = {
  tradable: true,
  mode: 'full',
  instrument_token: 408065,
  exchange: 'NSE',
  last_price: 1573.7,
  last_traded_quantity: 7,
  average_traded_price: 1570.37,
  volume_traded: 1192471,
  total_buy_quantity: 1,
  total_sell_quantity: 2,
  ohlc: { open: 1, high: 2, low: 0.5, close: 1.5 },
  change: 0,
  net_change: 0,
  last_trade_time: new Date(1625461887000),
  oi: 0,
  oi_day_high: 0,
  oi_day_low: 0,
  exchange_timestamp: new Date(1625461887000),
  depth: { buy: [], sell: [] },
};
const N = Number(process.argv[2] ?? 20);
const f = encodeTicks(Array.from({ length: N }, () => t));
const chunk = Buffer.alloc(f.length + 20);
chunk.set(f, 7);
const buf = chunk.subarray(7, 7 + f.length);
let sink = 0;
const t0 = performance.now();
let n = 0;
while (performance.now() - t0 < 3000) {
  for (let i = 0; i < 10; i++) sink += decodeFrame(buf).length;
  n += 10 * N;
}
console.log(N, (n / 3 / 1e6).toFixed(2), 'M ticks/s', sink > 0);
