/**
 * `kiteticker instruments`: download/refresh the cached daily instruments list and say where it is and
 * how many rows each exchange has; `kiteticker instruments search TEXT`: a table of matches.
 */
import {
  defaultCacheDir,
  InstrumentCache,
  type RefreshPolicy,
  writeFileAtomic,
} from '../../instruments/cache.js';
import { formatInstrumentsCsv } from '../../instruments/format.js';
import type { Instrument } from '../../instruments/types.js';
import { loadCredentials, secretsOf } from '../credentials.js';
import { downloadNotice } from '../download-progress.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { loadInstrumentSource } from '../instrument-source.js';
import type { CliIo } from '../io.js';
import { parseChoice, parseInteger, splitList } from '../parse.js';
import { escapeControls, escapeJsonControls, terminalLine } from '../terminal-text.js';

export interface RawInstrumentsOptions {
  apiUrl?: string;
  out?: string;
  exchange?: string;
  cacheDir?: string;
  force?: boolean;
  publishAt?: string;
  keysFile?: string;
}

export interface RawSearchOptions {
  exchange?: string;
  type?: string;
  limit?: string;
  instruments?: string;
  apiUrl?: string;
  cacheDir?: string;
  keysFile?: string;
}

const TYPES = ['ce', 'pe', 'fut', 'eq'] as const;

function stderrIsTty(io: CliIo): boolean {
  return (io.stderr as { isTTY?: boolean }).isTTY === true;
}

/** Progress on a terminal only: a single rewritten line on stderr. */
function progressPrinter(io: CliIo): ((received: number, total: number | undefined) => void) | undefined {
  if (!stderrIsTty(io)) return undefined;
  let last = 0;
  return (received, total) => {
    const now = Date.now();
    if (now - last < 100 && received !== total) return;
    last = now;
    const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
    io.stderr.write(`\r\x1b[2Kdownloading ${mb(received)}${total ? ` / ${mb(total)}` : ''} MB`);
  };
}

