/**
 * Zero-copy reader over one binary frame, for scanners that look at a few fields of many packets.
 *
 * `reset(frame)` validates the frame exactly like decodeFrame (same errors through `onError`) and
 * records where each decodable packet starts in a reusable typed array; the accessors then read single
 * fields straight from the frame's bytes. Nothing is allocated per packet or per frame (the index grows
 * only when a frame has more packets than any before), so one FrameView serves every frame.
 * `tick(i)` / `toTicks()` build the same objects as decodeFrame on demand.
 *
 * Why byte reads here and a DataView in decodeFrame: getting a DataView means reading the view's
 * `.buffer`, which costs as much as scanning a small frame; a scanner reading 2-3 fields per packet is
 * faster on plain byte loads, while building whole ticks is faster with DataView reads.
 *
 * Packets skipped as malformed are not counted: `count` is the number of readable packets.
 * A view is valid while its frame is being handled: it reads the caller's buffer, which `ws` may reuse
 * afterwards. Fields a packet kind does not carry read as NaN (e.g. `volumeTraded` of an LTP packet).
 *
 * @example
 * const view = new FrameView();
 * socket.on('message', (data, isBinary) => {
 *   if (!isBinary) return;
 *   view.reset(data as Buffer);
 *   for (let i = 0; i < view.count; i++) {
 *     if (view.lastPrice(i) > limits.get(view.token(i))!) alert(view.tick(i));
 *   }
 * });
 */
import { InvalidArgumentError } from '../errors.js';
import {
  DIVISOR_BY_SEGMENT,
  EXCHANGE_BY_SEGMENT,
  type ExchangeName,
  type Mode,
  Segment,
} from './constants.js';
import { trailingBytes, truncatedLength, truncatedPacket, unknownLength } from './frame-errors.js';
import {
  D_ORDERS,
  D_PRICE,
  D_QTY,
  DEPTH_ENTRY,
  DEPTH_LEVELS,
  F_DEPTH,
  F_DEPTH_SELL,
  F_EXCHANGE_TS,
  F_LAST_TRADE_TIME,
  F_OI,
  F_OI_DAY_HIGH,
  F_OI_DAY_LOW,
  IDX_CLOSE,
  IDX_EXCHANGE_TS,
  IDX_HIGH,
  IDX_LOW,
  IDX_OPEN,
  isKnownPacketLength,
  OFF_LAST_PRICE,
  Q_AVG_PRICE,
  Q_BUY_QTY,
  Q_CLOSE,
  Q_HIGH,
  Q_LAST_QTY,
  Q_LOW,
  Q_OPEN,
  Q_SELL_QTY,
  Q_VOLUME,
  viewOf,
} from './layout.js';
import { readPacket } from './packet.js';
import type { ProtocolErrorHandler, Tick } from './types.js';

const EMPTY_BYTES = new Uint8Array(0);
const INITIAL_CAPACITY = 64;

let lastArrayBuffer: ArrayBuffer | undefined;
let lastWrapper: Uint8Array = EMPTY_BYTES;

/** The frame as a Uint8Array: a view is used as is; an ArrayBuffer is wrapped (the last wrapper is reused). */
function bytesOf(data: Uint8Array | ArrayBuffer): Uint8Array {
  if (ArrayBuffer.isView(data)) return data;
  if (data !== lastArrayBuffer || lastWrapper.byteLength !== data.byteLength) {
    lastWrapper = new Uint8Array(data);
    lastArrayBuffer = data;
  }
  return lastWrapper;
}

export class FrameView {
  /** Number of readable packets in the current frame (0 for a heartbeat). */
  count = 0;
  /** The current frame's bytes (the caller's buffer: valid while the frame is handled). */
  private bytes: Uint8Array = EMPTY_BYTES;
  /** Byte offset of each packet body inside the frame. */
  private starts = new Int32Array(INITIAL_CAPACITY);
  /** Length of each packet body (one of 8, 28, 32, 44, 184). */
  private lengths = new Uint8Array(INITIAL_CAPACITY);

