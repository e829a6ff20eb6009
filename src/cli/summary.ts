/** The exit summary written to stderr when `stream`, `record` or `replay` ends. */
import { type CliStatsSnapshot, totalsOf } from './snapshot.js';
import { formatAge, formatInt } from './view.js';

export interface SummaryExtras {
  /** Output batches dropped because stdout could not keep up. */
  outputDrops?: number;
  /** Messages the NATS sink dropped (buffer overflow). */
  natsDrops?: number;
  /** Recorder: records written and frames dropped. */
  recorded?: { records: number; bytes: number; dropped: number; path: string };
  /** Why it stopped: "duration", "SIGINT", "SIGTERM", "output closed"... */
  reason?: string;
  /** First line. Default "kiteticker summary". */
  title?: string;
  /** "recorded" when durations and rates are in a recording's time (replay), said on the duration line. */
  clock?: 'wall' | 'recorded';
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export function renderSummary(
  snapshot: CliStatsSnapshot,
  elapsedMs: number,
  extras: SummaryExtras = {},
): string {
  const t = totalsOf(snapshot);
  // A recording's clock can be anything (a NaN or infinite receive time): no rate is better than NaN/s.
  const known = Number.isFinite(elapsedMs) && elapsedMs >= 0;
  const seconds = Math.max(known ? elapsedMs : 0, 1) / 1000;
  const rate = t.ticks / seconds;
  const rateText = !known ? 'rate unknown' : `${rate >= 100 ? formatInt(rate) : rate.toFixed(1)}/s`;
  const lines = [
    `${extras.title ?? 'kiteticker summary'}${extras.reason ? ` (stopped: ${extras.reason})` : ''}`,
    `  duration     ${known ? formatAge(elapsedMs) : 'unknown'}${extras.clock === 'recorded' ? ' of recorded time' : ''}`,
    `  ticks        ${formatInt(t.ticks)} (${rateText})`,
    // Bytes count every frame received; text frames are named so the two numbers agree.
    `  frames       ${formatInt(t.frames)}${t.textMessages > 0 ? ` binary, ${formatInt(t.textMessages)} text` : ''} (${formatBytes(t.bytes)})`,
    `  instruments  ${formatInt(t.symbols)} on ${t.apiKeys} key${t.apiKeys === 1 ? '' : 's'}, ${t.connections} connection${t.connections === 1 ? '' : 's'}`,
    `  reconnects   ${t.reconnects}`,
    `  drops        ${t.drops} (channels), ${extras.outputDrops ?? 0} (output)`,
  ];
  if (extras.natsDrops !== undefined) lines.push(`  nats drops   ${extras.natsDrops}`);
  if (t.protocolErrors > 0) lines.push(`  bad packets  ${t.protocolErrors}`);
  if (extras.recorded) {
    const r = extras.recorded;
    lines.push(
      `  recorded     ${formatInt(r.records)} frames, ${formatBytes(r.bytes)} to ${r.path}; ${r.dropped} dropped`,
    );
  }
  return `${lines.join('\n')}\n`;
}
