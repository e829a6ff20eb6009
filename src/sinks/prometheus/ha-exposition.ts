/**
 * The HA families of the exposition (`stream --ha`): this instance's role per key, leases taken and
 * lost, members seen, and the lease renewal latency. Rendered only when the snapshot has `ha`.
 */
import type { FeedHaStats } from '../tick-sink.js';

type Sample = [labels: string, value: number];
type Family = (name: string, type: 'counter' | 'gauge', help: string, samples: Sample[]) => void;

export function renderHaFamilies(ha: FeedHaStats, family: Family, label: (v: string) => string): void {
  const inst = `instance="${label(ha.instance)}",group="${label(ha.group)}"`;
  family(
    'kiteticker_ha_active',
    'gauge',
    '1 while this instance holds the API key (active), 0 while it stands by.',
    ha.keys.map((k): Sample => [`{${inst},api_key_id="${label(k.apiKeyId)}"}`, k.role === 'active' ? 1 : 0]),
  );
  family('kiteticker_ha_members', 'gauge', 'Live members of the group seen by this instance.', [
    [`{${inst}}`, ha.members],
  ]);
  family('kiteticker_ha_takeovers_total', 'counter', 'Leases this instance took.', [
    [`{${inst}}`, ha.takeovers],
  ]);
  family(
    'kiteticker_ha_lost_total',
    'counter',
    'Keys this instance gave up, by reason (fenced, stolen, released, rebalanced).',
    Object.entries(ha.lost).map(([reason, n]): Sample => [`{${inst},reason="${label(reason)}"}`, n]),
  );
  family('kiteticker_ha_renew_seconds_sum', 'counter', 'Total time of successful lease renewals.', [
    [`{${inst}}`, ha.renew.totalMs / 1000],
  ]);
  family('kiteticker_ha_renew_seconds_count', 'counter', 'Successful lease renewals.', [
    [`{${inst}}`, ha.renew.count],
  ]);
  family('kiteticker_ha_renew_seconds_max', 'gauge', 'Slowest successful lease renewal so far.', [
    [`{${inst}}`, ha.renew.maxMs / 1000],
  ]);
  family(
    'kiteticker_ha_renew_failures_total',
    'counter',
    'Lease renewals that failed (timeout, NATS away).',
    [[`{${inst}}`, ha.renew.failures]],
  );
}
