/**
 * Tick and message shapes. Field names, types and meanings match the ticks of the official
 * `kiteconnect` npm client (v5), so handlers written for it work unchanged. Additions (never renames):
 * `exchange` (segment name) and `net_change` (absolute change, last - close).
 *
 * Where the official client is wrong we are right: quantities, volume, OI and timestamps are read
 * unsigned (the official JS client reads every 4-byte field signed); prices are signed int32.
 */
import type { ExchangeName } from './constants.js';

export interface Ohlc {
  open: number;
  high: number;
  low: number;
  close: number;
}

export interface DepthLevel {
  quantity: number;
  price: number;
  orders: number;
}

export interface Depth {
  buy: DepthLevel[];
  sell: DepthLevel[];
}

interface TickBase {
  instrument_token: number;
  tradable: boolean;
  /** Segment name derived from `instrument_token & 0xff` (addition to the official shape). */
  exchange: ExchangeName;
  last_price: number;
}

/** 8-byte packet, any instrument. */
export interface LtpTick extends TickBase {
  mode: 'ltp';
}

/** 28-byte (quote) or 32-byte (full) index packet (segment 9). */
export interface IndexTick extends TickBase {
  mode: 'quote' | 'full';
  tradable: false;
  ohlc: Ohlc;
  /** Percent change against the previous close (official JS semantics); 0 when close is 0. */
  change: number;
  /** Absolute change, last_price - close (0 when close is 0). */
  net_change: number;
  /** Full (32-byte) packets only; `null` when the raw value is 0. */
  exchange_timestamp?: Date | null;
}

/** 44-byte quote packet of a tradable instrument. */
export interface QuoteTick extends TickBase {
  mode: 'quote' | 'full';
  last_traded_quantity: number;
  average_traded_price: number;
  volume_traded: number;
  total_buy_quantity: number;
  total_sell_quantity: number;
  ohlc: Ohlc;
  /** Percent change against the previous close (official JS semantics); 0 when close is 0. */
  change: number;
  /** Absolute change, last_price - close (0 when close is 0). */
  net_change: number;
}

/** 184-byte full packet of a tradable instrument, with 5 + 5 depth. */
export interface FullTick extends QuoteTick {
  mode: 'full';
  /** `null` when the raw value is 0 (as the official JS client). */
  last_trade_time: Date | null;
  oi: number;
  oi_day_high: number;
  oi_day_low: number;
  /** `null` when the raw value is 0 (as the official JS client). */
  exchange_timestamp: Date | null;
  depth: Depth;
}

export type Tick = LtpTick | IndexTick | QuoteTick | FullTick;

/** An order postback as delivered over the ticker (`{"type":"order","data":...}`). */
export interface OrderUpdate {
  order_id: string;
  exchange_order_id: string | null;
  parent_order_id: string | null;
  status: string;
  status_message: string | null;
  status_message_raw: string | null;
  order_timestamp: string | null;
  exchange_update_timestamp: string | null;
  exchange_timestamp: string | null;
  variety: string;
  exchange: string;
  tradingsymbol: string;
  instrument_token: number;
  order_type: string;
  transaction_type: string;
  validity: string;
  product: string;
  quantity: number;
  disclosed_quantity: number;
  price: number;
  trigger_price: number;
  average_price: number;
  filled_quantity: number;
  pending_quantity: number;
  cancelled_quantity: number;
  user_id?: string;
  placed_by?: string;
  app_id?: number;
  checksum?: string;
  unfilled_quantity?: number;
  market_protection?: number;
  meta?: Record<string, unknown>;
  tag?: string | null;
  guid?: string;
  /** Fields we do not model are kept, never dropped. */
  [extra: string]: unknown;
}

/** A decoded server text frame. */
export type TextMessage =
  | { type: 'order'; data: OrderUpdate }
  | { type: 'error'; data: string }
  | { type: 'message'; data: unknown };

/** Kinds of malformed input the decoder reports (never throws). */
export type ProtocolErrorKind =
  | 'frame_too_short' // fewer than 2 bytes where a header was expected (not a heartbeat)
  | 'truncated_length' // a 2-byte length prefix runs past the end of the frame
  | 'truncated_packet' // a packet body runs past the end of the frame
  | 'unknown_packet_length' // a packet whose length is none of 8/28/32/44/184
  | 'trailing_bytes' // bytes left after the N-th packet
  | 'invalid_json' // a text frame that is not JSON
  | 'invalid_text_message' // JSON without a known type / wrong data shape
  | 'unknown_text_type'
  | 'handler_error'; // handling a frame threw (a listener, or a bug): the frame was skipped, the socket kept

export interface ProtocolErrorInfo {
  kind: ProtocolErrorKind;
  /** Byte offset in the frame where the problem was found (binary frames). */
  offset?: number;
  /** Human-readable detail (never contains credentials). */
  detail: string;
}

export type ProtocolErrorHandler = (error: ProtocolErrorInfo) => void;
