import { describe, expect, it } from 'vitest';
import type { RelayClientStats, RelayStats } from '../../src/relay/types.js';
import { renderPrometheus } from '../../src/sinks/prometheus/exposition.js';
import { renderRelayFamilies } from '../../src/sinks/prometheus/relay-exposition.js';

function socket(clientId: string, n: Partial<RelayClientStats>): RelayClientStats {
  return {
    connectionId: 1,
    clientId,
    subscriptions: 0,
    modes: { ltp: 0, quote: 0, full: 0 },
    framesSent: 0,
    ticksSent: 0,
    heartbeatsSent: 0,
    droppedFrames: 0,
    droppedTicks: 0,
    refusedCommands: 0,
    queuedFrames: 0,
    queuedBytes: 0,
    socketBufferedBytes: 0,
    lagMs: 0,
    openedAt: 0,
    ...n,
  };
}

const STATS: RelayStats = {
  connections: 3,
  knownClients: 4,
  wantedTokens: 7,
  upstreamTokens: 9,
  lingeringTokens: 2,
  upstreamFailures: 1,
  framesIn: 50,
  packetsIn: 500,
  malformedFrames: 0,
  droppedFrames: 6,
  slowDisconnects: 1,
  accepted: 5,
  refused: { 403: 2, 429: 1 },
  clients: [
    socket('scanner', { subscriptions: 3, framesSent: 10, droppedFrames: 4, queuedBytes: 100, lagMs: 250 }),
    socket('scanner', {
      subscriptions: 2,
      framesSent: 5,
      queuedBytes: 20,
      socketBufferedBytes: 30,
      lagMs: 1500,
    }),
    socket('dash"board', { subscriptions: 1, framesSent: 7 }),
  ],
};

function render(stats: RelayStats): string {
  return renderPrometheus({ at: 0, uptimeMs: 0, apiKeys: [] }, {}, undefined, (family, label) =>
    renderRelayFamilies(stats, family, label),
  );
}

describe('relay exposition', () => {
  it("relay exposition - per-client families sum a client's sockets under its id, escaped", () => {
    const text = render(STATS);
    expect(text).toContain('kiteticker_relay_client_sockets{client_id="scanner"} 2');
    expect(text).toContain('kiteticker_relay_client_subscriptions{client_id="scanner"} 5');
    expect(text).toContain('kiteticker_relay_client_frames_total{client_id="scanner"} 15');
    expect(text).toContain('kiteticker_relay_client_dropped_frames_total{client_id="scanner"} 4');
    expect(text).toContain('kiteticker_relay_client_queued_bytes{client_id="scanner"} 150');
    expect(text).toContain('kiteticker_relay_client_lag_seconds{client_id="scanner"} 1.5');
    expect(text).toContain('kiteticker_relay_client_subscriptions{client_id="dash\\"board"} 1');
  });

  it('relay exposition - relay-wide families: clients, upstream instruments, accepts and refusals by status', () => {
    const text = render(STATS);
    expect(text).toContain('kiteticker_relay_clients_connected 3');
    expect(text).toContain('kiteticker_relay_upstream_instruments 9');
    expect(text).toContain('kiteticker_relay_wanted_instruments 7');
    expect(text).toContain('kiteticker_relay_accepted_total 5');
    expect(text).toContain('kiteticker_relay_refused_total{status="403"} 2');
    expect(text).toContain('kiteticker_relay_refused_total{status="429"} 1');
    expect(text).toContain('# TYPE kiteticker_relay_client_frames_total counter');
    // The manager's families come first and the text still ends with one newline.
    expect(text.indexOf('kiteticker_api_keys')).toBeLessThan(text.indexOf('kiteticker_relay_'));
    expect(text.endsWith('\n') && !text.endsWith('\n\n')).toBe(true);
  });

  it('relay exposition - no client connected: the families print HELP and TYPE and no sample', () => {
    const text = render({ ...STATS, connections: 0, clients: [], refused: {} });
    expect(text).toContain('# TYPE kiteticker_relay_client_subscriptions gauge');
    expect(text).not.toMatch(/^kiteticker_relay_client_subscriptions\{/m);
    expect(text).toContain('kiteticker_relay_clients_connected 0');
  });
});
