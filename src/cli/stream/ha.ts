/**
 * `stream --ha GROUP`: the session of an HA instance. It has the ordinary session's face (the view,
 * the reporter, the sinks and the summary read it the same way) but opens no socket itself: an
 * HaController takes the group's leases and opens each held key through its own one-key manager.
 * Their events are re-emitted on the session's manager, which is never started and serves as the
 * one event source the feed and the reporter attach to, whichever keys come and go.
 */
import type { HaController } from '../../ha/controller.js';
import { ManagerKeyHost } from '../../ha/key-host.js';
import type { ManagerEvents } from '../../manager/types.js';
import type { Mode } from '../../protocol/constants.js';
import type { FeedApiKeyStats } from '../../sinks/tick-sink.js';
import { UsageError } from '../exit-codes.js';
import type { HaCliConfig } from '../ha-options.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { splitList } from '../parse.js';
import { type SessionOptions, StreamSession } from '../session.js';
import { type CliStatsSnapshot, fromMultiStats } from '../snapshot.js';
import type { StreamContext } from './context.js';

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
      keys: options.keys,
      configure: (b) =>
        b
          .url(options.url)
          .maxConnectionsPerApi(options.maxConnectionsPerApi)
          .maxSymbolsPerConnection(options.maxSymbolsPerConnection)
          .defaultMode(options.mode)
          .logger(options.logger)
          .latestQuotes(false),
    });
    const hub = this.manager;
    for (const event of FORWARDED) {
      this.host.on(event, (...args: unknown[]) => {
        if (event === 'error' && hub.listenerCount('error') === 0) return;
        (hub.emit as (e: keyof ManagerEvents, ...a: unknown[]) => boolean)(event, ...args);
      });
    }
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
    const keys = this.#sessionOptions.keys.map((k) => k.id);
    const wants = splitAcross(keys, tokens, this.#sessionOptions.mode);
    // Loaded here: the NATS client is an optional peer dependency, needed only with --ha.
    const { HaController } = await import('../../ha/controller.js').catch((error: unknown) => {
      throw new UsageError(
        `--ha needs the optional packages @nats-io/transport-node, @nats-io/jetstream and @nats-io/kv: ${(error as Error).message}`,
      );
    });
    const controller = new HaController({
      group: this.#ha.group,
      instance: this.#ha.instance,
      apiKeyIds: keys,
      host: this.host,
      initialWant: (id) => wants.get(id) ?? new Map(),
      servers,
      connectOptions: await natsAuthOptions(servers, config.natsCreds, io.env),
      timings: { ttlMs: this.#ha.ttlMs },
      replicas: this.#ha.replicas,
      logger: this.#sessionOptions.logger,
    });
    const say = (line: string) =>
      this.#ctx.say(`kiteticker: ha ${this.#ha.group}/${this.#ha.instance}: ${line}`);
    controller.on('took', (id, info) =>
      say(`active for key ${id}${info.previous ? ` (taken over from ${info.previous})` : ''}`),
    );
    controller.on('lost', (id, reason) => say(`standby for key ${id} (${reason})`));
    controller.on('error', (error) => {
      if (config.verbose) say(error.message);
    });
    this.#controller = controller;
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
    const apiKeys = this.#sessionOptions.keys.map(
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
