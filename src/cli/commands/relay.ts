/**
 * `kiteticker relay`: the Kite relay (src/relay) as a command. Upstream credentials come as for
 * `stream` (--keys-file, then KITE_API_KEY_N / KITE_ACCESS_TOKEN_N, then KITE_API_KEY / KITE_ACCESS_TOKEN;
 * none: the built-in simulator); clients come from --clients-file (watched), or one random client token
 * is generated and printed once on stderr, like a notebook server's. Stops on SIGINT/SIGTERM within
 * seconds. Upstream and client tokens are never printed (but the generated one, once).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../../logger.js';
import { KiteRelay } from '../../relay/relay.js';
import { createStderrLogger } from '../cli-logger.js';
import { type ApiKeyCredential, loadCredentials } from '../credentials.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { type CliIo, StopRequest } from '../io.js';
import { parsePort, parseSeconds, parseWsUrl } from '../parse.js';
import { createSimHost } from '../sim-host.js';
import { isLoopbackHost } from './simulate.js';

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
}

export const DEFAULT_RELAY_PORT = 8765;
/** Most time SIGTERM waits for the relay to close its sockets (systemd escalates after 90 s, k8s 30 s). */
const STOP_DEADLINE_MS = 3000;

export function resolveRelayConfig(raw: RawRelayOptions): RelayConfig {
  if ((raw.tlsCert === undefined) !== (raw.tlsKey === undefined)) {
    throw new UsageError('--tls-cert and --tls-key go together');
  }
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
  };
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export async function runRelay(config: RelayConfig, io: CliIo): Promise<number> {
  const say = (line: string): void => {
    io.stderr.write(`kiteticker: ${line}\n`);
  };
  const credentials = loadCredentials(io.env, config.keysFile);
  for (const w of credentials.warnings ?? []) io.stderr.write(`kiteticker: ${w}\n`);
  let keys: ApiKeyCredential[] = credentials.keys;
  let url = config.url;
  const sim = keys.length === 0 ? createSimHost({ keys: 1, seed: 1, rate: 1 }) : undefined;
  if (sim) {
    await sim.simulator.start({ port: 0, host: '127.0.0.1' });
    keys = sim.keys;
    url = sim.simulator.url;
  }
  let generated: { id: string; accessToken: string } | undefined;
  if (config.clientsFile === undefined) {
    generated = { id: 'relay', accessToken: randomBytes(24).toString('base64url') };
  }
  // Warnings (a slow client disconnected, an upstream call failed) always; the rest with --verbose.
  // Every token the process knows is redacted, though no log entry is meant to carry one.
  const secrets = [...keys.map((k) => k.accessToken), ...(generated ? [generated.accessToken] : [])];
  const stderrLog = createStderrLogger(
    (line) => io.stderr.write(line),
    secrets,
    () => keys,
  );
  const logger: Logger = config.verbose
    ? stderrLog
    : { debug: () => {}, info: () => {}, warn: stderrLog.warn, error: stderrLog.error };
  let relay: KiteRelay;
  try {
    const tls = config.tls
      ? { cert: readPem('--tls-cert', config.tls.certFile), key: readPem('--tls-key', config.tls.keyFile) }
      : undefined;
    relay = new KiteRelay({
      upstream: { apiKeys: keys, logger, ...(url !== undefined ? { url } : {}) },
      ...(config.clientsFile !== undefined ? { clientsFile: config.clientsFile } : { clients: [generated!] }),
      host: config.host,
      port: config.port,
      lingerMs: config.lingerMs,
      logger,
      ...(tls ? { tls } : {}),
    });
  } catch (error) {
    // A bad clients file or certificate: the built-in simulator must not keep the process alive.
    await sim?.simulator.stop();
    throw error;
  }
  relay.on('warning', (message) => say(`warning: ${message}`));
  // TODO(svc): `--service` (restart policy, /readyz, Prometheus) and keys-file watching come from the
  // stream command's service mode (branch svc); when it lands, feed keys-file token changes to
  // relay.updateAccessToken(id, token) and expose relay.stats() beside the manager's on /readyz and /metrics.
  const stop = new StopRequest();
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  const timer =
    config.durationMs === undefined
      ? undefined
      : setTimeout(() => stop.request('duration'), config.durationMs);
  try {
    await relay.start();
  } catch (error) {
    removeSignals();
    clearTimeout(timer);
    await relay.stop().catch(() => undefined);
    await sim?.simulator.stop();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      say(`error: cannot listen on ${config.host}:${config.port}: ${code}`);
      return ExitCode.Usage;
    }
    throw error;
  }
  if (!isLoopbackHost(config.host)) {
    say(
      config.tls
        ? `warning: the relay listens on ${config.host}, beyond this machine; only clients with a valid token can connect`
        : `warning: the relay listens on ${config.host}, beyond this machine, without TLS: client tokens and ticks travel in clear; add --tls-cert and --tls-key`,
    );
  }
  if (generated) {
    // Printed once, like a notebook server's token: it exists only in this process.
    say(`relay client (printed once): api_key=${generated.id} access_token=${generated.accessToken}`);
  }
  const upstream = sim
    ? 'the built-in simulator (no credentials given)'
    : `${keys.length} API key(s) (${credentials.source})`;
  io.stdout.write(
    `kiteticker relay listening on ${relay.url}\n  upstream: ${upstream}${url && !sim ? ` at ${url}` : ''}\n  linger: ${config.lingerMs / 1000} s\nCtrl-C to stop\n`,
  );
  const reason = await stop.promise;
  removeSignals();
  clearTimeout(timer);
  const deadline = new Promise<void>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS).unref());
  try {
    await Promise.race([Promise.all([relay.stop(), sim?.simulator.stop()]), deadline]);
  } catch (error) {
    say(`while stopping: ${(error as Error).message}`);
    return exitCodeOf(error);
  }
  say(`relay stopped (${reason})`);
  return ExitCode.Ok;
}
