/**
 * Prometheus text exposition (format 0.0.4) of a feed snapshot. Written here rather than pulling
 * prom-client: the data is a snapshot we already have, so rendering on each scrape is all that is needed.
 */
import type { Readiness } from '../../manager/readiness.js';
import type { FeedSnapshot } from '../tick-sink.js';
import { renderHaFamilies } from './ha-exposition.js';

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Values counted outside the manager (by the CLI and the other sinks). */
export interface ExtraCounters {
  /** Output batches dropped because stdout could not keep up. */
  outputDrops?: number;
  /** Frames dropped by the recorder. */
  recordDrops?: number;
}

type Sample = [labels: string, value: number];

/** Writes one family (name, type, help, samples); given to callers that add families of their own. */
export type FamilyWriter = (name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]) => void;
/** More families after the manager's (the relay's), with the label escaper. */
export type ExtraFamilies = (family: FamilyWriter, label: (value: string) => string) => void;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function family(
  out: string[],
  name: string,
  type: 'counter' | 'gauge',
  help: string,
  samples: Sample[],
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  for (const [labels, value] of samples) out.push(`${name}${labels} ${formatValue(value)}`);
}

/** The exposition text; ends with a newline as the format requires. */
export function renderPrometheus(
  snapshot: FeedSnapshot,
  counters: ExtraCounters = {},
  readiness?: Readiness,
  extra?: ExtraFamilies,
): string {
  const perConnection = (
    pick: (c: FeedSnapshot['apiKeys'][number]['connections'][number]) => number | null,
  ) => {
    const samples: Sample[] = [];
    for (const key of snapshot.apiKeys) {
      for (const c of key.connections) {
        const value = pick(c);
        if (value === null) continue;
        samples.push([`{api_key_id="${escapeLabel(key.apiKeyId)}",connection="${c.index}"}`, value]);
      }
    }
    return samples;
  };
  const out: string[] = [];
  family(out, 'kiteticker_api_keys', 'gauge', 'API keys configured.', [['', snapshot.apiKeys.length]]);
  family(
    out,
    'kiteticker_connections',
    'gauge',
    'WebSocket connections per API key and state (up: connected now).',
    snapshot.apiKeys.flatMap((k): Sample[] => {
      const up = k.connections.filter((c) => c.connected).length;
      const id = escapeLabel(k.apiKeyId);
      return [
        [`{api_key_id="${id}",state="up"}`, up],
        [`{api_key_id="${id}",state="down"}`, k.connections.length - up],
      ];
    }),
  );
  family(
    out,
    'kiteticker_connection_up',
    'gauge',
    '1 when the connection is connected.',
    perConnection((c) => (c.connected ? 1 : 0)),
  );
  family(
    out,
    'kiteticker_symbols',
    'gauge',
    'Instruments subscribed on the connection.',
    perConnection((c) => c.symbols),
  );
  family(
    out,
    'kiteticker_ticks_total',
    'counter',
    'Ticks decoded.',
    perConnection((c) => c.ticks),
  );
  family(
    out,
    'kiteticker_frames_total',
    'counter',
    'Binary market-data frames received (heartbeats excluded).',
    perConnection((c) => c.frames),
  );
  family(
    out,
    'kiteticker_bytes_total',
    'counter',
    'Bytes of every frame received.',
    perConnection((c) => c.bytes),
  );
  family(
    out,
    'kiteticker_reconnects_total',
    'counter',
    'Successful reconnections.',
    perConnection((c) => c.reconnects),
  );
  family(
    out,
    'kiteticker_drops_total',
    'counter',
    'Messages dropped by overflow policies (bounded channels and the internal pump), per API key.',
    snapshot.apiKeys.map((k): Sample => [`{api_key_id="${escapeLabel(k.apiKeyId)}"}`, k.drops]),
  );
  family(
    out,
    'kiteticker_protocol_errors_total',
    'counter',
    'Malformed packets or text frames skipped.',
    perConnection((c) => c.protocolErrors),
  );
  family(
    out,
    'kiteticker_last_frame_age_seconds',
    'gauge',
    'Seconds since the connection last received any frame (heartbeats included).',
    perConnection((c) => (c.lastFrameAgeMs === null ? null : c.lastFrameAgeMs / 1000)),
  );
  family(out, 'kiteticker_uptime_seconds', 'gauge', 'Seconds since the manager started.', [
    ['', snapshot.uptimeMs / 1000],
  ]);
  family(
    out,
    'kiteticker_output_drops_total',
    'counter',
    'Output batches dropped because stdout could not keep up.',
    [['', counters.outputDrops ?? 0]],
  );
  if (counters.recordDrops !== undefined) {
    family(
      out,
      'kiteticker_record_drops_total',
      'counter',
      'Frames the recorder dropped because the disk could not keep up.',
      [['', counters.recordDrops]],
    );
  }
  if (snapshot.ha) renderHaFamilies(snapshot.ha, (...f) => family(out, ...f), escapeLabel);
  if (readiness) renderReadiness(out, snapshot, readiness);
  extra?.((...f) => family(out, ...f), escapeLabel);
  return `${out.join('\n')}\n`;
}

/** The three readiness families (names fixed: alert rules are written against them). */
function renderReadiness(out: string[], snapshot: FeedSnapshot, readiness: Readiness): void {
  family(out, 'kiteticker_ready', 'gauge', '1 when every wanted instrument is on a connected socket.', [
    ['', readiness.ready ? 1 : 0],
  ]);
  family(
    out,
    'kiteticker_unplaced_instruments',
    'gauge',
    'Wanted instruments on no API key or on a socket that is not connected.',
    [['', readiness.unplaced]],
  );
  const failed = new Set(readiness.authFailed);
  family(
    out,
    'kiteticker_api_key_auth_failed',
    'gauge',
    '1 while the API key has no accepted access token (refused, or waiting for one).',
    snapshot.apiKeys.map(
      (k): Sample => [`{api_key_id="${escapeLabel(k.apiKeyId)}"}`, failed.has(k.apiKeyId) ? 1 : 0],
    ),
  );
}
