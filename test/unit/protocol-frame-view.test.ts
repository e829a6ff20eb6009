import { describe, expect, it } from 'vitest';
import { KiteTickerError } from '../../src/errors.js';
import { decodeFrame, FrameView } from '../../src/protocol/index.js';
import type { FullTick, IndexTick, ProtocolErrorInfo, QuoteTick } from '../../src/protocol/types.js';
import { Bytes, frame, offsetView } from './protocol-bytes.js';

const ltp = new Bytes().i32(408065).i32(157315).build();
const indexFull = new Bytes()
  .i32(256265)
  .i32(2400050)
  .i32(2410000)
  .i32(2380000)
  .i32(2390000)
  .i32(2395000)
  .i32(0)
  .i32(1625461887)
  .build();
function full(token: number): Uint8Array {
  const b = new Bytes()
    .i32(token)
    .i32(-150) // last -1.5 (NFO)
    .i32(3)
    .i32(200)
    .i32(3_000_000_000)
    .i32(10)
    .i32(20)
    .i32(100)
    .i32(300)
    .i32(50)
    .i32(120)
    .i32(1625461887)
    .i32(2 ** 31)
    .i32(7)
    .i32(6)
    .i32(1625461888);
  for (let i = 0; i < 10; i++)
    b.i32(100 + i)
      .i32(1000 + i)
      .u16(i)
      .u16(0);
  return b.build();
}
const NFO = 77 * 256 + 2;

describe('frame view', () => {
  it('frame view - reads every field of every packet kind without building ticks', () => {
    const view = new FrameView().reset(offsetView(frame(ltp, indexFull, full(NFO))));
    expect(view.count).toBe(3);
    expect([view.token(0), view.length(0), view.mode(0), view.lastPrice(0), view.exchange(0)]).toEqual([
      408065,
      8,
      'ltp',
      1573.15,
      'NSE',
    ]);
    expect(view.volumeTraded(0)).toBeNaN();
    expect(view.close(0)).toBeNaN();
    expect(view.change(0)).toBeNaN();

    expect([view.mode(1), view.tradable(1), view.open(1), view.high(1), view.low(1), view.close(1)]).toEqual([
      'full',
      false,
      23900,
      24100,
      23800,
      23950,
    ]);
    expect(view.exchangeTimestamp(1)).toBe(1625461887);
    expect(view.netChange(1)).toBe(50.5);
    expect(view.lastTradeTime(1)).toBeNaN();

    expect(view.lastPrice(2)).toBe(-1.5);
    expect(view.volumeTraded(2)).toBe(3_000_000_000);
    expect(view.oi(2)).toBe(2 ** 31);
    expect([view.oiDayHigh(2), view.oiDayLow(2)]).toEqual([7, 6]);
    expect([view.lastTradeTime(2), view.exchangeTimestamp(2)]).toEqual([1625461887, 1625461888]);
    expect([view.bidQuantity(2, 0), view.bidPrice(2, 0), view.bidOrders(2, 0)]).toEqual([100, 10, 0]);
    expect([view.askQuantity(2, 4), view.askPrice(2, 4), view.askOrders(2, 4)]).toEqual([109, 10.09, 9]);
    expect(view.bidPrice(2, 5)).toBeNaN();
    expect(view.change(2)).toBe(((-1.5 - 1.2) * 100) / 1.2);
  });

  it('frame view - tick(i) and toTicks() equal decodeFrame', () => {
    const bytes = frame(ltp, indexFull, full(NFO), full(408065));
    const view = new FrameView().reset(bytes);
    const decoded = decodeFrame(bytes);
    expect(view.toTicks()).toEqual(decoded);
    expect(view.tick(2)).toEqual(decoded[2]);
    const fromArrayBuffer = new FrameView().reset(bytes.slice().buffer);
    expect(fromArrayBuffer.toTicks()).toEqual(decoded);
    expect(fromArrayBuffer.volumeTraded(3)).toBe(3_000_000_000);
    const fromOffsetView = new FrameView().reset(offsetView(bytes));
    expect(fromOffsetView.offset(0)).toBe(4);
    expect(fromOffsetView.tick(3)).toEqual(decoded[3]);
    expect((view.tick(1) as IndexTick).exchange_timestamp).toEqual(new Date(1625461887000));
    expect((decoded[2] as FullTick).depth.sell[4]).toEqual({ quantity: 109, price: 10.09, orders: 9 });
  });

  it('frame view - is reusable across frames, grows for big frames and empties on a heartbeat', () => {
    const view = new FrameView();
    const many = frame(
      ...Array.from({ length: 300 }, (_, i) =>
        new Bytes()
          .i32(i * 256 + 1)
          .i32(i)
          .build(),
      ),
    );
    view.reset(many);
    expect(view.count).toBe(300);
    expect(view.token(299)).toBe(299 * 256 + 1);
    expect(view.lastPrice(299)).toBe(2.99);
    view.reset(frame(ltp));
    expect(view.count).toBe(1);
    expect(() => view.token(1)).toThrow(KiteTickerError); // a stale slot of the previous frame
    view.reset(Uint8Array.of(0));
    expect(view.count).toBe(0);
    expect(view.toTicks()).toEqual([]);
  });

  it('frame view - skips bad packets and reports them like decodeFrame', () => {
    const bad = new Bytes().i32(1).zeros(6).build();
    const errors: ProtocolErrorInfo[] = [];
    const bytes = frame(ltp, bad, ltp);
    const view = new FrameView().reset(bytes.subarray(0, bytes.length - 2), (e) => errors.push(e));
    expect(view.count).toBe(1);
    expect(errors.map((e) => e.kind)).toEqual(['unknown_packet_length', 'truncated_packet']);
    expect((view.tick(0) as QuoteTick).instrument_token).toBe(408065);
  });

  it('frame view - out-of-range or non-integer indexes throw a typed error', () => {
    const view = new FrameView().reset(frame(ltp));
    expect(() => view.lastPrice(-1)).toThrow(/out of range/);
    expect(() => view.lastPrice(0.5)).toThrow(/out of range/);
    expect(() => view.tick(1)).toThrow(KiteTickerError);
  });
});
