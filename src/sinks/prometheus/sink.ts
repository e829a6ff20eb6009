/**
 * The Prometheus exporter as a sink: serves the feed's counters at /metrics, rendered on each scrape
 * (nothing is kept between scrapes, so it costs nothing on the tick path).
 */
import type { Readiness } from '../../manager/readiness.js';
import type { TickFeed, TickSink } from '../tick-sink.js';
import { type ExtraCounters, type ExtraFamilies, renderPrometheus } from './exposition.js';
import { type HttpRoute, type MetricsServer, startMetricsServer } from './server.js';

export interface PrometheusSinkOptions {
  /** 0 = any free port (read it back from `port`/`url`). */
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Counters kept outside the manager (stdout and recorder drops), read on each scrape. */
  counters?: () => ExtraCounters;
  /** Readiness now: adds kiteticker_ready, kiteticker_unplaced_instruments, kiteticker_api_key_auth_failed. */
  readiness?: () => Readiness;
  /** More GET endpoints beside /metrics (health checks). */
  routes?: Readonly<Record<string, HttpRoute>>;
  /** Families rendered after the manager's on each scrape (the relay's clients). */
  families?: ExtraFamilies;
}

export interface PrometheusSinkStats {
  /** http://HOST:PORT/metrics once attached. */
  url: string | undefined;
  scrapes: number;
}

export class PrometheusSink implements TickSink {
  readonly name = 'prometheus';
  private readonly options: PrometheusSinkOptions;
  private server: MetricsServer | undefined;
  private feed: TickFeed | undefined;
  private scrapes = 0;

  constructor(options: PrometheusSinkOptions) {
    this.options = options;
  }

  /** Listens on the port; rejects with the listen error (EADDRINUSE...) and keeps nothing open. */
  async attach(feed: TickFeed): Promise<void> {
    this.feed = feed;
    this.server = await startMetricsServer(
      this.options.port,
      () => {
        this.scrapes++;
        return this.render();
      },
      this.options.host,
      this.options.routes,
    );
  }

  /** The exposition text for the feed now. */
  render(): string {
    const snapshot = this.feed?.snapshot() ?? { at: Date.now(), uptimeMs: 0, apiKeys: [] };
    return renderPrometheus(
      snapshot,
      this.options.counters?.() ?? {},
      this.options.readiness?.(),
      this.options.families,
    );
  }

  get url(): string | undefined {
    return this.server?.url;
  }

  get port(): number | undefined {
    return this.server?.port;
  }

  stats(): PrometheusSinkStats {
    return { url: this.url, scrapes: this.scrapes };
  }

  /** Stops listening and ends open scrapes (a server close does not wait for them). */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.feed = undefined;
    await server?.close();
  }
}
