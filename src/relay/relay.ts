/**
 * KiteRelay: a Kite ticker server in front of one manager. Any Kite client (pykiteconnect, the official
 * JS client, gokiteconnect, ours) connects with its root URL pointed here and its relay client id and
 * token as `api_key`/`access_token`; the relay holds the union of what its clients want upstream, each
 * token once at the highest mode wanted, and sends each client its own tokens in its own modes.
 *
 * The Kite side is the simulator's front end (src/kite-server), with the client table as authoriser
 * and RelaySource as frame source; the upstream side is Upstream (reference counting and linger) over
 * the manager, whose raw frames the Dispatcher cuts per mode. See docs/relay.md.
 */
import { EventEmitter } from 'node:events';
import { ClosedError } from '../errors.js';
import { KiteProtocolServer } from '../kite-server/server.js';
import { type Logger, silentLogger } from '../logger.js';
import { MultiApiKiteTickerManager } from '../manager/manager.js';
import type { Mode } from '../protocol/constants.js';
import { ClientTable, type RelayClient, type RelayClientConfig, resolveClients } from './clients.js';
import { clientsFileWarning, readClientsFile, watchClientsFile } from './clients-file.js';
import { Dispatcher } from './dispatch.js';
import { modeOf } from './modes.js';
import {
  type KiteRelayOptions,
  type RelayManager,
  type ResolvedRelayOptions,
  resolveRelayOptions,
} from './options.js';
import { RelaySource } from './source.js';
import type { RelayClientStats, RelayStats } from './types.js';
import { Upstream } from './upstream.js';

export interface KiteRelayEvents {
  /** Something the operator should know (a clients file that is too open or malformed). Never a token. */
  warning: [message: string];
  /** The clients file was reloaded. */
  clients: [count: number];
}

export class KiteRelay extends EventEmitter<KiteRelayEvents> {
  readonly #o: ResolvedRelayOptions;
  readonly #options: KiteRelayOptions;
  readonly #log: Logger;
  readonly #clients: ClientTable;
  readonly #front: KiteProtocolServer<RelaySource>;
  readonly #manager: RelayManager;
  readonly #ownsManager: boolean;
  readonly #upstream: Upstream;
  readonly #dispatcher: Dispatcher;
  readonly #listeners: { event: string; fn: (...args: never[]) => void }[] = [];
  #stopWatching: (() => void) | undefined;
  /** Upgrades accepted, and refused by HTTP status (a handful of statuses: bounded). */
  #accepted = 0;
  readonly #refused: Record<number, number> = {};
  #started = false;
  #stopped = false;

