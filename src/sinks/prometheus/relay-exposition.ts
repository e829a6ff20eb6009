/**
 * The relay's families of the exposition (`kiteticker relay --metrics-port`): clients connected,
 * per-client subscriptions, frames, drops and queued bytes, upstream instruments, accepted and refused
 * upgrades. Per-client samples are summed over a client's sockets and labelled by its id only: the
 * ids come from the clients file (bounded, and not secrets; the tokens never appear), while socket
 * numbers would grow without bound as clients reconnect.
 */
import type { RelayStats } from '../../relay/types.js';
import type { FamilyWriter } from './exposition.js';

type Sample = [labels: string, value: number];

interface ClientSums {
  sockets: number;
  subscriptions: number;
  frames: number;
  ticks: number;
  droppedFrames: number;
  queuedBytes: number;
  lagMs: number;
}

export function renderRelayFamilies(
  stats: RelayStats,
  family: FamilyWriter,
  label: (v: string) => string,
): void {
  const byClient = new Map<string, ClientSums>();
  for (const c of stats.clients) {
    let s = byClient.get(c.clientId);
    if (!s) {
      s = { sockets: 0, subscriptions: 0, frames: 0, ticks: 0, droppedFrames: 0, queuedBytes: 0, lagMs: 0 };
      byClient.set(c.clientId, s);
    }
    s.sockets++;
    s.subscriptions += c.subscriptions;
    s.frames += c.framesSent;
    s.ticks += c.ticksSent;
    s.droppedFrames += c.droppedFrames;
    s.queuedBytes += c.queuedBytes + c.socketBufferedBytes;
    s.lagMs = Math.max(s.lagMs, c.lagMs);
  }
  const per = (pick: (s: ClientSums) => number): Sample[] =>
    [...byClient].map(([id, s]): Sample => [`{client_id="${label(id)}"}`, pick(s)]);

  family('kiteticker_relay_clients_connected', 'gauge', 'Relay client sockets open.', [
    ['', stats.connections],
  ]);
  family('kiteticker_relay_known_clients', 'gauge', 'Entries in the relay client table.', [
    ['', stats.knownClients],
  ]);
  family(
    'kiteticker_relay_client_sockets',
    'gauge',
    'Open sockets per relay client.',
    per((s) => s.sockets),
  );
  family(
    'kiteticker_relay_client_subscriptions',
    'gauge',
    'Instruments the relay client subscribes (over its sockets).',
    per((s) => s.subscriptions),
  );
  family(
    'kiteticker_relay_client_frames_total',
    'counter',
    'Tick frames sent to the relay client (its open sockets).',
    per((s) => s.frames),
  );
  family(
    'kiteticker_relay_client_ticks_total',
    'counter',
    'Packets sent to the relay client (its open sockets).',
    per((s) => s.ticks),
  );
  family(
    'kiteticker_relay_client_dropped_frames_total',
    'counter',
    'Tick frames dropped because the relay client read too slowly (its open sockets).',
    per((s) => s.droppedFrames),
  );
  family(
    'kiteticker_relay_client_queued_bytes',
    'gauge',
    'Bytes waiting to be sent to the relay client (relay queue and socket buffer).',
    per((s) => s.queuedBytes),
  );
  family(
    'kiteticker_relay_client_lag_seconds',
    'gauge',
    "Age of the relay client's oldest waiting frame (0: nothing waits).",
    per((s) => s.lagMs / 1000),
  );
  family('kiteticker_relay_wanted_instruments', 'gauge', 'Instruments at least one relay client wants.', [
    ['', stats.wantedTokens],
  ]);
  family(
    'kiteticker_relay_upstream_instruments',
    'gauge',
    'Instruments the relay holds upstream (lingering ones included).',
    [['', stats.upstreamTokens]],
  );
  family(
    'kiteticker_relay_lingering_instruments',
    'gauge',
    'Upstream instruments (or modes) waiting for the linger before they are dropped.',
    [['', stats.lingeringTokens]],
  );
  family('kiteticker_relay_accepted_total', 'counter', 'Relay client sockets accepted.', [
    ['', stats.accepted],
  ]);
  family(
    'kiteticker_relay_refused_total',
    'counter',
    'Relay client upgrades refused, by HTTP status (403: wrong id or token; 429: too many sockets).',
    Object.entries(stats.refused).map(([status, n]): Sample => [`{status="${label(status)}"}`, n]),
  );
  family('kiteticker_relay_dropped_frames_total', 'counter', 'Tick frames dropped for slow clients (all).', [
    ['', stats.droppedFrames],
  ]);
  family('kiteticker_relay_slow_disconnects_total', 'counter', 'Relay clients disconnected for being slow.', [
    ['', stats.slowDisconnects],
  ]);
  family(
    'kiteticker_relay_upstream_failures_total',
    'counter',
    'Upstream subscribe or mode calls that failed (other than capacity).',
    [['', stats.upstreamFailures]],
  );
  family('kiteticker_relay_frames_in_total', 'counter', 'Upstream tick frames dispatched to clients.', [
    ['', stats.framesIn],
  ]);
}