  /** Points the view at a new frame (validating it) and returns `this`. Never throws on bad input. */
  reset(data: Uint8Array | ArrayBuffer, onError?: ProtocolErrorHandler): this {
    this.count = 0;
    const b = bytesOf(data);
    this.bytes = b;
    const size = b.length;
    if (size < 2) {
      if (size === 0) onError?.({ kind: 'frame_too_short', offset: 0, detail: 'empty binary frame' });
      return this;
    }
    const announced = (b[0]! << 8) | b[1]!;
    if (announced > this.starts.length) this.grow(announced);
    let pos = 2;
    let n = 0;
    for (let i = 0; i < announced; i++) {
      if (pos + 2 > size) {
        onError?.(truncatedLength(pos, i, announced, size));
        pos = size; // reported; not also trailing bytes
        break;
      }
      const length = (b[pos]! << 8) | b[pos + 1]!;
      const body = pos + 2;
      if (body + length > size) {
        onError?.(truncatedPacket(pos, i, announced, length, size));
        pos = size; // reported; not also trailing bytes
        break;
      }
      if (isKnownPacketLength(length)) {
        this.starts[n] = body;
        this.lengths[n] = length;
        n++;
      } else if (onError) {
        onError(unknownLength(pos, i, length));
      }
      pos = body + length;
    }
    this.count = n;
    if (pos < size) onError?.(trailingBytes(pos, announced, size));
    return this;
  }

  /** Body length of packet i: 8, 28, 32, 44 or 184. */
  length(i: number): number {
    this.check(i);
    return this.lengths[i]!;
  }

  /** Byte offset of packet i's body inside the frame (for copying raw packets). */
  offset(i: number): number {
    this.check(i);
    return this.starts[i]!;
  }

  token(i: number): number {
    return this.u32(this.at(i));
  }

  segment(i: number): number {
    return this.bytes[this.at(i) + 3]!;
  }

  exchange(i: number): ExchangeName {
    return EXCHANGE_BY_SEGMENT[this.segment(i)]!;
  }

  tradable(i: number): boolean {
    return this.segment(i) !== Segment.Indices;
  }

  divisor(i: number): number {
    return DIVISOR_BY_SEGMENT[this.segment(i)]!;
  }

  mode(i: number): Mode {
    const length = this.length(i);
    return length === 8 ? 'ltp' : length === 44 || length === 28 ? 'quote' : 'full';
  }

  lastPrice(i: number): number {
    const o = this.at(i);
    return this.i32(o + OFF_LAST_PRICE) / DIVISOR_BY_SEGMENT[this.bytes[o + 3]!]!;
  }

  lastTradedQuantity(i: number): number {
    return this.u32Tradable(i, Q_LAST_QTY);
  }

  averageTradedPrice(i: number): number {
    return this.priceTradable(i, Q_AVG_PRICE);
  }

  volumeTraded(i: number): number {
    return this.u32Tradable(i, Q_VOLUME);
  }

  totalBuyQuantity(i: number): number {
    return this.u32Tradable(i, Q_BUY_QTY);
  }

  totalSellQuantity(i: number): number {
    return this.u32Tradable(i, Q_SELL_QTY);
  }

  open(i: number): number {
    return this.ohlcField(i, Q_OPEN, IDX_OPEN);
  }

  high(i: number): number {
    return this.ohlcField(i, Q_HIGH, IDX_HIGH);
  }

  low(i: number): number {
    return this.ohlcField(i, Q_LOW, IDX_LOW);
  }

  close(i: number): number {
    return this.ohlcField(i, Q_CLOSE, IDX_CLOSE);
  }

  /** Percent change against close (official JS semantics), 0 when close is 0; NaN for LTP packets. */
  change(i: number): number {
    const close = this.close(i);
    if (Number.isNaN(close)) return close;
    return close !== 0 ? ((this.lastPrice(i) - close) * 100) / close : 0;
  }

  /** Absolute change, last - close, 0 when close is 0; NaN for LTP packets. */
  netChange(i: number): number {
    const close = this.close(i);
    if (Number.isNaN(close)) return close;
    return close !== 0 ? this.lastPrice(i) - close : 0;
  }

  /** Last trade time in Unix seconds (0 when the server sent 0); full 184-byte packets only, else NaN. */
  lastTradeTime(i: number): number {
    return this.u32Full(i, F_LAST_TRADE_TIME);
  }

  /** Exchange timestamp in Unix seconds (0 when absent); full and index full packets, else NaN. */
  exchangeTimestamp(i: number): number {
    const o = this.at(i);
    const length = this.lengths[i]!;
    if (length === 184) return this.u32(o + F_EXCHANGE_TS);
    if (length === 32) return this.u32(o + IDX_EXCHANGE_TS);
    return Number.NaN;
  }

  oi(i: number): number {
    return this.u32Full(i, F_OI);
  }

  oiDayHigh(i: number): number {
    return this.u32Full(i, F_OI_DAY_HIGH);
  }

  oiDayLow(i: number): number {
    return this.u32Full(i, F_OI_DAY_LOW);
  }

