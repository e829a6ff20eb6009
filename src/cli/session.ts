/**
 * One streaming session: the multi-key manager over the given keys (real Kite or the built-in
 * simulator), subscribed in chunks so progress can be shown, with an optional raw-frame tap per
 * connection for `record`. Everything the commands print is read from here.
 */
import type { AccessTokenProvider } from '../connection/token-provider.js';
import type { Logger } from '../logger.js';
import { MultiApiKiteTickerManager } from '../manager/index.js';
import type { Mode } from '../protocol/constants.js';
import type { ApiKeyCredential } from './credentials.js';
import { type CliStatsSnapshot, fromMultiStats, totalsOf } from './snapshot.js';
import type { ViewProgress } from './view.js';

export interface SessionOptions {
  keys: readonly ApiKeyCredential[];
  url: string;
  mode: Mode;
  /** Sockets per key, 1-3. */
  maxConnectionsPerApi: number;
  /** Instruments per socket, 1-3000. */
  maxSymbolsPerConnection: number;
  logger: Logger;
  /**
   * Every binary frame as received (heartbeats excluded), tagged with its key id. Set for `record`;
   * the manager's raw-frame tap gives the bytes before decoding, not re-encoded.
   */
  onRawFrame?: (data: Uint8Array, apiKeyId: string, connectionIndex: number) => void;
  /** Tokens per subscribe call, so progress can be shown between them. Default 1000. */
  subscribeChunk?: number;
  /**
   * Each key's token comes from this provider (a watched keys file) rather than its fixed value: a
   * refused socket asks it at once for a newer token.
   */
  tokenProvider?: (id: string) => AccessTokenProvider;
  /** --service: keep running with no key up, instruments wait unplaced (see the manager's waitForKeys). */
  waitForKeys?: boolean;
}

export class StreamSession {
  readonly manager: MultiApiKiteTickerManager;
  private readonly options: SessionOptions;
  /** What the live view shows while starting; undefined once subscribed. */
  progress: ViewProgress | undefined = { phase: 'connecting', done: 0, total: 0 };

  constructor(options: SessionOptions) {
    this.options = options;
    const builder = MultiApiKiteTickerManager.builder()
      .url(options.url)
      .maxConnectionsPerApi(options.maxConnectionsPerApi)
      .maxSymbolsPerConnection(options.maxSymbolsPerConnection)
      .defaultMode(options.mode)
      .logger(options.logger);
    const provider = options.tokenProvider;
    for (const k of options.keys)
      builder.addApiKey(k.id, k.apiKey, provider ? provider(k.id) : k.accessToken);
    if (options.waitForKeys) builder.waitForKeys(true);
    // Nobody reads a quote table here: the manager keeps none (latestQuotes is off unless asked).
    builder.latestQuotes(false).rawFrames(options.onRawFrame !== undefined);
    this.manager = builder.build();
    const onRawFrame = options.onRawFrame;
    if (onRawFrame) {
      this.manager.on('frame', (data, apiKeyId, index) => {
        // Heartbeats (1-byte frames) carry nothing worth replaying.
        if (data.byteLength > 1) onRawFrame(data, apiKeyId, index);
      });
    }
    // start() opens one connection per key (more open while subscribing); the header and the
    // summary count the same connections, so the progress does too.
    this.progress = { phase: 'connecting', done: 0, total: options.keys.length };
  }

  /** Connects every key, then subscribes `tokens` chunk by chunk. */
  async start(tokens: readonly number[]): Promise<void> {
    const progress = this.progress!;
    const poll = setInterval(() => {
      if (this.progress?.phase !== 'connecting') return;
      const { connected, total } = this.connectionCounts();
      progress.done = connected;
      progress.total = Math.max(progress.total, total);
    }, 100);
    try {
      await this.manager.start();
    } finally {
      clearInterval(poll);
    }
    const chunk = this.options.subscribeChunk ?? 1000;
    this.progress = { phase: 'subscribing', done: 0, total: tokens.length };
    for (let i = 0; i < tokens.length; i += chunk) {
      await this.manager.subscribeSymbols(tokens.slice(i, i + chunk), this.options.mode);
      this.progress.done = Math.min(tokens.length, i + chunk);
    }
    this.progress = undefined;
  }

  stop(): Promise<void> {
    return this.manager.stop();
  }

  snapshot(): CliStatsSnapshot {
    return fromMultiStats(this.manager.getStats(), Date.now());
  }

  private connectionCounts(): { connected: number; total: number } {
    const t = totalsOf(this.snapshot());
    return { connected: t.connected, total: t.connections };
  }
}
