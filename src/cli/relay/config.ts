/**
 * `kiteticker relay`'s flags as given (strings) and as checked (RelayConfig); a bad combination is a
 * UsageError (exit 2) before anything opens.
 */
import { UsageError } from '../exit-codes.js';
import { parseHost, parsePort, parseSeconds, parseWsUrl } from '../parse.js';

export interface RawRelayOptions {
  keysFile?: string;
  url?: string;
  port?: string;
  host?: string;
  tlsCert?: string;
  tlsKey?: string;
  clientsFile?: string;
  linger?: string;
  duration?: string;
  verbose?: boolean;
  service?: boolean;
  metricsPort?: string;
  metricsHost?: string;
  nats?: string;
  natsCreds?: string;
  natsJetstream?: boolean;
}

export interface RelayConfig {
  keysFile: string | undefined;
  url: string | undefined;
  port: number;
  host: string;
  tls: { certFile: string; keyFile: string } | undefined;
  clientsFile: string | undefined;
  lingerMs: number;
  durationMs: number | undefined;
  verbose: boolean;
  /** Never exit on a refused key or a failed connection; JSON log lines on stderr; nothing on stdout. */
  service: boolean;
  metricsPort: number | undefined;
  metricsHost: string;
  nats: string | undefined;
  natsCreds: string | undefined;
  natsJetstream: boolean;
}

export const DEFAULT_RELAY_PORT = 8765;

export function resolveRelayConfig(raw: RawRelayOptions): RelayConfig {
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
  if (raw.metricsHost !== undefined && raw.metricsPort === undefined)
    throw new UsageError('--metrics-host needs --metrics-port');
  if (raw.natsCreds !== undefined && raw.nats === undefined)
    throw new UsageError('--nats-creds needs --nats');
  if (raw.natsJetstream === true && raw.nats === undefined)
    throw new UsageError('--nats-jetstream needs --nats');
  // A generated token is printed once; in a service that would be a log line holding a secret.
  if (raw.service === true && raw.clientsFile === undefined)
    throw new UsageError(
      '--service needs --clients-file (a generated client token would live only in the log)',
    );
  return {
    keysFile: raw.keysFile,
    url: raw.url === undefined ? undefined : parseWsUrl('--url', raw.url),
    port: raw.port === undefined ? DEFAULT_RELAY_PORT : parsePort('--port', raw.port),
    host: raw.host ?? '127.0.0.1',
    tls: raw.tlsCert === undefined ? undefined : { certFile: raw.tlsCert, keyFile: raw.tlsKey! },
    clientsFile: raw.clientsFile,
    // 0 is allowed: drop upstream subscriptions at once.
    lingerMs:
      raw.linger === undefined ? 5000 : raw.linger.trim() === '0' ? 0 : parseSeconds('--linger', raw.linger),
    durationMs: raw.duration === undefined ? undefined : parseSeconds('--duration', raw.duration),
    verbose: raw.verbose === true,
    service: raw.service === true,
    metricsPort: raw.metricsPort === undefined ? undefined : parsePort('--metrics-port', raw.metricsPort),
    metricsHost: raw.metricsHost === undefined ? '127.0.0.1' : parseHost('--metrics-host', raw.metricsHost),
    nats: raw.nats,
    natsCreds: raw.natsCreds,
    natsJetstream: raw.natsJetstream === true,
  };
}
