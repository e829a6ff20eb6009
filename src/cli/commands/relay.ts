/**
 * `kiteticker relay`: the Kite relay (src/relay) as a command. Upstream credentials come as for
 * `stream` (--keys-file, then KITE_API_KEY_N / KITE_ACCESS_TOKEN_N, then KITE_API_KEY / KITE_ACCESS_TOKEN;
 * none: the built-in simulator); clients come from --clients-file (watched), or one random client token
 * is generated and printed once on stderr, like a notebook server's. As a service it shares stream's
 * pieces (../relay/service.ts): the keys file watched, failed keys retried, JSON logs, /metrics,
 * /healthz, /readyz and the NATS sink. Stops on SIGINT/SIGTERM within seconds. Upstream and client
 * tokens are never printed (but the generated one, once).
 */
export {
  DEFAULT_RELAY_PORT,
  type RawRelayOptions,
  type RelayConfig,
  resolveRelayConfig,
} from '../relay/config.js';
export { runRelay } from '../relay/run.js';
