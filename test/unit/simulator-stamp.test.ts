import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeTicks, FrameView, HEARTBEAT, type Tick } from '../../src/protocol/index.js';
import { monotonicMs, stampedMs, stampFrame, stampSendTime } from '../../src/simulator/stamp.js';

const level = { quantity: 1, price: 100, orders: 1 };
const full: Tick = {
  tradable: true,
  mode: 'full',
  instrument_token: 408065,
  exchange: 'NSE',
  last_price: 100,
  last_traded_quantity: 1,
  average_traded_price: 100,
  volume_traded: 10,
  total_buy_quantity: 1,
  total_sell_quantity: 1,
  ohlc: { open: 100, high: 100, low: 100, close: 100 },
  change: 0,
  net_change: 0,
  last_trade_time: new Date(1_625_461_887_000),
  oi: 7,
  oi_day_high: 8,
  oi_day_low: 6,
  exchange_timestamp: new Date(1_625_461_887_000),
  depth: { buy: [level, level, level, level, level], sell: [level, level, level, level, level] },
};
const ltp: Tick = { tradable: true, mode: 'ltp', instrument_token: 884737, exchange: 'NSE', last_price: 5 };

describe('simulator stamp', () => {
  it('simulator - stamps every full packet with seconds and nanoseconds, leaves other packets alone', () => {
    const frame = encodeTicks([full, ltp, full]);
    stampFrame(frame, 1234, 567_890_123);
    const ticks = decodeFrame(frame);
    expect(ticks).toHaveLength(3);
    for (const i of [0, 2]) {
      const t = ticks[i] as typeof full;
      expect(t.last_trade_time?.getTime()).toBe(1_234_000);
      expect(t.oi).toBe(567_890_123);
      expect(t.exchange_timestamp?.getTime()).toBe(1_625_461_887_000); // untouched
      expect(t.oi_day_high).toBe(8);
    }
    expect(ticks[1]).toEqual(decodeFrame(encodeTicks([ltp]))[0]);
    const view = new FrameView().reset(frame);
    expect(stampedMs(view.lastTradeTime(0), view.oi(0))).toBeCloseTo(1_234_567.890_123, 6);
  });

  it('simulator - the stamp is the monotonic clock the receiver reads', () => {
    const frame = encodeTicks([full]);
    const before = monotonicMs();
    stampSendTime(frame);
    const after = monotonicMs();
    const view = new FrameView().reset(frame);
    const sent = stampedMs(view.lastTradeTime(0), view.oi(0));
    expect(sent).toBeGreaterThanOrEqual(before - 0.001);
    expect(sent).toBeLessThanOrEqual(after + 0.001);
  });

  it('simulator - stamping skips heartbeats and stops at a packet that runs past the end', () => {
    const heartbeat = HEARTBEAT.slice();
    stampFrame(heartbeat, 1, 1);
    expect(heartbeat).toEqual(HEARTBEAT);
    const frame = encodeTicks([full]);
    const truncated = frame.subarray(0, 100); // the length prefix says 184
    const copy = truncated.slice();
    expect(() => stampFrame(truncated, 9, 9)).not.toThrow();
    expect(truncated).toEqual(copy);
  });
});
