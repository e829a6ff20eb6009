/**
 * The Kite protocol server front end: what a server needs to look like Kite's ticker to any Kite client
 * (upgrade with `?api_key=&access_token=`, per-key socket limits, subscribe/unsubscribe/mode commands,
 * binary and text frames, heartbeats, REST routes on the same port), with who may connect (an
 * authoriser) and where ticks come from (a frame source) plugged in.
 *
 * Named `kite-server` rather than after one of its users because it has two: the simulator (a synthetic
 * market behind it) and the relay (issue 17: the manager's upstream connections behind it). Neither
 * lives here, and nothing here knows about instruments, prices or upstream keys.
 */

export { COMMAND_LOG_ENTRY_BYTES, CommandLog, DEFAULT_COMMAND_LOG_BYTES } from './command-log.js';
export { applyCommand, maxTokensMessage } from './commands.js';
export { KiteServerConnection } from './connection.js';
export { type KeyStats, KeyTable, MAX_TRACKED_KEYS } from './keys.js';
export { type ConnectionTarget, KiteProtocolServer, SLOW_CLIENT_BYTES } from './server.js';
export type {
  Authorisation,
  CloseHow,
  CommandLogEntry,
  HttpRoute,
  KiteAuthoriser,
  KiteFrameSender,
  KiteFrameSource,
  KiteServerObserver,
  KiteServerOptions,
  SubscriptionChange,
  UpgradeRequest,
} from './types.js';
export { decideUpgrade, refuseUpgrade, type UpgradeDecision, type UpgradeLimits } from './upgrade.js';
