/**
 * `kiteticker simulate`: runs the Kite-compatible simulator until Ctrl-C, printing its URL and the
 * test credentials it accepts (test values, not secrets: printing them is the point).
 */
import { MAX_UNIVERSE_SIZE } from '../../config/limits.js';
import { MAX_CLOCK_SPEED, type TradingClockOptions } from '../../simulator/trading-clock.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import { loadInstrumentsFile } from '../instruments-file.js';
import { type CliIo, StopRequest } from '../io.js';
import { parseInteger, parseNumber, parsePort, parseSeconds } from '../parse.js';
import { createSimHost, simApps } from '../sim-host.js';
import { plural } from '../view.js';

export interface RawSimulateOptions {
  port?: string;
  host?: string;
  seed?: string;
  instruments?: string;
  universeSize?: string;
  rate?: string;
  chaos?: string;
  keys?: string;
  duration?: string;
  tokenExpiry?: string;
  clockSpeed?: string;
}

export interface SimulateConfig {
  port: number;
  host: string;
  seed: number;
  instrumentsFile: string | undefined;
  universeSize: number | undefined;
  rate: number;
  /** Faults per second; 0 = none. */
  chaos: number;
  keys: number;
  durationMs: number | undefined;
  /** The trading-day clock; undefined = tokens never expire. */
  tradingClock: TradingClockOptions | undefined;
}

export function resolveSimulateConfig(raw: RawSimulateOptions): SimulateConfig {
  return {
    port: raw.port === undefined ? 0 : parsePort('--port', raw.port),
    host: raw.host ?? '127.0.0.1',
    seed: raw.seed === undefined ? 1 : parseInteger('--seed', raw.seed, 0, 0xffff_ffff),
    instrumentsFile: raw.instruments,
    universeSize:
      raw.universeSize === undefined
        ? undefined
        : parseInteger('--universe-size', raw.universeSize, 1, MAX_UNIVERSE_SIZE),
    rate: raw.rate === undefined ? 1 : parseNumber('--rate', raw.rate, 0.01, 1000, 'ticks per second'),
    chaos: raw.chaos === undefined ? 0 : parseNumber('--chaos', raw.chaos, 0, 1000, 'faults per second'),
    keys: raw.keys === undefined ? 3 : parseInteger('--keys', raw.keys, 1, 20),
    durationMs: raw.duration === undefined ? undefined : parseSeconds('--duration', raw.duration),
    tradingClock:
      raw.tokenExpiry === undefined && raw.clockSpeed === undefined
        ? undefined
        : {
            ...(raw.tokenExpiry !== undefined ? { expiresAt: checkTimeOfDay(raw.tokenExpiry) } : {}),
            ...(raw.clockSpeed !== undefined
              ? { speed: parseNumber('--clock-speed', raw.clockSpeed, 1, MAX_CLOCK_SPEED, 'a speed factor') }
              : {}),
          },
  };
}

export async function runSimulate(config: SimulateConfig, io: CliIo): Promise<number> {
  const lines: string[] = [];
  const out = (line: string): void => {
    lines.push(line);
  };
  const instruments =
    config.instrumentsFile === undefined ? undefined : await loadInstrumentsFile(config.instrumentsFile);
  const host = createSimHost({
    keys: config.keys,
    seed: config.seed,
    rate: config.rate,
    ...(instruments ? { instruments } : {}),
    ...(config.universeSize !== undefined ? { universeSize: config.universeSize } : {}),
    ...(config.chaos > 0 ? { chaos: { faultsPerSecond: config.chaos } } : {}),
    ...(config.tradingClock ? { tradingClock: config.tradingClock } : {}),
  });
  const stop = new StopRequest();
  const removeSignals = io.onStopSignal((signal) => stop.signal(signal));
  const timer =
    config.durationMs === undefined
      ? undefined
      : setTimeout(() => stop.request('duration'), config.durationMs);
  try {
    await host.simulator.start({ port: config.port, host: config.host });
  } catch (error) {
    removeSignals();
    clearTimeout(timer);
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr.write(
      `kiteticker: error: cannot listen on ${config.host}:${config.port}: ${code ?? (error as Error).message}\n`,
    );
    return code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL'
      ? ExitCode.Usage
      : exitCodeOf(error);
  }
  if (!isLoopbackHost(config.host)) {
    // Its credentials are fixed and printed below: anyone who can reach the port can use them.
    io.stderr.write(
      `kiteticker: warning: the simulator listens on ${config.host}, not only on this machine (127.0.0.1); its test credentials are fixed and public, so anyone who can reach port ${host.simulator.port} can connect\n`,
    );
  }
  const url = host.simulator.url;
  const first = host.keys[0]!;
  out(`kiteticker simulator listening on ${url}`);
  out(
    `  universe: ${plural(host.simulator.instruments().length, 'instrument')} (seed ${config.seed}), ${config.rate} tick/s per subscribed instrument${config.chaos > 0 ? `, chaos ${config.chaos} faults/s` : ''}`,
  );
  out('  test credentials (api_key  access_token):');
  for (const k of host.keys) out(`    ${k.apiKey}  ${k.accessToken}`);
  out('  login test apps (api_key  api_secret; redirect to http://127.0.0.1:5010/):');
  for (const [apiKey, app] of Object.entries(simApps(host.keys))) out(`    ${apiKey}  ${app.apiSecret}`);
  out(
    `  these are test credentials: they work only with this simulator (kiteticker login --api-url ${url.replace(/^ws/, 'http')} ...)`,
  );
  if (config.tradingClock) {
    out(
      `  trading clock: tokens expire daily at ${config.tradingClock.expiresAt ?? '06:00'} IST, ${config.tradingClock.speed ?? 1}x real time`,
    );
  }
  out(
    `  try: KITE_API_KEY=${first.apiKey} KITE_ACCESS_TOKEN=${first.accessToken} kiteticker stream --url ${url} 256265 408065`,
  );
  out('Ctrl-C to stop');
  // One write, so a reader never sees the URL without the credentials.
  io.stdout.write(`${lines.join('\n')}\n`);
  await stop.promise;
  removeSignals();
  clearTimeout(timer);
  await host.simulator.stop();
  io.stderr.write(`kiteticker: simulator stopped (${stop.reason})\n`);
  return ExitCode.Ok;
}

function checkTimeOfDay(text: string): string {
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(text)) {
    throw new UsageError(
      `--token-expiry: expected a local time HH:MM (00:00 to 23:59), got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return text;
}

/** 127.0.0.0/8, ::1 and localhost: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}