export async function runInstruments(raw: RawInstrumentsOptions, io: CliIo): Promise<number> {
  const credentials = loadCredentials(io.env, raw.keysFile);
  const key = credentials.keys[0];
  const secrets = secretsOf(credentials.keys);
  const exchanges = raw.exchange ? splitList(raw.exchange) : [];
  const progress = progressPrinter(io);
  const say = (line: string): void => {
    io.stderr.write(`${progress ? '\r\x1b[2K' : ''}kiteticker: ${terminalLine(line, secrets)}\n`);
  };
  // On a terminal the rewritten progress line says it; elsewhere a line every few seconds.
  const notice = downloadNotice(say, progress ? 2 ** 31 - 1 : undefined);
  const abort = new AbortController();
  let stoppedBy: string | undefined;
  const removeSignals = io.onStopSignal((signal) => {
    stoppedBy = signal;
    abort.abort();
  });
  let cache: InstrumentCache;
  try {
    cache = new InstrumentCache({
      dir: raw.cacheDir ?? defaultCacheDir(io.env),
      ...(raw.apiUrl !== undefined ? { baseUrl: raw.apiUrl } : {}),
      ...(raw.publishAt !== undefined ? { publishAt: raw.publishAt } : {}),
      ...(key ? { apiKey: key.apiKey, accessToken: key.accessToken } : {}),
      signal: abort.signal,
      onDownloadStart: notice.onDownloadStart,
      onProgress: (received, total) => {
        notice.onProgress(received, total);
        progress?.(received, total);
      },
    });
  } catch (error) {
    removeSignals();
    throw new UsageError((error as Error).message, { cause: error });
  }
  const policy: RefreshPolicy = raw.force ? 'always' : 'auto';
  let result: Awaited<ReturnType<InstrumentCache['load']>>;
  try {
    result = await cache.load(exchanges, policy);
  } catch (error) {
    if (stoppedBy === undefined) throw error;
    if (progress) io.stderr.write('\r\x1b[2K');
    // The cached copy is replaced only by a complete download: it is as it was.
    io.stderr.write(
      `kiteticker: stopped (${stoppedBy}); the download was abandoned, the cache is unchanged\n`,
    );
    return ExitCode.Runtime;
  } finally {
    notice.stop();
    removeSignals();
  }
  if (progress) io.stderr.write('\r\x1b[2K');
  for (const w of result.warnings) io.stderr.write(`kiteticker: warning: ${terminalLine(w, secrets)}\n`);
  const outcomeText = {
    cache: 'up to date (cached)',
    downloaded: 'downloaded',
    'not-modified': 'unchanged on the server (304)',
    stale: 'STALE (refresh failed)',
  } as const;
  for (const s of result.sources) {
    io.stdout.write(`${s.file}: ${s.rows} rows, ${outcomeText[s.outcome]}\n`);
  }
  if (raw.out !== undefined) {
    try {
      await writeFileAtomic(raw.out, formatInstrumentsCsv(result.store.all()));
    } catch (error) {
      throw new UsageError(
        `--out: cannot write ${raw.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
    io.stdout.write(`wrote ${result.store.size} rows to ${raw.out}\n`);
  }
  const counts = result.store.countsByExchange();
  io.stdout.write(
    table(
      ['exchange', 'rows'],
      counts.map(([e, n]) => [e, String(n)]),
      [false, true],
    ),
  );
  io.stdout.write(`total ${result.store.size} rows\n`);
  return 0;
}

export async function runInstrumentsSearch(text: string, raw: RawSearchOptions, io: CliIo): Promise<number> {
  const types = raw.type
    ? splitList(raw.type).map((t) => parseChoice('--type', t, TYPES).toUpperCase())
    : undefined;
  const limit = raw.limit === undefined ? 50 : parseInteger('--limit', raw.limit, 1, 100_000);
  const credentials = loadCredentials(io.env, raw.keysFile);
  const source = await loadInstrumentSource(
    {
      ...(raw.instruments !== undefined ? { instrumentsFile: raw.instruments } : {}),
      ...(raw.apiUrl !== undefined ? { apiUrl: raw.apiUrl } : {}),
      cacheDir: raw.cacheDir ?? defaultCacheDir(io.env),
      credentials: credentials.keys[0],
      simulatorFallback: { seed: 1 },
    },
    (line) => io.stderr.write(`kiteticker: ${terminalLine(line, secretsOf(credentials.keys))}\n`),
  );
  const hits = source.store.search(text, {
    ...(raw.exchange ? { exchange: splitList(raw.exchange) } : {}),
    ...(types ? { type: types } : {}),
    limit,
  });
  if (hits.length === 0) {
    io.stderr.write(
      `kiteticker: nothing matches ${escapeJsonControls(JSON.stringify(text))} in ${escapeControls(source.origin)}\n`,
    );
    return 1;
  }
  io.stdout.write(
    table(['token', 'symbol', 'exchange', 'type', 'expiry', 'strike', 'lot size'], hits.map(searchRow), [
      true,
      false,
      false,
      false,
      false,
      true,
      true,
    ]),
  );
  return 0;
}

function searchRow(i: Instrument): string[] {
  return [
    String(i.instrument_token),
    i.tradingsymbol,
    i.exchange,
    i.instrument_type,
    i.expiry,
    i.strike > 0 ? String(i.strike) : '',
    String(i.lot_size),
  ];
}

/**
 * A plain aligned text table (right-aligned where `right[i]`). The cells come from an instruments list,
 * which a hostile `--api-url` or a shared CSV controls: control and format characters are shown
 * escaped (terminal-text.ts), before the columns are measured.
 */
export function table(
  headers: readonly string[],
  cells: readonly (readonly string[])[],
  right: readonly boolean[],
): string {
  const rows = cells.map((r) => r.map(escapeControls));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...rows.map(line)].join('\n')}\n`;
}
