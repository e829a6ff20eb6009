/**
 * Wire-level constants of the Kite Connect v3 ticker (see docs/protocol.md and
 * ../shared/docs/kite-protocol.md sections 2 and 4).
 */

/** Subscription modes, as the lowercase strings the wire uses. */
export const Mode = {
  LTP: 'ltp',
  Quote: 'quote',
  Full: 'full',
} as const;
export type Mode = (typeof Mode)[keyof typeof Mode];

export const MODES: readonly Mode[] = [Mode.LTP, Mode.Quote, Mode.Full];

export function isMode(value: unknown): value is Mode {
  return value === 'ltp' || value === 'quote' || value === 'full';
}

/** Segment ids: the low byte of every instrument token. */
export const Segment = {
  NseCM: 1,
  NseFO: 2,
  NseCD: 3,
  BseCM: 4,
  BseFO: 5,
  BseCD: 6,
  McxFO: 7,
  McxSX: 8,
  Indices: 9,
} as const;
export type Segment = (typeof Segment)[keyof typeof Segment];

/** Exchange/segment names exposed on ticks as `exchange` (Kite's instrument-dump spelling). */
export type ExchangeName =
  | 'NSE'
  | 'NFO'
  | 'CDS'
  | 'BSE'
  | 'BFO'
  | 'BCD'
  | 'MCX'
  | 'MCXSX'
  | 'INDICES'
  | 'UNKNOWN';

/** Indexed by segment id (0..255); unknown ids map to 'UNKNOWN'. */
export const EXCHANGE_BY_SEGMENT: readonly ExchangeName[] = (() => {
  const names: ExchangeName[] = new Array(256).fill('UNKNOWN');
  names[Segment.NseCM] = 'NSE';
  names[Segment.NseFO] = 'NFO';
  names[Segment.NseCD] = 'CDS';
  names[Segment.BseCM] = 'BSE';
  names[Segment.BseFO] = 'BFO';
  names[Segment.BseCD] = 'BCD';
  names[Segment.McxFO] = 'MCX';
  names[Segment.McxSX] = 'MCXSX';
  names[Segment.Indices] = 'INDICES';
  return names;
})();

/**
 * Price divisor by segment id (0..255). NSE currency is 1e7 and BSE currency 1e4 (all three official
 * clients agree; the unofficial Rust crate's 1e6/1e3 is a 10x error). Everything else is paise (100).
 */
export const DIVISOR_BY_SEGMENT: Float64Array = (() => {
  const d = new Float64Array(256).fill(100);
  d[Segment.NseCD] = 10_000_000;
  d[Segment.BseCD] = 10_000;
  return d;
})();

export function segmentOf(token: number): number {
  return token & 0xff;
}

export function divisorOf(token: number): number {
  return DIVISOR_BY_SEGMENT[token & 0xff]!;
}

/** Packet lengths; the decoder picks the layout by length only, as the official clients do. */
export const PacketLength = {
  LTP: 8,
  IndexQuote: 28,
  IndexFull: 32,
  Quote: 44,
  Full: 184,
} as const;

/** Server-side limits documented by Kite. */
export const KITE_LIMITS = {
  maxConnectionsPerApiKey: 3,
  maxInstrumentsPerConnection: 3000,
} as const;

export const DEFAULT_KITE_URL = 'wss://ws.kite.trade';

/** Largest valid instrument token (uint32). */
export const MAX_TOKEN = 0xffff_ffff;
