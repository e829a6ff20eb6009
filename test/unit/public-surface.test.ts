/**
 * The public surface is a list, not an accident: the root entry and `kiteticker-manager/protocol` export
 * exactly the names below (types included, read with the TypeScript compiler; values checked at run
 * time too), and docs/api.md documents each of them. Adding or removing an export means editing this
 * list and the page together.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every name of the root entry, values and types (134 before issue 14). */
const ROOT_NAMES = [
  'AbortedError',
  'ApiKeyCredentials',
  'ApiKeyFailureReason',
  'ApiKeyNotFoundError',
  'ApiKeyState',
  'ApiKeyStats',
  'AuthFailedError',
  'CacheLoadResult',
  'CapacityError',
  'ChainStrike',
  'Channel',
  'ChannelId',
  'ChannelOptions',
  'ClosedError',
  'ConnectTimeoutError',
  'ConnectionError',
  'ConnectionHealthState',
  'ConnectionStatsSnapshot',
  'ConnectionStatus',
  'DEFAULT_KITE_API_URL',
  'Depth',
  'DepthLevel',
  'DistributionStrategy',
  'DuplicateApiKeyError',
  'ErrorCode',
  'ExchangeName',
  'ExpiredInstrumentError',
  'ExpirySpec',
  'FailoverEvent',
  'FrameView',
  'FullTick',
  'IndexTick',
  'Instrument',
  'InstrumentCache',
  'InstrumentCacheOptions',
  'InstrumentIndex',
  'InstrumentLike',
  'InstrumentStore',
  'InstrumentStoreOptions',
  'InstrumentsDownloadError',
  'InvalidArgumentError',
  'InvalidTokenError',
  'KiteTicker',
  'KiteTickerError',
  'KiteTickerEvents',
  'KiteTickerManager',
  'KiteTickerManagerConfig',
  'KiteTickerManagerEvents',
  'KiteTickerManagerOptions',
  'KiteTickerOptions',
  'LatestQuoteTable',
  'LiveChain',
  'LiveChainOptions',
  'Logger',
  'LoginError',
  'LtpTick',
  'MalformedEnvelopeError',
  'ManagerEvents',
  'ManagerHealth',
  'ManagerState',
  'ManagerStats',
  'ManualDistributionError',
  'Mode',
  'MultiApiEvents',
  'MultiApiKiteTickerManager',
  'MultiApiKiteTickerManagerBuilder',
  'MultiApiKiteTickerManagerConfig',
  'MultiApiMessage',
  'MultiApiStats',
  'NotStartedError',
  'Ohlc',
  'OptionChain',
  'OrderUpdate',
  'OverflowPolicy',
  'Placement',
  'ProtocolErrorHandler',
  'ProtocolErrorInfo',
  'ProtocolErrorKind',
  'QuoteTick',
  'RecenterEvent',
  'ReconnectExhaustedError',
  'ReconnectPolicy',
  'RefreshPolicy',
  'SearchOptions',
  'StatusEvent',
  'TextMessage',
  'Tick',
  'TickerMessage',
  'TickerStats',
  'TokenProviderError',
  'UnexpectedError',
  'UnknownInstrumentError',
  'UnplacedEvent',
  'decodeFrame',
  'defaultCacheDir',
  'downloadInstruments',
  'formatInstrumentsCsv',
  'isHeartbeat',
  'loadInstrumentsCsv',
  'parseInstrumentsCsv',
  'parseSymbol',
  'parseTextMessage',
  'redact',
  'silentLogger',
];

/** The root's run-time values (types and `export type` classes excluded). */
const ROOT_VALUES = [
  'AbortedError',
  'ApiKeyNotFoundError',
  'AuthFailedError',
  'CapacityError',
  'ChannelId',
  'ClosedError',
  'ConnectTimeoutError',
  'ConnectionError',
  'DEFAULT_KITE_API_URL',
  'DistributionStrategy',
  'DuplicateApiKeyError',
  'ErrorCode',
  'ExpiredInstrumentError',
  'FrameView',
  'InstrumentCache',
  'InstrumentIndex',
  'InstrumentStore',
  'InstrumentsDownloadError',
  'InvalidArgumentError',
  'InvalidTokenError',
  'KiteTicker',
  'KiteTickerError',
  'KiteTickerManager',
  'LiveChain',
  'LoginError',
  'MalformedEnvelopeError',
  'ManualDistributionError',
  'Mode',
  'MultiApiKiteTickerManager',
  'MultiApiKiteTickerManagerBuilder',
  'NotStartedError',
  'ReconnectExhaustedError',
  'TokenProviderError',
  'UnexpectedError',
  'UnknownInstrumentError',
  'decodeFrame',
  'defaultCacheDir',
  'downloadInstruments',
  'formatInstrumentsCsv',
  'isHeartbeat',
  'loadInstrumentsCsv',
  'parseInstrumentsCsv',
  'parseSymbol',
  'parseTextMessage',
  'redact',
  'silentLogger',
];

