/**
 * The resolved options of `kiteticker replay`, in a file of their own: replay.ts resolves them and
 * replay-serve.ts consumes them, so neither imports the other (no import cycle, even of types).
 */

export interface ReplayConfig {
  file: string;
  format: 'view' | 'ndjson';
  /** 0 = as fast as possible. */
  speed: number;
  quotes: number;
  summary: boolean;
  /** `--serve`: play the recording to WebSocket clients instead of printing it. */
  serve: ReplayServeOptions | undefined;
}

/** `--serve`: the replay server's options. */
export interface ReplayServeOptions {
  port: number;
  host: string;
  loop: boolean;
  /** Test credentials accepted: sim_key_1..N / sim_token_1..N. */
  keys: number;
  /** Send every frame to every client, subscribed or not. */
  ignoreSubscriptions: boolean;
  /** Stop after this long; undefined = end of the recording (or Ctrl-C with --loop). */
  durationMs: number | undefined;
}
