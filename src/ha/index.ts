/**
 * High availability across machines (issue 18): leases per API key in a JetStream KV bucket, so that
 * several `stream --ha` instances share a group's keys, one holder per key, with fencing. See
 * docs/high-availability.md. Needs the optional peers @nats-io/transport-node, @nats-io/jetstream
 * and @nats-io/kv.
 */
export {
  decodeLease,
  decodeMember,
  decodeWant,
  encodeLease,
  encodeMember,
  encodeWant,
  type LeaseRecord,
  type MemberRecord,
  type WantRecord,
} from './codec.js';
export {
  HaController,
  type HaControllerEvents,
  type HaControllerOptions,
  type HaKeyState,
  type HaLostReason,
  type HaStats,
  type HaTookInfo,
} from './controller.js';
export {
  type HaKeyCredential,
  type HaKeyHost,
  ManagerKeyHost,
  type ManagerKeyHostOptions,
} from './key-host.js';
export {
  bucketName,
  decodeKeyId,
  defaultInstanceId,
  encodeKeyId,
  leaseKey,
  memberKey,
  wantKey,
} from './names.js';
export { type HaStatus, readHaStatus } from './status.js';
export { type HaTimingOptions, type HaTimings, resolveTimings } from './timings.js';
