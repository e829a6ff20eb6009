/**
 * `kiteticker-manager/relay`: a Kite ticker server in front of the manager, so any Kite client shares
 * one set of upstream connections. See docs/relay.md.
 */
export {
  MAX_CLIENTS,
  MAX_CLIENTS_FILE_BYTES,
  parseClientsFile,
  type RelayClient,
  type RelayClientConfig,
} from './clients.js';
export { readClientsFile } from './clients-file.js';
export { type KiteRelayOptions, RELAY_DEFAULTS, type RelayManager } from './options.js';
export { KiteRelay, type KiteRelayEvents } from './relay.js';
export type { RelayClientStats, RelayStats } from './types.js';
