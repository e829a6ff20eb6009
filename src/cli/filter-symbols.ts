/**
 * `subscribe --filter NSE:INFY`: a trading symbol becomes its token before the filter is parsed. NATS
 * subjects stay token-based (`kite.tick.NSE.408065`): tokens are what every tick carries, they never
 * contain characters NATS reserves (symbols have spaces, `&`, `-`), and they do not change when a
 * contract is renamed; the symbol is resolved here, on the consumer's side, from an instrument list.
 */

import { UnknownInstrumentError } from '../errors.js';
import { defaultCacheDir } from '../instruments/cache.js';
import { UsageError } from './exit-codes.js';
import { loadInstrumentSource } from './instrument-source.js';

/** EXCHANGE:SYMBOL where SYMBOL is not a plain token (NSE:408065 stays an exchange/token filter). */
function isSymbolFilter(text: string): boolean {
  const m = /^([A-Za-z]+):(.+)$/.exec(text.trim());
  return m !== null && !/^\d+$/.test(m[2]!.trim());
}

export async function resolveSymbolFilters(
  filters: readonly string[] | undefined,
  options: { instrumentsFile?: string; env: NodeJS.ProcessEnv; say: (line: string) => void },
): Promise<string[] | undefined> {
  if (filters === undefined || !filters.some(isSymbolFilter))
    return filters === undefined ? undefined : [...filters];
  const { store, origin } = await loadInstrumentSource(
    {
      ...(options.instrumentsFile !== undefined ? { instrumentsFile: options.instrumentsFile } : {}),
      cacheDir: defaultCacheDir(options.env),
      simulatorFallback: { seed: 1 },
    },
    options.say,
  );
  return filters.map((text) => {
    if (!isSymbolFilter(text)) return text;
    try {
      return String(store.get(text, { allowExpired: true }).instrument_token);
    } catch (error) {
      if (error instanceof UnknownInstrumentError)
        throw new UsageError(
          `--filter: cannot read filter ${JSON.stringify(text)}: ${error.message} (in ${origin})`,
        );
      throw error;
    }
  });
}
