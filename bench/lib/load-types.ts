/** What the load harness asks of a load client, and what the client reports per measuring window. */

export interface LoadRun {
  url: string;
  tokens: number[];
  /** API keys (sim_key_1..n). */
  keys: number;
  /** Sockets per key. */
  connsPerKey: number;
  warmMs: number;
  windowMs: number;
  windows: number;
  /** Run a full GC (needs --expose-gc) before reading memory at the end of each window. */
  gc?: boolean;
  /** Also read a unified channel slowly: `capacity` messages, one read per `readEveryMs`. */
  slow?: { capacity: number; readEveryMs: number };
}

export interface WindowResult {
  ticks: number;
  ms: number;
  cpuMs: number;
  /** Send-to-callback latency percentiles and max over the window, ms. */
  p50: number;
  p99: number;
  max: number;
  latencySamples: number;
  rss: number;
  heapUsed: number;
  /** external + arrayBuffers: Buffers held by sockets and channels. */
  external: number;
  /** Messages the slow channel dropped so far (0 without one). */
  drops: number;
  channelSize: number;
  /** performance.now() of the client at the window's end. */
  atMs: number;
}
