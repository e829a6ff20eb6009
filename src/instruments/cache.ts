/**
 * The on-disk copy of Kite's daily instruments list: `$XDG_CACHE_HOME/kiteticker` (else
 * `~/.cache/kiteticker`), one CSV per source (all exchanges, or one exchange) beside a small JSON of
 * when it was fetched and its HTTP validators. A copy fetched before the latest daily publication
 * (08:30 Asia/Kolkata by default) is stale and is revalidated (a 304 keeps it). Writes are atomic
 * (temp file + rename), and a download that is truncated or does not parse replaces nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { InstrumentsDownloadError, InvalidArgumentError } from '../errors.js';
import { type DownloadOptions, downloadInstruments, instrumentsUrl, safeUrl } from './download.js';
import { lastPublication, parseClock } from './ist.js';
import { parseInstrumentsCsv } from './parse.js';
import { InstrumentStore, type InstrumentStoreOptions } from './store.js';
import type { Instrument } from './types.js';

export interface CacheMeta {
  /** When the copy was last confirmed current (downloaded, or answered 304), ms since the epoch. */
  fetchedAt: number;
  etag?: string;
  lastModified?: string;
  /** Where it came from (no credentials, no query). */
  url: string;
  rows: number;
}

export interface InstrumentCacheOptions
  extends Pick<
    DownloadOptions,
    'baseUrl' | 'apiKey' | 'accessToken' | 'timeoutMs' | 'maxBytes' | 'signal' | 'onProgress'
  > {
  /** Cache directory; default `defaultCacheDir()`. */
  dir?: string;
  /** Daily publication time, `HH:MM` Asia/Kolkata (default 08:30). */
  publishAt?: string;
  /** Clock, for tests. */
  now?: () => number;
  /** Called as a download starts (URL without credentials or query), so a caller can say so at once. */
  onDownloadStart?: (url: string) => void;
}

export type RefreshPolicy = 'auto' | 'always' | 'never';

export interface CacheLoadResult {
  store: InstrumentStore;
  /** Per source: where its rows came from. */
  sources: Array<{
    exchange: string | undefined;
    file: string;
    outcome: 'cache' | 'downloaded' | 'not-modified' | 'stale';
    rows: number;
  }>;
  /** Why a stale copy was used (the download failed), for the user. */
  warnings: string[];
}