  /** @throws InvalidArgumentError for a bad option, client entry or clients file. */
  constructor(options: KiteRelayOptions) {
    super();
    const o = resolveRelayOptions(options);
    this.#o = o;
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
    this.#clients = new ClientTable(this.#loadClients());
    if (options.manager) {
      this.#manager = options.manager;
      this.#ownsManager = false;
    } else {
      const up = options.upstream!;
      // The relay forwards raw frames only: decoding them into ticks would be paid per upstream tick for nothing.
      const b = MultiApiKiteTickerManager.builder().rawFrames(true).latestQuotes(false).decodeTicks(false);
      for (const k of up.apiKeys) b.addApiKey(k.id, k.apiKey, k.accessToken);
      if (up.url !== undefined) b.url(up.url);
      if (up.logger) b.logger(up.logger);
      this.#manager = b.build() as unknown as RelayManager;
      this.#ownsManager = true;
    }
    const clients = this.#clients;
    this.#front = new KiteProtocolServer<RelaySource>({
      authoriser: clients,
      source: (sender) =>
        new RelaySource(sender, {
          clients,
          logger: this.#log,
          softBytes: o.sendBufferBytes,
          hardBytes: o.maxSendBufferBytes,
          slowClientTimeoutMs: o.slowClientTimeoutMs,
          disconnect: (conn, code, reason) => this.#front.detach(conn, { code, reason }),
        }),
      maxConnectionsPerKey: o.maxSocketsPerClient,
      connectionLimitStatus: 429,
      maxInstrumentsPerConnection: o.maxInstrumentsPerSocket,
      heartbeatIntervalMs: o.heartbeatIntervalMs,
      // The per-key command log serves the simulator's introspection; the relay reads none, so it keeps
      // the least the front end allows (its newest entry), bounded by the client table's size.
      commandLogLimit: 1,
      commandLogBytes: 1024,
      upgradeRequiredText: 'this is a Kite ticker relay: connect with a WebSocket\n',
      observer: {
        connection: () => {
          this.#accepted++;
        },
        refused: ({ status }) => {
          this.#refused[status] = (this.#refused[status] ?? 0) + 1;
        },
      },
      logger: this.#log,
      ...(options.tls ? { tls: options.tls } : {}),
    });
    const source = this.#front.source;
    this.#upstream = new Upstream(
      this.#manager,
      { wanted: (t) => source.interest.max(t), refused: (tokens, err) => source.refused(tokens, err) },
      o.lingerMs,
      this.#log,
    );
    source.upstream = this.#upstream;
    this.#dispatcher = new Dispatcher(source.interest, (s, f, p) => source.deliver(s, f, p));
  }

  #loadClients(): RelayClient[] {
    const defaults = {
      maxInstruments: this.#o.maxInstrumentsPerClient,
      maxSockets: this.#o.maxSocketsPerClient,
    };
    const list: RelayClient[] = [];
    if (this.#options.clients) list.push(...resolveClients(this.#options.clients, defaults));
    if (this.#options.clientsFile !== undefined)
      list.push(...readClientsFile(this.#options.clientsFile, defaults));
    return list;
  }

  #on(event: string, fn: (...args: never[]) => void): void {
    (this.#manager.on as (e: string, f: (...args: never[]) => void) => unknown)(event, fn);
    this.#listeners.push({ event, fn });
  }

  /** Starts the upstream (when the relay owns it), then listens. */
  async start(): Promise<void> {
    if (this.#stopped) throw new ClosedError('the relay was stopped; create a new one');
    if (this.#started) return;
    this.#started = true;
    const dispatcher = this.#dispatcher;
    const source = this.#front.source;
    this.#on('frame', (frame: Uint8Array) => {
      try {
        dispatcher.onFrame(frame);
      } catch (err) {
        // Backstop: an upstream frame must never throw into the upstream socket's callback.
        this.#log.error({ err: (err as Error).message }, 'relay: dispatching a frame failed');
      }
    });
    this.#on('order', (order: unknown, apiKeyId: string) => source.sendText('order', order, apiKeyId));
    this.#on('serverMessage', (data: unknown, apiKeyId: string) =>
      source.sendText('message', data, apiKeyId),
    );
    // Background failures of the upstream (a socket dropped, a 403): logged, never thrown (the
    // manager emits 'error' only to listeners, and its messages carry no tokens).
    this.#on('error', (err: Error, apiKeyId: string | undefined) =>
      this.#log.warn({ apiKeyId, err: err.message }, 'relay: upstream error'),
    );
    if (this.#ownsManager) await this.#manager.start();
    const file = this.#options.clientsFile;
    if (file !== undefined) {
      const warning = clientsFileWarning(file);
      if (warning) this.#warn(warning);
      const defaults = {
        maxInstruments: this.#o.maxInstrumentsPerClient,
        maxSockets: this.#o.maxSocketsPerClient,
      };
      const fromOption = this.#options.clients ? resolveClients(this.#options.clients, defaults) : [];
      this.#stopWatching = watchClientsFile(
        file,
        defaults,
        (clients) => this.#setClients([...fromOption, ...clients]),
        (message) => this.#warn(message),
      );
    }
    await this.#front.listen(this.#o.port, this.#o.host);
  }

  #warn(message: string): void {
    this.#log.warn({}, message);
    this.emit('warning', message);
  }

  /** Replaces the client table; clients removed or with a new token are disconnected (1008). */
  setClients(clients: readonly RelayClientConfig[]): void {
    const defaults = {
      maxInstruments: this.#o.maxInstrumentsPerClient,
      maxSockets: this.#o.maxSocketsPerClient,
    };
    this.#setClients(resolveClients(clients, defaults));
  }

  #setClients(clients: RelayClient[]): void {
    const revoked = new Set(this.#clients.replace(clients));
    for (const s of [...this.#front.source.sessions.values()]) {
      const now = this.#clients.get(s.client.id);
      if (!now || revoked.has(s.client.id))
        this.#front.detach(s.conn, { code: 1008, reason: 'client credentials changed' });
      else s.client = now;
    }
    this.#log.info({ clients: clients.length }, 'relay: clients updated');
    this.emit('clients', clients.length);
  }

  /** Closes every client socket and the listener; stops the upstream when the relay owns it. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopWatching?.();
    this.#upstream.close();
    this.#front.source.stop();
    for (const { event, fn } of this.#listeners) this.#manager.off(event, fn);
    await this.#front.shutdown();
    if (this.#ownsManager) await this.#manager.stop();
  }

  /** The bound port (0 before start). */
  get port(): number {
    return this.#front.port;
  }

  /** ws://HOST:PORT (wss:// with TLS) to give clients as their root URL. */
  get url(): string {
    const h = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    return `${this.#options.tls ? 'wss' : 'ws'}://${h}:${this.port}`;
  }

  /**
   * Gives an upstream key a new access token (Kite's expire daily; a key refused with 403 waits for
   * one). Clients stay connected meanwhile and resume when the upstream does.
   */
  updateAccessToken(apiKeyId: string, accessToken: string): Promise<void> {
    return this.#manager.updateAccessToken(apiKeyId, accessToken);
  }

  /** The upstream manager. */
  get manager(): RelayManager {
    return this.#manager;
  }

  /** Resolves when every upstream call queued so far has run (tests, orderly shutdowns). */
  upstreamIdle(): Promise<void> {
    return this.#upstream.idle();
  }

  /** token -> mode the relay holds upstream (or has queued), lingering drops included (a copy). */
  upstreamSubscriptions(): Map<number, Mode> {
    return this.#upstream.held();
  }

  stats(): RelayStats {
    const now = Date.now();
    const source = this.#front.source;
    const clients: RelayClientStats[] = [];
    let drops = source.closedDroppedFrames;
    for (const s of source.sessions.values()) {
      const modes = { ltp: 0, quote: 0, full: 0 };
      for (const r of s.modes.values()) modes[modeOf(r)]++;
      drops += s.droppedFrames;
      clients.push({
        connectionId: s.conn.id,
        clientId: s.client.id,
        subscriptions: s.modes.size,
        modes,
        framesSent: s.framesSent,
        ticksSent: s.ticksSent,
        heartbeatsSent: s.conn.heartbeatsSent,
        droppedFrames: s.droppedFrames,
        droppedTicks: s.droppedTicks,
        refusedCommands: s.refusedCommands,
        queuedFrames: s.queuedFrames,
        queuedBytes: s.queuedBytes,
        socketBufferedBytes: s.conn.ws.bufferedAmount,
        lagMs: s.lagMs(now),
        openedAt: s.conn.openedAt,
      });
    }
    const d = this.#dispatcher;
    return {
      connections: clients.length,
      knownClients: this.#clients.size,
      wantedTokens: source.interest.size,
      upstreamTokens: this.#upstream.size,
      lingeringTokens: this.#upstream.lingering,
      upstreamFailures: this.#upstream.failures,
      framesIn: d.framesIn,
      packetsIn: d.packetsIn,
      malformedFrames: d.malformed,
      droppedFrames: drops,
      slowDisconnects: source.slowDisconnects,
      accepted: this.#accepted,
      refused: { ...this.#refused },
      clients,
    };
  }
}
