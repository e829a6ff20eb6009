/**
 * Byte offsets inside a packet body (kite-protocol.md 4.5-4.8), shared by the decoder, the zero-copy
 * FrameView and the encoder so the three can never disagree. Internal: not re-exported.
 */

/** Every packet: uint32 token, then int32 last price. */
export const OFF_TOKEN = 0;
export const OFF_LAST_PRICE = 4;

/** Index packets (28/32): OHLC on the wire is high, low, open, close. */
export const IDX_HIGH = 8;
export const IDX_LOW = 12;
export const IDX_OPEN = 16;
export const IDX_CLOSE = 20;
/** Server "price change" (int32, unit undocumented): written by the encoder, not exposed on ticks. */
export const IDX_CHANGE = 24;
/** Index full (32) only: uint32 Unix seconds. */
export const IDX_EXCHANGE_TS = 28;

/** Tradable quote (44) and full (184) packets. */
export const Q_LAST_QTY = 8;
export const Q_AVG_PRICE = 12;
export const Q_VOLUME = 16;
export const Q_BUY_QTY = 20;
export const Q_SELL_QTY = 24;
export const Q_OPEN = 28;
export const Q_HIGH = 32;
export const Q_LOW = 36;
export const Q_CLOSE = 40;

/** Full (184) only. */
export const F_LAST_TRADE_TIME = 44;
export const F_OI = 48;
export const F_OI_DAY_HIGH = 52;
export const F_OI_DAY_LOW = 56;
export const F_EXCHANGE_TS = 60;
/** Ten 12-byte depth entries: 5 bids from 64, then 5 offers from 124. */
export const F_DEPTH = 64;
export const F_DEPTH_SELL = 124;
export const DEPTH_ENTRY = 12;
export const DEPTH_LEVELS = 5;
/** Offsets inside a depth entry: uint32 quantity, int32 price, uint16 orders, 2 bytes padding. */
export const D_QTY = 0;
export const D_PRICE = 4;
export const D_ORDERS = 8;

/** Size of the frame header (N) and of each packet's length prefix. */
export const FRAME_HEADER = 2;
export const LENGTH_PREFIX = 2;

/** True for the five packet lengths the protocol defines (8, 28, 32, 44, 184). */
export function isKnownPacketLength(length: number): boolean {
  return length === 184 || length === 44 || length === 8 || length === 32 || length === 28;
}

let lastBuffer: ArrayBufferLike | undefined;
let lastView: DataView = new DataView(new ArrayBuffer(0));

/**
 * A DataView over the WHOLE ArrayBuffer behind `data`; read `data`'s bytes at `baseOf(data) + offset`.
 *
 * Why not a DataView per frame: constructing one is a call into the runtime that cost as much as decoding
 * a full tick. Frames handed over by `ws` are views into shared chunks (socket reads, Node's Buffer pool),
 * so consecutive frames usually share an ArrayBuffer and a one-entry cache removes that cost. The cache
 * holds one buffer alive at most; a detached or resized buffer is detected by its length.
 */
export function viewOf(data: Uint8Array | ArrayBuffer): DataView {
  const buffer = ArrayBuffer.isView(data) ? data.buffer : data;
  if (buffer !== lastBuffer || lastView.byteLength !== buffer.byteLength) {
    lastView = new DataView(buffer);
    lastBuffer = buffer;
  }
  return lastView;
}

/** Offset of `data`'s first byte inside the buffer viewed by viewOf(data). */
export function baseOf(data: Uint8Array | ArrayBuffer): number {
  // isView rather than instanceof ArrayBuffer: works for buffers from another realm (worker, vm).
  return ArrayBuffer.isView(data) ? data.byteOffset : 0;
}
