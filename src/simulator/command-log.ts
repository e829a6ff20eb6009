/** The command log moved to the Kite server front end (src/kite-server); kept here for existing imports. */
export {
  COMMAND_LOG_ENTRY_BYTES,
  CommandLog,
  DEFAULT_COMMAND_LOG_BYTES,
} from '../kite-server/command-log.js';
