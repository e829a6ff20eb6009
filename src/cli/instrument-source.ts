/**
 * Where the CLI's instrument list comes from: `--instruments FILE`, else the daily cache (downloaded
 * or revalidated when credentials or `--api-url` are given and it is stale), else the built-in
 * simulator's universe. Streaming against the built-in simulator uses the simulator's own list: a real
 * Kite list names other tokens.
 */
import { InstrumentCache } from '../instruments/cache.js';
import { InstrumentStore } from '../instruments/store.js';
import type { Instrument } from '../instruments/types.js';
import { generateUniverse } from '../simulator/universe.js';
import type { ApiKeyCredential } from './credentials.js';
import { downloadNotice } from './download-progress.js';
import { UsageError } from './exit-codes.js';
import { loadInstrumentsFile } from './instruments-file.js';

export interface InstrumentSourceOptions {
  instrumentsFile?: string;
  /** REST root for the cache's downloads (default https://api.kite.trade). */
  apiUrl?: string;
  cacheDir?: string;
  /** Sent with downloads; without it (and without `apiUrl`) the cache is only read. */
  credentials?: ApiKeyCredential | undefined;
  /** When neither a file nor a cached copy is available: the simulator's universe for this seed. */
  simulatorFallback?: { seed: number; size?: number };
  /** Aborts a download in progress (a stop by SIGTERM/SIGINT). */
  signal?: AbortSignal;
}

export interface InstrumentSource {
  store: InstrumentStore;
  /** Human-readable origin: a file path, or "the built-in simulator's list". */
  origin: string;
}

type ListRow = Omit<Instrument, 'exchange_token'> & { exchange_token?: number };

/**
 * A store over the simulator's universe. Its expiries are fixed dates, so "today" is pinned to its
 * first expiry: nearest-expiry queries and expiry checks then behave as on the day the list was made.
 */
export function simulatorStore(instruments: readonly ListRow[]): InstrumentStore {
  let first = '';
  for (const i of instruments) if (i.expiry !== '' && (first === '' || i.expiry < first)) first = i.expiry;
  const rows = instruments.map(
    (i): Instrument => ({ exchange_token: i.exchange_token ?? Math.floor(i.instrument_token / 256), ...i }),
  );
  return new InstrumentStore(rows, first !== '' ? { today: first } : {});
}

export async function loadInstrumentSource(
  options: InstrumentSourceOptions,
  say: (line: string) => void,
): Promise<InstrumentSource> {
  if (options.instrumentsFile !== undefined) {
    const list = await loadInstrumentsFile(options.instrumentsFile);
    return { store: new InstrumentStore(list), origin: options.instrumentsFile };
  }
  const canDownload = options.credentials !== undefined || options.apiUrl !== undefined;
  const notice = downloadNotice(say);
  const cache = new InstrumentCache({
    onDownloadStart: notice.onDownloadStart,
    onProgress: notice.onProgress,
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
    ...(options.cacheDir !== undefined ? { dir: options.cacheDir } : {}),
    ...(options.apiUrl !== undefined ? { baseUrl: options.apiUrl } : {}),
    ...(options.credentials
      ? { apiKey: options.credentials.apiKey, accessToken: options.credentials.accessToken }
      : {}),
  });
  try {
    const got = await cache.load([], canDownload ? 'auto' : 'never');
    for (const w of got.warnings) say(`warning: ${w}`);
    const s = got.sources[0]!;
    if (s.outcome === 'cache' && !canDownload) {
      const meta = await cache.readMeta();
      if (meta && cache.isStale(meta.fetchedAt)) {
        say(
          `warning: ${s.file} predates today's list; run \`kiteticker instruments\` (with credentials) to refresh it`,
        );
      }
    }
    return { store: got.store, origin: s.file };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (canDownload || options.simulatorFallback === undefined) {
      throw new UsageError(
        `no instruments list to resolve symbols: ${(error as Error).message}. Give --instruments FILE, or run \`kiteticker instruments\` with credentials`,
        { cause: error },
      );
    }
  } finally {
    notice.stop();
  }
  const { seed, size } = options.simulatorFallback;
  say(`no cached instruments list (${cache.file()}); using the built-in simulator's list`);
  return {
    store: simulatorStore(generateUniverse(size ?? 30_000, seed)),
    origin: "the built-in simulator's list",
  };
}
