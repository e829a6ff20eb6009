/**
 * `stream --ha GROUP`: the session of an HA instance. It has the ordinary session's face (the view,
 * the reporter, the sinks and the summary read it the same way) but opens no socket itself: an
 * HaController takes the group's leases and opens each held key through its own one-key manager.
 * Their events are re-emitted on the session's manager, which is never started and serves as the
 * one event source the feed and the reporter attach to, whichever keys come and go.
 */
import { HaEntryError } from '../../errors.js';
import type { HaController } from '../../ha/controller.js';
import { type HaKeyCredential, ManagerKeyHost } from '../../ha/key-host.js';
import type { MultiApiKiteTickerManager } from '../../manager/manager.js';
import { type Readiness, readinessOf } from '../../manager/readiness.js';
import type { ManagerEvents } from '../../manager/types.js';
import type { Mode } from '../../protocol/constants.js';
import type { FeedApiKeyStats } from '../../sinks/tick-sink.js';
import type { ApiKeyCredential } from '../credentials.js';
import { UsageError } from '../exit-codes.js';
import type { HaCliConfig } from '../ha-options.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { splitList } from '../parse.js';
import { type SessionOptions, StreamSession } from '../session.js';
import { type CliStatsSnapshot, fromMultiStats } from '../snapshot.js';
import type { StreamContext } from './context.js';
import type { KeysTarget } from './keys-reload.js';

const FORWARDED = ['ticks', 'status', 'order', 'error'] as const;

/** The session `stream` runs: an HA instance's with --ha, the ordinary one otherwise. */
export function streamSession(ctx: StreamContext, options: SessionOptions): StreamSession {
  return ctx.config.ha ? new HaStreamSession(options, ctx.config.ha, ctx) : new StreamSession(options);
}

export class HaStreamSession extends StreamSession {
  readonly host: ManagerKeyHost;
  readonly #ha: HaCliConfig;
  readonly #ctx: StreamContext;
  readonly #sessionOptions: SessionOptions;
  #controller: HaController | undefined;
  #startedAt = 0;

  constructor(options: SessionOptions, ha: HaCliConfig, ctx: StreamContext) {
    super(options);
    this.#ha = ha;
    this.#ctx = ctx;
    this.#sessionOptions = options;
    this.host = new ManagerKeyHost({
      keys: options.keys.map((k) => this.#credential(k)),
      configure: (b) =>
        b
          .url(options.url)
          .maxConnectionsPerApi(options.maxConnectionsPerApi)
          .maxSymbolsPerConnection(options.maxSymbolsPerConnection)
          .defaultMode(options.mode)
          .logger(options.logger)
          .latestQuotes(false)
          // --service: a refused token leaves the held key waiting for the next one, not stopped.
          .waitForKeys(options.waitForKeys === true),
    });
    const hub = this.manager;
    for (const event of FORWARDED) {
      this.host.on(event, (...args: unknown[]) => {
        if (event === 'error' && hub.listenerCount('error') === 0) return;
        (hub.emit as (e: keyof ManagerEvents, ...a: unknown[]) => boolean)(event, ...args);
      });
    }
  }

  /**
   * A key's credential for the host: with a watched keys file its token comes from the file's
   * store, so a key taken later opens with the newest token the file gave.
   */
  #credential(k: ApiKeyCredential): HaKeyCredential {
    const provider = this.#sessionOptions.tokenProvider;
    return { id: k.id, apiKey: k.apiKey, accessToken: provider ? provider(k.id) : k.accessToken };
  }

  /**
   * What a watched keys file changes (keys-reload.ts): a new token goes to a held key's sockets at
   * once; for a key held elsewhere the store already has it for when this instance takes the key.
   */
  readonly keysTarget: KeysTarget = {
    updateAccessToken: async (id, token) => {
      await this.host.manager(id)?.updateAccessToken(id, token);
    },
    addApiKey: async (id, apiKey, accessToken) => {
      this.host.setKey({ id, apiKey, accessToken });
      // Before start the controller is built with ctx.keys, which the watcher updates.
      this.#controller?.addKey(id);
    },
    removeApiKey: async (id) => {
      // Closes its sockets and releases its lease when held here.
      await this.#controller?.removeKey(id);
      await this.host.removeKey(id);
    },
  };

  /** The one-key managers of the keys held now (the service's retry loop walks them). */
  heldManagers(): MultiApiKiteTickerManager[] {
    const out: MultiApiKiteTickerManager[] = [];
    for (const id of this.#controller?.held() ?? []) {
      const m = this.host.manager(id);
      if (m) out.push(m);
    }
    return out;
  }

