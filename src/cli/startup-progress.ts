/**
 * While the stream starts, what it is waiting for, in one line for stderr: a stalled handshake must
 * not look like a hang. Counts come from the same snapshot as the view's header and the summary, so
 * every place says the same number of connections.
 */
import { type CliStatsSnapshot, totalsOf } from './snapshot.js';
import { plural } from './view.js';

/** How often the line is printed while starting. */
export const STARTUP_REPORT_INTERVAL_MS = 3000;

/** E.g. "waiting for 2 of 3 connections (6s): sim2 #0 connecting, sim3 #0 reconnecting". */
export function waitingLine(snapshot: CliStatsSnapshot, elapsedMs: number, phase: string): string {
  const t = totalsOf(snapshot);
  const pending: string[] = [];
  for (const key of snapshot.apiKeys) {
    for (const c of key.connections)
      if (!c.connected) pending.push(`${key.apiKeyId} #${c.index} ${c.status}`);
  }
  const shown = pending.slice(0, 3).join(', ');
  const more = pending.length > 3 ? ` and ${pending.length - 3} more` : '';
  const seconds = `${Math.round(elapsedMs / 1000)}s`;
  if (pending.length === 0) return `still ${phase} (${seconds}): ${plural(t.connections, 'connection')} up`;
  return `waiting for ${pending.length} of ${plural(t.connections, 'connection')} (${seconds}): ${shown}${more}`;
}

/**
 * "connecting (0 of 1 connection up)": how far start-up got, for the error when --duration runs out
 * first. The count is the snapshot's, as in the summary.
 */
export function startupState(snapshot: CliStatsSnapshot, phase: string): string {
  const t = totalsOf(snapshot);
  return `${phase} (${t.connected} of ${plural(t.connections, 'connection')} up)`;
}
