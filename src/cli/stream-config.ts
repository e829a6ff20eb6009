/**
 * `stream` and `record` options, as commander hands them over (strings), turned into one validated
 * config. Pure apart from reading the keys file: bad values throw `UsageError` before anything starts.
 */
import { KITE_LIMITS, type Mode } from '../protocol/constants.js';
import { type LoadedCredentials, loadCredentials } from './credentials.js';
import { UsageError } from './exit-codes.js';
import type { HaCliConfig } from './ha-options.js';
import {
  parseChoice,
  parseHost,
  parseInteger,
  parseMode,
  parseNumber,
  parsePort,
  parseSeconds,
  parseWsUrl,
  splitList,
} from './parse.js';
import { type ChainConfig, type RawChainOptions, resolveChainConfig } from './stream-instruments.js';

export type OutputFormat = 'view' | 'ndjson' | 'none';

/** Raw flag values of `stream`/`record` (commander's camelCase names). */
export interface RawStreamOptions extends RawChainOptions {
  symbols?: string[];
  instruments?: string;
  instrumentsCount?: string;
  mode?: string;
  format?: string;
  duration?: string;
  url?: string;
  keysFile?: string;
  metricsPort?: string;
  metricsHost?: string;
  service?: boolean;
  nats?: string;
  natsJetstream?: boolean;
  natsCreds?: string;
  quotes?: string;
  connectionsPerKey?: string;
  symbolsPerConnection?: string;
  simKeys?: string;
  seed?: string;
  rate?: string;
  verbose?: boolean;
  summary?: boolean;
}

export interface StreamConfig {
  credentials: LoadedCredentials;
  /** True when no credentials were given: an in-process simulator is started. */
  simulator: boolean;
  /** Endpoint for real keys; unused with the simulator. */
  url: string;
  mode: Mode;
  format: OutputFormat;
  /** Stop after this long; undefined = until Ctrl-C/SIGTERM. */
  durationMs: number | undefined;
  metricsPort: number | undefined;
  /** Where /metrics, /healthz and /readyz listen. Default 127.0.0.1. */
  metricsHost: string;
  /**
   * --service: never exit on a refused token or failed connection, JSON log lines on stderr, no
   * live view, no summary.
   */
  service: boolean;
  nats: string | undefined;
  /** With `nats`: keep the last tick per instrument in JetStream (for `subscribe --latest`). */
  natsJetstream: boolean;
  /** With `nats`: a NATS .creds file to authenticate with. */
  natsCreds: string | undefined;
  /** Tokens and EXCHANGE:TRADINGSYMBOLs from arguments and --symbols, in order. */
  instrumentSpecs: string[];
  instrumentsFile: string | undefined;
  /** Size of the default set when no instruments are named. */
  instrumentsCount: number;
  /** Rows of the live view's quote table. */
  quotes: number;
  maxConnectionsPerApi: number;
  maxSymbolsPerConnection: number;
  /** Simulator: number of API keys it accepts and the stream uses. */
  simKeys: number;
  simSeed: number;
  /** Simulator: ticks per second per instrument. */
  simRate: number;
  verbose: boolean;
  summary: boolean;
  /** --chain, --follow, --watchlist, --api-url (stream-instruments.ts). */
  chain: ChainConfig;
  /** `stream --ha GROUP` (ha-options.ts); undefined without --ha. */
  ha?: HaCliConfig | undefined;
}

export const STREAM_DEFAULTS = {
  url: 'wss://ws.kite.trade',
  mode: 'quote' as Mode,
  instrumentsCount: 500,
  quotes: 20,
  connectionsPerKey: KITE_LIMITS.maxConnectionsPerApiKey,
  symbolsPerConnection: KITE_LIMITS.maxInstrumentsPerConnection,
  simKeys: 3,
  seed: 1,
  rate: 1,
} as const;

/**
 * @param args positional instrument arguments
 * @param isTty whether stdout is a terminal (chooses the default format)
 * @param defaultFormat format when stdout is not a terminal and --format is not given
 */
