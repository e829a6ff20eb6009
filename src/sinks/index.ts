/**
 * `kiteticker-manager/nats`: fan-out of ticks over NATS. One process holds the Kite sockets and publishes;
 * any number of consumers on other machines subscribe. Needs the optional peer dependency
 * `@nats-io/transport-node` (and `@nats-io/jetstream` for the last-tick store). See docs/fan-out.md.
 */
export {
  type ContinuityCounters,
  type ContinuityEvent,
  type ContinuityOptions,
  ContinuityTracker,
} from './continuity.js';
export {
  decodeEnvelope,
  ENVELOPE_VERSION,
  type Envelope,
  FIXED_HEADER,
  FIXED_HEADER_V2,
  frameOffset,
} from './envelope.js';
export { GapTracker } from './gap-tracker.js';
export {
  DEFAULT_DUPLICATE_WINDOW_MS,
  DEFAULT_STREAM,
  ensureLastTickStream,
  type LatestTicksOptions,
  latestTicks,
} from './jetstream.js';
export { MSG_ID_HEADER, tickMsgId } from './msg-id.js';
export { createNatsSink, DEFAULT_NATS_URL, NatsTickSink } from './sink.js';
export {
  DEFAULT_SUBJECT_PREFIX,
  filterSubject,
  parseTickFilter,
  statusSubject,
  tickSubject,
} from './subjects.js';
export { subscribeTicks } from './subscribe.js';
export type {
  LastTickStreamOptions,
  NatsSinkStats,
  NatsTickSinkOptions,
  SubscribeTicksOptions,
  TickEncoding,
  TickFilter,
  TickMessage,
  TickSource,
  TickSubscription,
  TickSubscriptionStats,
} from './types.js';
