export { parseCsv } from './csv.js';
export { InstrumentIndex, type InstrumentLike, parseSymbol } from './lookup.js';
export { loadInstrumentsCsv, parseInstrumentsCsv } from './parse.js';
export { INSTRUMENT_CSV_COLUMNS, type Instrument } from './types.js';
