/**
 * Runs `kiteticker relay`: the upstream manager (built here, so its keys read a watched keys file's
 * tokens and a service waits for refused keys), the sinks, the relay in front of it, then waits for a
 * stop. Everything opened is closed by the disposer stack in reverse: the relay's clients first, then
 * the manager, the sinks and the built-in simulator.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MultiApiKiteTickerManager } from '../../manager/manager.js';
import { type Readiness, readinessOf } from '../../manager/readiness.js';
import type { RelayManager } from '../../relay/options.js';
import { KiteRelay } from '../../relay/relay.js';
import { isLoopbackHost } from '../commands/simulate.js';
import { loadCredentials } from '../credentials.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { createSimHost } from '../sim-host.js';
import { TokenStore } from '../stream/keys-reload.js';
import type { RelayConfig } from './config.js';
import { createRelayContext, type RelayContext } from './context.js';
import { attachRelaySinks, relayReadiness, watchUpstreamKeys } from './service.js';

/** Most time SIGTERM waits for the relay to close its sockets (systemd escalates after 90 s, k8s 30 s). */
const STOP_DEADLINE_MS = 3000;

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export async function runRelay(config: RelayConfig, io: CliIo): Promise<number> {
  const credentials = loadCredentials(io.env, config.keysFile);
  const ctx = createRelayContext(config, io, credentials.keys);
  for (const w of credentials.warnings ?? []) ctx.say(w);
  const removeSignals = io.onStopSignal((signal) => ctx.stop.signal(signal));
  ctx.disposers.push('signal handlers', removeSignals);
  let exitCode: number = ExitCode.Ok;
  try {
    // A stop during start-up (an upstream that never answers) wins over start-up.
    await Promise.race([serve(ctx, credentials.source), ctx.stop.promise]);
    const reason = await ctx.stop.promise;
    if (ctx.failure !== undefined) exitCode = exitCodeOf(ctx.failure);
    ctx.say(`relay stopped (${reason})`);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      ctx.say(`error: cannot listen on ${config.host}:${config.port}: ${code}`);
      exitCode = ExitCode.Usage;
    } else if (error instanceof UsageError) {
      throw error;
    } else {
      ctx.say(`error: ${(error as Error).message}`);
      exitCode = exitCodeOf(error);
    }
  } finally {
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS).unref());
    await ctx.disposers.dispose(deadline, (name, error) => {
      ctx.say(`while stopping (${name}): ${(error as Error).message}`);
      if (exitCode === ExitCode.Ok) exitCode = exitCodeOf(error);
    });
  }
  return exitCode;
}