  /**
   * Readiness of an HA instance: it does its share. Every key it holds has its wanted instruments on
   * connected sockets; a standby holding nothing is ready (the group's readiness is its active
   * instances').
   */
  readiness(): Readiness {
    const controller = this.#controller;
    if (!controller) return readinessOf(undefined);
    const parts: Readiness[] = [];
    for (const id of controller.held()) {
      const wanted = controller.want(id)?.size ?? 0;
      const manager = this.host.manager(id);
      const r = readinessOf(manager?.getStats(), wanted);
      // Each held key's manager has only that key: name it, as the reasons of several are joined.
      parts.push({ ...r, reason: `${id}: ${manager ? r.reason : 'opening'}` });
    }
    const notReady = parts.filter((p) => !p.ready);
    return {
      ready: notReady.length === 0,
      reason: notReady.map((p) => p.reason).join('; '),
      unplaced: parts.reduce((n, p) => n + p.unplaced, 0),
      authFailed: parts.flatMap((p) => p.authFailed),
    };
  }

  /** The controller once started (for tests and the metrics). */
  get controller(): HaController | undefined {
    return this.#controller;
  }

  override async start(tokens: readonly number[]): Promise<void> {
    const { config, io } = this.#ctx;
    // A comma-separated list names several nodes of a cluster (the client also learns the others).
    const servers = splitList(config.nats!);
    this.#ctx.secrets.push(...natsSecrets(io.env, servers));
    // Loaded here: the NATS client is an optional peer dependency, needed only with --ha.
    const { HaController } = await import('../../ha/controller.js').catch((error: unknown) => {
      throw new UsageError(
        `--ha needs the optional packages @nats-io/transport-node, @nats-io/jetstream and @nats-io/kv: ${(error as Error).message}`,
      );
    });
    const connectOptions = await natsAuthOptions(servers, config.natsCreds, io.env);
    // The keys as the keys file has them now (it may have changed since the session was built), read
    // with no await before the controller exists: a change after this goes to the controller.
    const keys = this.#ctx.keys.map((k) => k.id);
    for (const k of this.#ctx.keys) this.host.setKey(this.#credential(k));
    const wants = splitAcross(keys, tokens, this.#sessionOptions.mode);
    const controller = new HaController({
      group: this.#ha.group,
      instance: this.#ha.instance,
      apiKeyIds: keys,
      host: this.host,
      initialWant: (id) => wants.get(id) ?? new Map(),
      servers,
      connectOptions,
      timings: { ttlMs: this.#ha.ttlMs },
      replicas: this.#ha.replicas,
      logger: this.#sessionOptions.logger,
    });
    this.#controller = controller;
    const say = (line: string) =>
      this.#ctx.say(`kiteticker: ha ${this.#ha.group}/${this.#ha.instance}: ${line}`);
    controller.on('took', (id, info) =>
      say(`active for key ${id}${info.previous ? ` (taken over from ${info.previous})` : ''}`),
    );
    controller.on('lost', (id, reason) => say(`standby for key ${id} (${reason})`));
    controller.on('error', (error) => {
      if (error instanceof HaEntryError) {
        // Always said (the controller reports each entry revision once): something else writes to the
        // group's bucket. With --service the controller's own JSON log line already says it.
        if (!config.service) say(`${error.name}: ${error.message}`);
      } else if (config.verbose) say(error.message);
    });
    this.#startedAt = Date.now();
    await controller.start();
    say(`started; holding ${controller.held().length} of ${keys.length} key(s)`);
    this.progress = undefined;
  }

  /** Closes the held keys' sockets, then releases their leases (a standby takes over at once). */
  override async stop(): Promise<void> {
    await this.#controller?.close();
    await this.host.closeAll();
    await super.stop();
  }

  override snapshot(): CliStatsSnapshot {
    const at = Date.now();
    const open = new Map<string, FeedApiKeyStats>();
    for (const stats of this.host.stats()) {
      for (const k of fromMultiStats(stats, at).apiKeys) open.set(k.apiKeyId, k);
    }
    const apiKeys = this.#ctx.keys.map(
      (k): FeedApiKeyStats =>
        open.get(k.id) ?? { apiKeyId: k.id, state: 'standby', drops: 0, connections: [] },
    );
    const ha = this.#controller?.stats();
    return {
      at,
      uptimeMs: this.#startedAt === 0 ? 0 : at - this.#startedAt,
      apiKeys,
      ...(ha ? { ha } : {}),
    };
  }
}

/** The stream's instruments shared out in contiguous runs, one per key, in key order. */
function splitAcross(
  keys: readonly string[],
  tokens: readonly number[],
  mode: Mode,
): Map<string, Map<number, Mode>> {
  const out = new Map<string, Map<number, Mode>>();
  const per = Math.ceil(tokens.length / keys.length);
  keys.forEach((id, i) => {
    out.set(id, new Map(tokens.slice(i * per, (i + 1) * per).map((t) => [t, mode])));
  });
  return out;
}
