/**
 * The relay's service pieces, all borrowed from `stream`: the metrics server (the manager's families
 * plus the relay's, /healthz, /readyz), the NATS sink on the relay's manager, the keys-file watch
 * (SIGHUP too) and the retry of failed keys. Each is pushed on the context's disposer stack.
 */

import type { MultiApiKiteTickerManager } from '../../manager/manager.js';
import { type Readiness, readinessOf } from '../../manager/readiness.js';
import type { KiteRelay } from '../../relay/relay.js';
import { renderRelayFamilies } from '../../sinks/prometheus/relay-exposition.js';
import { PrometheusSink } from '../../sinks/prometheus/sink.js';
import type { TickSink } from '../../sinks/tick-sink.js';
import { UsageError } from '../exit-codes.js';
import { fromMultiStats } from '../snapshot.js';
import { ManagerFeed } from '../stream/feed.js';
import { healthRoutes, isLoopback } from '../stream/health.js';
import { type TokenStore, watchKeysFile } from '../stream/keys-reload.js';
import { retryFailedKeys } from '../stream/service-retry.js';
import { natsSink } from '../stream/sinks.js';
import type { RelayContext } from './context.js';

/**
 * Ready when every instrument the relay holds upstream for its clients (queued ones included) is on a
 * connected socket: a subscribe still queued counts as not subscribed yet.
 */
export function relayReadiness(manager: MultiApiKiteTickerManager, relay: KiteRelay): Readiness {
  return readinessOf(manager.getStats(), relay.stats().upstreamTokens);
}

/**
 * --metrics-port and --nats: attached before anything connects, so /readyz answers (503, 'not
 * started') during start-up and a port in use fails before the upstream opens.
 */
export async function attachRelaySinks(
  ctx: RelayContext,
  manager: MultiApiKiteTickerManager,
  relay: KiteRelay,
  readiness: () => Readiness,
): Promise<{ metricsUrl: string | undefined }> {
  const { config } = ctx;
  const feed = new ManagerFeed();
  feed.bind(manager, () => fromMultiStats(manager.getStats(), Date.now()));
  const attach = async (sink: TickSink, explain?: (e: NodeJS.ErrnoException) => Error): Promise<void> => {
    try {
      await sink.attach(feed);
    } catch (error) {
      await sink.close().catch(() => undefined);
      throw explain ? explain(error as NodeJS.ErrnoException) : error;
    }
    ctx.disposers.push(sink.name, (deadline) => sink.close(deadline));
  };
  let metricsUrl: string | undefined;
  if (config.metricsPort !== undefined) {
    const { metricsPort: port, metricsHost: host } = config;
    if (!isLoopback(host)) {
      ctx.say(
        `warning: --metrics-host ${host}: /metrics and /readyz are served beyond this machine (they name your API key and client ids); prefer 127.0.0.1 behind a proxy or a firewall`,
      );
    }
    const metrics = new PrometheusSink({
      port,
      host,
      readiness,
      routes: healthRoutes(readiness),
      families: (family, label) => renderRelayFamilies(relay.stats(), family, label),
    });
    await attach(
      metrics,
      (error) =>
        new UsageError(
          error.code === 'EADDRINUSE'
            ? `--metrics-port ${port}: the port is in use; pick another, or 0 for any free port`
            : `--metrics-port ${port} on ${host}: cannot listen: ${error.code ?? error.message}`,
        ),
    );
    metricsUrl = metrics.url;
  }
  if (config.nats !== undefined) {
    const nats = await natsSink(ctx, config.nats);
    try {
      await nats.connect();
    } catch (error) {
      await nats.close().catch(() => undefined);
      throw error;
    }
    await attach(nats);
  }
  return { metricsUrl };
}

/** --keys-file watched (and SIGHUP); --service: failed keys retried with backoff. */
export function watchUpstreamKeys(
  ctx: RelayContext,
  manager: MultiApiKiteTickerManager,
  tokens: TokenStore | undefined,
): void {
  const file = ctx.config.keysFile;
  if (file !== undefined && tokens) watchKeysFile(ctx, file, manager, tokens, (line) => ctx.say(line));
  if (ctx.config.service) {
    const keys = ctx.keys;
    const stop = retryFailedKeys(
      manager,
      (id) => tokens?.current(id) ?? keys.find((k) => k.id === id)?.accessToken,
      (fields, msg) => ctx.logger.info(fields, msg),
    );
    ctx.disposers.push('service retry', stop);
  }
}