/** Everything up to "listening": resolves once the relay serves, throws what stopped it starting. */
async function serve(ctx: RelayContext, source: string): Promise<void> {
  const { config, io } = ctx;
  let url = config.url;
  const sim = ctx.keys.length === 0 ? createSimHost({ keys: 1, seed: 1, rate: 1 }) : undefined;
  if (sim) {
    await sim.simulator.start({ port: 0, host: '127.0.0.1' });
    ctx.disposers.push('simulator', () => sim.simulator.stop());
    ctx.keys = sim.keys;
    ctx.secrets.push(...sim.keys.map((k) => k.accessToken));
    url = sim.simulator.url;
  }
  const keys = ctx.keys;
  // A watched keys file: the keys' tokens come from this store, updated as the file changes.
  const tokens = config.keysFile !== undefined && !sim ? new TokenStore(keys, ctx.secrets) : undefined;
  // The relay cuts raw frames; tick objects are decoded only for a NATS sink in the same process.
  const b = MultiApiKiteTickerManager.builder()
    .rawFrames(true)
    .latestQuotes(false)
    .decodeTicks(config.nats !== undefined)
    .logger(ctx.logger);
  for (const k of keys) b.addApiKey(k.id, k.apiKey, tokens ? tokens.provider(k.id) : k.accessToken);
  if (url !== undefined) b.url(url);
  // A service keeps running with every key refused or unreachable: clients wait, unplaced.
  if (config.service) b.waitForKeys(true);
  const manager = b.build();

  let generated: { id: string; accessToken: string } | undefined;
  if (config.clientsFile === undefined) {
    generated = { id: 'relay', accessToken: randomBytes(24).toString('base64url') };
  }
  const tls = config.tls
    ? { cert: readPem('--tls-cert', config.tls.certFile), key: readPem('--tls-key', config.tls.keyFile) }
    : undefined;
  // Without --service a key refused (or unreachable) at start ends the command, as stream's does, so
  // the relay listens once the upstream started. A service listens at once: clients connect and
  // subscribe while the upstream is still trying, their calls held until it runs.
  let startUpstream: () => void = () => undefined;
  const upstreamStarted = new Promise<void>((resolve) => {
    startUpstream = resolve;
  }).then(() => manager.start());
  const relay = new KiteRelay({
    manager: config.service ? gated(manager, upstreamStarted) : (manager as unknown as RelayManager),
    ...(config.clientsFile !== undefined ? { clientsFile: config.clientsFile } : { clients: [generated!] }),
    host: config.host,
    port: config.port,
    lingerMs: config.lingerMs,
    logger: ctx.logger,
    ...(tls ? { tls } : {}),
  });
  relay.on('warning', (message) => ctx.say(`warning: ${message}`));

  let started = false;
  // 'not started' (503) until the upstream runs.
  const readiness = (): Readiness =>
    started ? relayReadiness(manager, relay) : readinessOf(undefined, relay.stats().upstreamTokens);
  const { metricsUrl } = await attachRelaySinks(ctx, manager, relay, readiness);
  if (metricsUrl !== undefined) ctx.say(`metrics ${metricsUrl}`);

  // Stopped last of the relay's parts: the relay's clients are told first, then the upstream goes.
  ctx.disposers.push('manager', () => manager.stop());
  if (config.durationMs !== undefined) {
    const timer = setTimeout(() => ctx.stop.request('duration'), config.durationMs);
    ctx.disposers.push('--duration timer', () => clearTimeout(timer));
  }
  if (config.service) {
    startUpstream();
    void upstreamStarted.then(
      () => {
        started = true;
      },
      (error: unknown) => {
        ctx.failure = error;
        ctx.say(`error: the upstream did not start: ${(error as Error).message}`);
        ctx.stop.request('error');
      },
    );
  } else {
    await manager.start();
    started = true;
  }
  if (ctx.stop.requested) return;
  ctx.disposers.push('relay', () => relay.stop());
  await relay.start();
  watchUpstreamKeys(ctx, manager, tokens);

  if (!isLoopbackHost(config.host)) {
    ctx.say(
      config.tls
        ? `warning: the relay listens on ${config.host}, beyond this machine; only clients with a valid token can connect`
        : `warning: the relay listens on ${config.host}, beyond this machine, without TLS: client tokens and ticks travel in clear; add --tls-cert and --tls-key`,
    );
  }
  if (generated) {
    // Printed once, like a notebook server's token (never as a service): it exists only in this
    // process. Written as is, then redacted from every later line.
    io.stderr.write(
      `kiteticker: relay client (printed once): api_key=${generated.id} access_token=${generated.accessToken}\n`,
    );
    ctx.secrets.push(generated.accessToken);
  }
  const upstream = sim
    ? 'the built-in simulator (no credentials given)'
    : `${keys.length} API key(s) (${source})`;
  const shownUrl = url && !sim ? ` at ${url}` : '';
  if (config.service) {
    // A service prints nothing on stdout: where it listens is a log entry.
    ctx.logger.info(
      { url: relay.url, upstream, lingerMs: config.lingerMs },
      `relay listening on ${relay.url}`,
    );
  } else {
    io.stdout.write(
      `kiteticker relay listening on ${relay.url}\n  upstream: ${upstream}${shownUrl}\n  linger: ${config.lingerMs / 1000} s\nCtrl-C to stop\n`,
    );
  }
}

/**
 * The manager as the relay sees it, with subscription changes held until `started` settles (the
 * relay's upstream queue runs them in order then). The cast: the manager's typed event overloads are
 * narrower than RelayManager's generic `off`.
 */
function gated(manager: MultiApiKiteTickerManager, started: Promise<void>): RelayManager {
  const m = manager as unknown as RelayManager;
  const after = (call: () => Promise<void>): Promise<void> => started.then(call);
  return {
    subscribeSymbols: (tokens, mode) => after(() => m.subscribeSymbols(tokens, mode)),
    unsubscribeSymbols: (tokens) => after(() => m.unsubscribeSymbols(tokens)),
    changeMode: (tokens, mode) => after(() => m.changeMode(tokens, mode)),
    on: ((event: never, listener: never) => m.on(event, listener)) as RelayManager['on'],
    off: (event, listener) => m.off(event, listener),
    start: () => m.start(),
    stop: () => m.stop(),
    updateAccessToken: (id, token) => m.updateAccessToken(id, token),
    getStats: () => m.getStats(),
  };
}
