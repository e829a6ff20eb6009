/**
 * What `kiteticker ha status` shows: every lease and member of a group's bucket, read once. Ages are
 * "how long ago the holder says it renewed", by this machine's wall clock against the holder's: an
 * operator's view only (the protocol itself never compares clocks across machines).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { decodeLease, decodeMember } from './codec.js';
import { decodeKeyId } from './names.js';
import { LeaseStore } from './store.js';

export interface HaStatusLease {
  apiKeyId: string;
  holder: string;
  /** Epoch ms the holder took the lease. */
  since: number;
  /** Ms since the holder's last renewal, by the wall clocks. */
  ageMs: number;
  ttlMs: number;
  revision: number;
}

export interface HaStatusMember {
  instance: string;
  startedAt: number;
  /** Ms since its last presence write, by the wall clocks. */
  ageMs: number;
  /** Its last write is older than its TTL: gone, or cut off from NATS. */
  stale: boolean;
}

export interface HaStatus {
  group: string;
  bucket: string;
  leases: HaStatusLease[];
  members: HaStatusMember[];
  /** Entries that could not be read (their keys), as reported by the codec. */
  unreadable: string[];
}

export async function readHaStatus(nc: NatsConnection, group: string, timeoutMs = 5_000): Promise<HaStatus> {
  const store = await LeaseStore.openExisting(nc, group, timeoutMs);
  const now = Date.now();
  const status: HaStatus = { group, bucket: store.bucket, leases: [], members: [], unreadable: [] };
  for (const key of await store.keysUnder('lease')) {
    const entry = await store.get(key);
    if (!entry?.value) continue;
    const decoded = decodeLease(entry.value, key);
    if (!decoded.ok || decodeKeyId(key.slice('lease.'.length)) !== decoded.value.apiKeyId) {
      status.unreadable.push(key);
      continue;
    }
    const r = decoded.value;
    status.leases.push({
      apiKeyId: r.apiKeyId,
      holder: r.instance,
      since: r.acquiredAt,
      ageMs: Math.max(0, now - r.renewedAt),
      ttlMs: r.ttlMs,
      revision: entry.revision,
    });
  }
  for (const key of await store.keysUnder('member')) {
    const entry = await store.get(key);
    if (!entry?.value) continue;
    const decoded = decodeMember(entry.value, key);
    if (!decoded.ok) {
      status.unreadable.push(key);
      continue;
    }
    const m = decoded.value;
    const ageMs = Math.max(0, now - m.renewedAt);
    status.members.push({ instance: m.instance, startedAt: m.startedAt, ageMs, stale: ageMs > m.ttlMs });
  }
  status.leases.sort((a, b) => a.apiKeyId.localeCompare(b.apiKeyId));
  status.members.sort((a, b) => a.instance.localeCompare(b.instance));
  return status;
}