const PROTOCOL_NAMES = [
  'BoundedChannel',
  'Broadcaster',
  'Channel',
  'ChannelOptions',
  'ClientCommand',
  'DEFAULT_CHANNEL_CAPACITY',
  'DEFAULT_KITE_URL',
  'DEFAULT_MAX_TOKENS_PER_MESSAGE',
  'DEFAULT_ORDER_DEDUPE_ENTRIES',
  'DEFAULT_ORDER_DEDUPE_WINDOW_MS',
  'DIVISOR_BY_SEGMENT',
  'Depth',
  'DepthLevel',
  'EXCHANGE_BY_SEGMENT',
  'ExchangeName',
  'FrameView',
  'FullTick',
  'HEARTBEAT',
  'IndexTick',
  'KITE_LIMITS',
  'LatestQuoteTable',
  'LatestQuoteTableOptions',
  'LtpTick',
  'MAX_ORDER_DEDUPE_ENTRIES',
  'MAX_RENDERED_TEXT',
  'MAX_TEXT_NESTING',
  'MAX_TOKEN',
  'MODES',
  'Mode',
  'Ohlc',
  'OrderDeduplicator',
  'OrderDeduplicatorOptions',
  'OrderUpdate',
  'OverflowPolicy',
  'PacketLength',
  'ParseClientCommandResult',
  'ProtocolErrorHandler',
  'ProtocolErrorInfo',
  'ProtocolErrorKind',
  'QuoteTick',
  'Segment',
  'TextMessage',
  'Tick',
  'decodeFrame',
  'divisorOf',
  'encodeFrame',
  'encodeMode',
  'encodeSubscribe',
  'encodeTick',
  'encodeTicks',
  'encodeUnsubscribe',
  'encodedLength',
  'isHeartbeat',
  'isMode',
  'orderUpdateKey',
  'parseClientCommand',
  'parseTextMessage',
  'segmentOf',
  'validateTokens',
  'writeTick',
];

const PROTOCOL_VALUES = [
  'BoundedChannel',
  'Broadcaster',
  'DEFAULT_CHANNEL_CAPACITY',
  'DEFAULT_KITE_URL',
  'DEFAULT_MAX_TOKENS_PER_MESSAGE',
  'DEFAULT_ORDER_DEDUPE_ENTRIES',
  'DEFAULT_ORDER_DEDUPE_WINDOW_MS',
  'DIVISOR_BY_SEGMENT',
  'EXCHANGE_BY_SEGMENT',
  'FrameView',
  'HEARTBEAT',
  'KITE_LIMITS',
  'LatestQuoteTable',
  'MAX_ORDER_DEDUPE_ENTRIES',
  'MAX_RENDERED_TEXT',
  'MAX_TEXT_NESTING',
  'MAX_TOKEN',
  'MODES',
  'Mode',
  'OrderDeduplicator',
  'PacketLength',
  'Segment',
  'decodeFrame',
  'divisorOf',
  'encodeFrame',
  'encodeMode',
  'encodeSubscribe',
  'encodeTick',
  'encodeTicks',
  'encodeUnsubscribe',
  'encodedLength',
  'isHeartbeat',
  'isMode',
  'orderUpdateKey',
  'parseClientCommand',
  'parseTextMessage',
  'segmentOf',
  'validateTokens',
  'writeTick',
];

/** Names exported by an entry file, types included, as a TypeScript user sees them. */
function exportedNames(entries: readonly string[]): string[][] {
  const files = entries.map((e) => `${ROOT}${e}`);
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  return files.map((file) => {
    const source = program.getSourceFile(file);
    const symbol = source && checker.getSymbolAtLocation(source);
    if (!symbol) throw new Error(`cannot read ${file}`);
    return checker
      .getExportsOfModule(symbol)
      .map((s) => s.name)
      .sort();
  });
}

/** The `| \`Name\` |` rows (and, for the protocol part, every backticked name) of one part of docs/api.md. */
function documented(part: 'root' | 'protocol'): Set<string> {
  const doc = readFileSync(`${ROOT}docs/api.md`, 'utf8');
  const start = doc.indexOf(
    part === 'root' ? '\n## kiteticker-manager\n' : '\n## kiteticker-manager/protocol\n',
  );
  const end = doc.indexOf('\n## ', start + 5);
  const text = doc.slice(start, end === -1 ? undefined : end);
  const pattern = part === 'root' ? /^\| `(\w+)` \|/gm : /`(\w+)`/g;
  return new Set([...text.matchAll(pattern)].map((m) => m[1]!));
}

describe('public surface', () => {
  const [rootNames, protocolNames] = exportedNames(['src/index.ts', 'src/protocol-public.ts']);

  it('public surface - the root exports exactly the pinned names (values and types)', () => {
    expect(rootNames).toEqual(ROOT_NAMES);
  });

  it('public surface - the root exports exactly the pinned values at run time', async () => {
    const root = await import('../../src/index.js');
    expect(Object.keys(root).sort()).toEqual(ROOT_VALUES);
  });

  it('public surface - the codec server side, building blocks and test seams are not at the root', () => {
    for (const name of [
      'encodeFrame',
      'writeTick',
      'HEARTBEAT',
      'parseClientCommand',
      'Broadcaster',
      'BoundedChannel',
      'OrderDeduplicator',
      'ConnectionFactory',
      'TickerManagerFactory',
    ]) {
      expect(rootNames, name).not.toContain(name);
    }
  });

  it('public surface - kiteticker-manager/protocol exports exactly the pinned names', async () => {
    expect(protocolNames).toEqual(PROTOCOL_NAMES);
    const protocol = await import('../../src/protocol-public.js');
    expect(Object.keys(protocol).sort()).toEqual(PROTOCOL_VALUES);
  });

  it('public surface - package.json maps ./protocol to the built entry like the other subpaths', () => {
    const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
      exports: Record<string, Record<string, string>>;
    };
    expect(pkg.exports['./protocol']).toEqual({
      types: './dist/protocol-public.d.ts',
      import: './dist/protocol-public.js',
      default: './dist/protocol-public.js',
    });
  });

  it('public surface - docs/api.md documents every exported name of both entries', () => {
    const root = documented('root');
    expect(ROOT_NAMES.filter((n) => !root.has(n))).toEqual([]);
    const protocol = documented('protocol');
    expect(PROTOCOL_NAMES.filter((n) => !protocol.has(n))).toEqual([]);
  });
});