  /** Bid (buy side) depth level 0..4, best first; NaN if packet i is not a full packet. */
  bidQuantity(i: number, level: number): number {
    return this.depthU32(i, F_DEPTH, level, D_QTY);
  }

  bidPrice(i: number, level: number): number {
    return this.depthPrice(i, F_DEPTH, level);
  }

  bidOrders(i: number, level: number): number {
    return this.depthOrders(i, F_DEPTH, level);
  }

  /** Offer (sell side) depth level 0..4, best first; NaN if packet i is not a full packet. */
  askQuantity(i: number, level: number): number {
    return this.depthU32(i, F_DEPTH_SELL, level, D_QTY);
  }

  askPrice(i: number, level: number): number {
    return this.depthPrice(i, F_DEPTH_SELL, level);
  }

  askOrders(i: number, level: number): number {
    return this.depthOrders(i, F_DEPTH_SELL, level);
  }

  /** Builds the tick object of packet i (same object as decodeFrame would give). */
  tick(i: number): Tick {
    const o = this.at(i);
    return readPacket(viewOf(this.bytes), this.bytes.byteOffset + o, this.lengths[i]!);
  }

  /** Builds every tick of the frame (same result as decodeFrame, without re-validating). */
  toTicks(): Tick[] {
    const out: Tick[] = [];
    if (this.count === 0) return out;
    const v = viewOf(this.bytes);
    const base = this.bytes.byteOffset;
    for (let i = 0; i < this.count; i++) out.push(readPacket(v, base + this.starts[i]!, this.lengths[i]!));
    return out;
  }

  private check(i: number): void {
    // One unsigned compare also rejects negatives and non-integers' NaN; stale slots past count are never read.
    if (!(i >>> 0 === i && i < this.count)) {
      throw new InvalidArgumentError(`packet index ${i} out of range (frame has ${this.count} packets)`);
    }
  }

  private at(i: number): number {
    this.check(i);
    return this.starts[i]!;
  }

  private u32Tradable(i: number, field: number): number {
    const o = this.at(i);
    const length = this.lengths[i]!;
    return length === 184 || length === 44 ? this.u32(o + field) : Number.NaN;
  }

  private priceTradable(i: number, field: number): number {
    const o = this.at(i);
    const length = this.lengths[i]!;
    if (length !== 184 && length !== 44) return Number.NaN;
    return this.i32(o + field) / DIVISOR_BY_SEGMENT[this.bytes[o + 3]!]!;
  }

  private u32Full(i: number, field: number): number {
    const o = this.at(i);
    return this.lengths[i] === 184 ? this.u32(o + field) : Number.NaN;
  }

  private ohlcField(i: number, tradableField: number, indexField: number): number {
    const o = this.at(i);
    const length = this.lengths[i]!;
    const field = length === 184 || length === 44 ? tradableField : length === 8 ? -1 : indexField;
    if (field < 0) return Number.NaN;
    return this.i32(o + field) / DIVISOR_BY_SEGMENT[this.bytes[o + 3]!]!;
  }

  private depthEntry(i: number, side: number, level: number): number {
    const o = this.at(i);
    if (this.lengths[i] !== 184 || !(level >>> 0 === level && level < DEPTH_LEVELS)) return -1;
    return o + side + level * DEPTH_ENTRY;
  }

  private depthU32(i: number, side: number, level: number, field: number): number {
    const e = this.depthEntry(i, side, level);
    return e < 0 ? Number.NaN : this.u32(e + field);
  }

  private depthPrice(i: number, side: number, level: number): number {
    const e = this.depthEntry(i, side, level);
    if (e < 0) return Number.NaN;
    return this.i32(e + D_PRICE) / DIVISOR_BY_SEGMENT[this.bytes[this.starts[i]! + 3]!]!;
  }

  private depthOrders(i: number, side: number, level: number): number {
    const e = this.depthEntry(i, side, level);
    return e < 0 ? Number.NaN : this.u16(e + D_ORDERS);
  }

  // Big-endian reads straight from the frame's bytes (the caller checked the packet fits).
  private u32(o: number): number {
    const b = this.bytes;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  private i32(o: number): number {
    const b = this.bytes;
    return (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
  }

  private u16(o: number): number {
    return (this.bytes[o]! << 8) | this.bytes[o + 1]!;
  }

  private grow(needed: number): void {
    let capacity = this.starts.length;
    while (capacity < needed) capacity *= 2;
    this.starts = new Int32Array(capacity);
    this.lengths = new Uint8Array(capacity);
  }
}