export function resolveStreamConfig(
  args: readonly string[],
  raw: RawStreamOptions,
  env: NodeJS.ProcessEnv,
  isTty: boolean,
  defaultFormat: OutputFormat = 'ndjson',
): StreamConfig {
  const credentials = loadCredentials(env, raw.keysFile);
  const simulator = credentials.keys.length === 0;
  if (simulator && raw.url !== undefined) {
    throw new UsageError(
      '--url needs credentials: set KITE_API_KEY and KITE_ACCESS_TOKEN (or KITE_API_KEY_1..., or --keys-file); a `kiteticker simulate` server accepts the keys it prints',
    );
  }
  const url = raw.url === undefined ? STREAM_DEFAULTS.url : parseWsUrl('--url', raw.url);
  if (raw.natsJetstream === true && raw.nats === undefined)
    throw new UsageError('--nats-jetstream needs --nats');
  if (raw.natsCreds !== undefined && raw.nats === undefined)
    throw new UsageError('--nats-creds needs --nats');
  const mode = raw.mode === undefined ? STREAM_DEFAULTS.mode : parseMode('--mode', raw.mode);
  const formatChoice =
    raw.format === undefined
      ? 'auto'
      : parseChoice('--format', raw.format, ['auto', 'view', 'ndjson', 'none'] as const);
  const service = raw.service === true;
  if (service && formatChoice === 'view')
    throw new UsageError('--service keeps the live view off: use --format ndjson or none');
  // A service's stdout is a journal or a pipe nobody asked ticks of, unless --format ndjson says so.
  const format: OutputFormat =
    formatChoice === 'auto' ? (service ? 'none' : isTty ? 'view' : defaultFormat) : formatChoice;
  if (raw.metricsHost !== undefined && raw.metricsPort === undefined)
    throw new UsageError('--metrics-host needs --metrics-port');
  const metricsHost =
    raw.metricsHost === undefined ? '127.0.0.1' : parseHost('--metrics-host', raw.metricsHost);
  const durationMs = raw.duration === undefined ? undefined : parseSeconds('--duration', raw.duration);
  const metricsPort =
    raw.metricsPort === undefined ? undefined : parsePort('--metrics-port', raw.metricsPort);
  const maxConnectionsPerApi =
    raw.connectionsPerKey === undefined
      ? STREAM_DEFAULTS.connectionsPerKey
      : parseInteger('--connections-per-key', raw.connectionsPerKey, 1, KITE_LIMITS.maxConnectionsPerApiKey);
  const maxSymbolsPerConnection =
    raw.symbolsPerConnection === undefined
      ? STREAM_DEFAULTS.symbolsPerConnection
      : parseInteger(
          '--symbols-per-connection',
          raw.symbolsPerConnection,
          1,
          KITE_LIMITS.maxInstrumentsPerConnection,
        );
  const simKeys =
    raw.simKeys === undefined ? STREAM_DEFAULTS.simKeys : parseInteger('--sim-keys', raw.simKeys, 1, 20);
  const keyCount = simulator ? simKeys : credentials.keys.length;
  const capacity = keyCount * maxConnectionsPerApi * maxSymbolsPerConnection;
  const instrumentsCount =
    raw.instrumentsCount === undefined
      ? Math.min(STREAM_DEFAULTS.instrumentsCount, capacity)
      : parseInteger('--instruments-count', raw.instrumentsCount, 1, capacity);
  // Each positional argument is one instrument, spaces included (the shell already split them).
  const instrumentSpecs = [
    ...args.map((a) => a.trim()).filter((a) => a.length > 0),
    ...(raw.symbols ?? []).flatMap(splitList),
  ];
  if (instrumentSpecs.length > capacity) {
    throw new UsageError(
      `${instrumentSpecs.length} instruments requested but ${keyCount} key${keyCount === 1 ? '' : 's'} x ${maxConnectionsPerApi} connections x ${maxSymbolsPerConnection} hold ${capacity}`,
    );
  }
  return {
    credentials,
    simulator,
    url,
    mode,
    format,
    durationMs,
    metricsPort,
    metricsHost,
    service,
    nats: raw.nats,
    natsJetstream: raw.natsJetstream === true,
    natsCreds: raw.natsCreds,
    instrumentSpecs,
    instrumentsFile: raw.instruments,
    instrumentsCount,
    quotes: raw.quotes === undefined ? STREAM_DEFAULTS.quotes : parseInteger('--quotes', raw.quotes, 0, 1000),
    maxConnectionsPerApi,
    maxSymbolsPerConnection,
    simKeys,
    simSeed: raw.seed === undefined ? STREAM_DEFAULTS.seed : parseInteger('--seed', raw.seed, 0, 0xffff_ffff),
    simRate:
      raw.rate === undefined
        ? STREAM_DEFAULTS.rate
        : parseNumber('--rate', raw.rate, 0.01, 1000, 'ticks per second'),
    verbose: raw.verbose ?? false,
    // A service logs JSON lines; the multi-line summary would break them.
    summary: service ? false : (raw.summary ?? true),
    chain: resolveChainConfig(raw),
  };
}
