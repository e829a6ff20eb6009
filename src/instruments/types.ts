/**
 * One row of a Kite Connect instruments dump (`GET /instruments`, CSV). Field names and meanings follow
 * the CSV header exactly (kite-protocol.md section 8), so rows read here can be compared with any other
 * tool's. `expiry` stays the raw `YYYY-MM-DD` string ('' when absent): dates in the dump have no zone.
 */
export interface Instrument {
  instrument_token: number;
  exchange_token: number;
  tradingsymbol: string;
  name: string;
  last_price: number;
  /** `YYYY-MM-DD`, or '' for instruments without expiry. */
  expiry: string;
  strike: number;
  tick_size: number;
  lot_size: number;
  /** EQ, FUT, CE, PE... */
  instrument_type: string;
  /** NSE, BSE, NFO-OPT, NFO-FUT, CDS-FUT, INDICES... */
  segment: string;
  /** NSE, BSE, NFO, CDS, BCD, BFO, MCX... */
  exchange: string;
}

/** The columns parseInstrumentsCsv needs in the header (in any order; extra columns are ignored). */
export const INSTRUMENT_CSV_COLUMNS = [
  'instrument_token',
  'exchange_token',
  'tradingsymbol',
  'name',
  'last_price',
  'expiry',
  'strike',
  'tick_size',
  'lot_size',
  'instrument_type',
  'segment',
  'exchange',
] as const;