/** `$XDG_CACHE_HOME/kiteticker` when set (and absolute), else `~/.cache/kiteticker`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg?.startsWith('/')) return join(xdg, 'kiteticker');
  return join(homedir(), '.cache', 'kiteticker');
}

/** Writes `data` to `path` atomically: a reader sees the old file or the new one, never a part. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { flag: 'wx', mode: 0o644 });
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}

export class InstrumentCache {
  readonly dir: string;
  readonly #options: InstrumentCacheOptions;
  readonly #now: () => number;
  readonly #publishAt: string;

  constructor(options: InstrumentCacheOptions = {}) {
    this.#options = options;
    this.dir = options.dir ?? defaultCacheDir();
    this.#now = options.now ?? Date.now;
    this.#publishAt = options.publishAt ?? '08:30';
    parseClock(this.#publishAt);
    instrumentsUrl(options.baseUrl); // validate early
  }

  /** The CSV file of one source: `instruments.csv` (all) or `instruments-NSE.csv`. */
  file(exchange?: string): string {
    return join(this.dir, exchange ? `instruments-${checkExchange(exchange)}.csv` : 'instruments.csv');
  }

  async readMeta(exchange?: string): Promise<CacheMeta | undefined> {
    try {
      const meta = JSON.parse(await readFile(`${this.file(exchange)}.meta.json`, 'utf8')) as CacheMeta;
      return typeof meta.fetchedAt === 'number' ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether a copy fetched at `fetchedAt` predates the latest publication. */
  isStale(fetchedAt: number): boolean {
    return fetchedAt < lastPublication(this.#now(), this.#publishAt);
  }

  /**
   * Loads the sources (`exchanges` empty = all exchanges in one file) into one store. `auto`
   * downloads a missing or stale copy (conditionally), `always` revalidates every copy, `never`
   * only reads. A stale copy whose refresh fails is used with a warning; a missing one throws.
   * @throws InstrumentsDownloadError, or InvalidArgumentError for a cached file that does not parse.
   */
  async load(
    exchanges: readonly string[] = [],
    refresh: RefreshPolicy = 'auto',
    storeOptions?: InstrumentStoreOptions,
  ): Promise<CacheLoadResult> {
    const list = exchanges.length > 0 ? [...new Set(exchanges.map(checkExchange))] : [undefined];
    const rows: Instrument[] = [];
    const sources: CacheLoadResult['sources'] = [];
    const warnings: string[] = [];
    for (const exchange of list) {
      const got = await this.#loadOne(exchange, refresh, warnings);
      for (const r of got.rows) rows.push(r);
      sources.push({ exchange, file: this.file(exchange), outcome: got.outcome, rows: got.rows.length });
    }
    return { store: new InstrumentStore(rows, storeOptions), sources, warnings };
  }

  async #loadOne(
    exchange: string | undefined,
    refresh: RefreshPolicy,
    warnings: string[],
  ): Promise<{ rows: Instrument[]; outcome: CacheLoadResult['sources'][number]['outcome'] }> {
    const file = this.file(exchange);
    const meta = await this.readMeta(exchange);
    const cached = meta ? await readFile(file, 'utf8').catch(() => undefined) : undefined;
    const have = meta !== undefined && cached !== undefined;
    if (have && (refresh === 'never' || (refresh === 'auto' && !this.isStale(meta.fetchedAt)))) {
      return { rows: parseCached(cached, file), outcome: 'cache' };
    }
    if (!have && refresh === 'never') {
      throw new InstrumentsDownloadError(
        `no cached instruments list at ${file}; run \`kiteticker instruments\` to download it`,
      );
    }
    try {
      const got = await this.refresh(exchange, have ? meta : undefined);
      if (got.outcome === 'not-modified')
        return { rows: parseCached(cached!, file), outcome: 'not-modified' };
      return { rows: got.rows, outcome: 'downloaded' };
    } catch (error) {
      if (!have) throw error;
      warnings.push(
        `could not refresh ${file} (${(error as Error).message}); using the copy from ${new Date(meta.fetchedAt).toISOString()}`,
      );
      return { rows: parseCached(cached, file), outcome: 'stale' };
    }
  }

  /**
   * Downloads one source (conditionally when `current` is given) and, only once the whole body has
   * arrived and parsed, replaces the cached copy. A 304 only bumps `fetchedAt`.
   */
  async refresh(
    exchange?: string,
    current?: CacheMeta,
  ): Promise<{ outcome: 'downloaded'; rows: Instrument[] } | { outcome: 'not-modified' }> {
    const o = this.#options;
    const url = safeUrl(instrumentsUrl(o.baseUrl, exchange));
    o.onDownloadStart?.(url);
    const result = await downloadInstruments({
      ...(o.baseUrl !== undefined ? { baseUrl: o.baseUrl } : {}),
      ...(exchange !== undefined ? { exchange } : {}),
      ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}),
      ...(o.accessToken !== undefined ? { accessToken: o.accessToken } : {}),
      ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
      ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
      ...(o.onProgress !== undefined ? { onProgress: o.onProgress } : {}),
      ...(current?.etag ? { etag: current.etag } : {}),
      ...(current?.lastModified ? { lastModified: current.lastModified } : {}),
    });
    const file = this.file(exchange);
    await mkdir(this.dir, { recursive: true });
    if (result.status === 'not-modified') {
      if (!current) throw new InstrumentsDownloadError(`GET ${url} answered 304 to an unconditional request`);
      await writeFileAtomic(`${file}.meta.json`, JSON.stringify({ ...current, fetchedAt: this.#now() }));
      return { outcome: 'not-modified' };
    }
    let rows: Instrument[];
    try {
      rows = parseInstrumentsCsv(result.text);
    } catch (error) {
      throw new InstrumentsDownloadError(
        `GET ${url}: ${(error as Error).message}; the cached copy was kept`,
        {
          cause: error,
        },
      );
    }
    if (rows.length === 0) {
      throw new InstrumentsDownloadError(`GET ${url}: the list has no rows; the cached copy was kept`);
    }
    await writeFileAtomic(file, result.text);
    const meta: CacheMeta = {
      fetchedAt: this.#now(),
      url,
      rows: rows.length,
      ...(result.etag ? { etag: result.etag } : {}),
      ...(result.lastModified ? { lastModified: result.lastModified } : {}),
    };
    await writeFileAtomic(`${file}.meta.json`, JSON.stringify(meta));
    return { outcome: 'downloaded', rows };
  }
}

function parseCached(text: string, file: string): Instrument[] {
  try {
    return parseInstrumentsCsv(text);
  } catch (error) {
    throw new InvalidArgumentError(`cached instruments ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function checkExchange(exchange: string): string {
  const e = exchange.trim().toUpperCase();
  if (!/^[A-Z0-9_-]{1,16}$/.test(e))
    throw new InvalidArgumentError(`invalid exchange ${JSON.stringify(exchange)}`);
  return e;
}
