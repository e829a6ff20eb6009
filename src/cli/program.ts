/**
 * The `kiteticker` command line: commander setup, and the mapping of every outcome to an exit code
 * (0 ok, 1 runtime failure, 2 usage error). `runCli` never exits the process; main.ts does.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { redact } from '../errors.js';
import { registerHaCommand } from './commands/ha-status.js';
import { addChainOptions, registerInstrumentsCommand } from './commands/instruments-cli.js';
import { registerLoginCommand } from './commands/login.js';
import { type RawRelayOptions, resolveRelayConfig, runRelay } from './commands/relay.js';
import { type RawReplayOptions, resolveReplayConfig, runReplay } from './commands/replay.js';
import { runReplayServe } from './commands/replay-serve.js';
import { type RawSimulateOptions, resolveSimulateConfig, runSimulate } from './commands/simulate.js';
import { runStream } from './commands/stream.js';
import { type RawSubscribeOptions, resolveSubscribeConfig, runSubscribe } from './commands/subscribe.js';
import { ExitCode, exitCodeOf, UsageError } from './exit-codes.js';
import { resolveSymbolFilters } from './filter-symbols.js';
import { addHaOptions, type RawHaOptions, resolveHaOptions } from './ha-options.js';
import type { CliIo } from './io.js';
import { type RawStreamOptions, resolveStreamConfig } from './stream-config.js';
import { terminalLine } from './terminal-text.js';

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/**
 * Where the full CLI reference is: the package ships docs/ (package.json `files`), so the help names
 * that file by its absolute path, which works from any directory; nothing when it is not there.
 */
function docsLine(): string {
  try {
    const path = fileURLToPath(new URL('../../docs/cli.md', import.meta.url));
    return existsSync(path) ? `\nFull reference: ${path}` : '';
  } catch {
    return '';
  }
}

const CREDENTIALS_HELP = `
Credentials (first match wins; none = the built-in simulator):
  --keys-file FILE                          [{"id","apiKey","accessToken"}, ...]
  KITE_API_KEY_1, KITE_ACCESS_TOKEN_1, ...  several keys (optional KITE_API_KEY_ID_N names them)
  KITE_API_KEY, KITE_ACCESS_TOKEN           one key
`;

const RECORD_HELP = `${CREDENTIALS_HELP}
--out must be a regular file or a new path (not a pipe, FIFO or device); to pipe ticks, use
\`kiteticker stream --format ndjson\`.

Examples:
  kiteticker record -o day.ktrec -d 60                        # simulator, 500 instruments, one minute
  kiteticker record -o nifty.ktrec NSE:INFY NSE:TCS -m full   # named instruments (credentials set)
  kiteticker record -o day.ktrec --force --format view        # overwrite, and watch the live view
  kiteticker replay day.ktrec --format ndjson                 # play it back`;

const ENV_HELP = `${CREDENTIALS_HELP}
Examples:
  kiteticker stream                                  # simulator, 500 instruments, live view
  kiteticker stream -n 27000 --format ndjson -d 10   # 27,000 instruments over 3 simulated keys
  kiteticker stream -i instruments.csv NSE:INFY NFO:NIFTY24DEC24000CE -m full
  kiteticker stream --metrics-port 9464              # Prometheus at http://127.0.0.1:9464/metrics`;

/**
 * `record --out` must be a regular file or a new path. The recording is written with fs calls on
 * libuv's thread pool: onto a pipe, FIFO or device whose reader stops reading, such a write blocks
 * for good, and not even process.exit gets past it (it waits for the pool), so SIGTERM could not end
 * the command. A reader that wants frames on a pipe uses `stream --format ndjson`.
 */
function assertRegularOut(path: string): void {
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(path);
  } catch {
    return; // a new path (or one the open will explain)
  }
  if (!info.isFile()) {
    throw new UsageError(
      `--out: ${path} is not a regular file (a pipe, FIFO, device or directory); record writes a file. To send ticks down a pipe, use: kiteticker stream --format ndjson`,
    );
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Options shared by `stream` and `record`. */
function addStreamOptions(cmd: Command): Command {
  return addChainOptions(cmd)
    .argument('[instruments...]', 'instrument tokens (256265) or EXCHANGE:TRADINGSYMBOL (NSE:INFY)')
    .option('-s, --symbols <list>', 'more instruments, comma-separated (repeatable)', collect)
    .option(
      '-i, --instruments <file>',
      'Kite instruments CSV to resolve trading symbols (and to pick the default set)',
    )
    .option(
      '-n, --instruments-count <n>',
      'size of the default set when no instrument is named (default: 500)',
    )
    .option('-m, --mode <mode>', 'ltp, quote or full (default: quote)')
    .option(
      '-d, --duration <seconds>',
      'stop after this many seconds, connecting included (default: until Ctrl-C)',
    )
    .option('--url <url>', 'ticker endpoint (default: wss://ws.kite.trade; needs credentials)')
    .option(
      '--keys-file <file>',
      'JSON file of API keys: [{"id","apiKey","accessToken"}]; watched (and re-read on SIGHUP): changes apply without a restart',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics at http://127.0.0.1:PORT/metrics, and /healthz, /readyz (0 = any free port)',
    )
    .option('--metrics-host <host>', 'with --metrics-port: address to listen on (default: 127.0.0.1)')
    .option(
      '--service',
      'run as a service: never exit on a refused token or a failed connection (retry, wait for tokens), JSON log lines on stderr, no live view, /healthz and /readyz beside /metrics',
    )
    .option(
      '--nats <url>',
      'also publish every tick to this NATS server (e.g. nats://127.0.0.1:4222; nats://user:pass@host to log in)',
    )
    .option(
      '--nats-creds <file>',
      'with --nats: NATS credentials file (.creds); or set NATS_USER/NATS_PASSWORD',
    )
    .option(
      '--nats-jetstream',
      'with --nats: keep the last tick per instrument in JetStream (stream KITE_TICKS; for subscribe --latest)',
    )
    .option('--quotes <n>', 'rows in the live view quote table (default: 20)')
    .option('--connections-per-key <n>', 'WebSocket connections per API key, 1-3 (default: 3)')
    .option('--symbols-per-connection <n>', 'instruments per connection, 1-3000 (default: 3000)')
    .option('--sim-keys <n>', 'built-in simulator: API keys to use (default: 3)')
    .option('--seed <n>', 'built-in simulator: market seed (default: 1)')
    .option('--rate <ticks>', 'built-in simulator: ticks per second per instrument (default: 1)')
    .option('-v, --verbose', 'log connection events to stderr')
    .option('--no-summary', 'do not print the summary on exit');
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.Ok;
  const isTty = io.stdout.isTTY === true;
  const secrets = [
    io.env.KITE_ACCESS_TOKEN,
    io.env.NATS_PASSWORD,
    ...Object.entries(io.env)
      .filter(([k]) => /^KITE_ACCESS_TOKEN_\d+$/.test(k))
      .map(([, v]) => v),
  ];
  const program = new Command('kiteticker')
    .description(
      'Stream Zerodha Kite Connect market data: live view, ndjson, Prometheus metrics, recording, and a local simulator.',
    )
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(redact(s, secrets)),
      // Commander's own usage errors ("error: unknown option") get the prefix every other error has.
      outputError: (s, write) => write(redact(s.replace(/^error: /, 'kiteticker: error: '), secrets)),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `\nExit codes: 0 success, 1 runtime failure (connection, authentication, I/O), 2 usage error.\nNo credentials in the environment: \`stream\` and \`record\` use a built-in simulator.${docsLine()}`,
    );

  addHaOptions(
    addStreamOptions(
      program
        .command('stream')
        .description('stream ticks: a live view on a terminal, one JSON tick per line when piped')
        .addOption(
          new Option(
            '-f, --format <format>',
            'auto, view, ndjson or none (default: auto = view on a terminal, else ndjson)',
          ),
        ),
    ),
  )
    .addHelpText('after', ENV_HELP)
    .action(async (args: string[], opts: RawStreamOptions & RawHaOptions) => {
      const config = resolveStreamConfig(args, opts, io.env, isTty, 'ndjson');
      config.ha = resolveHaOptions(opts, config.simulator);
      exitCode = await runStream(config, io);
    });

  addStreamOptions(
    program
      .command('record')
      .description('stream and write the raw frames to a recording file (see docs/cli.md for the format)')
      .requiredOption('-o, --out <file>', 'recording file to write (.ktrec)')
      .option('--force', 'overwrite --out if it exists (default: refuse)')
      .addOption(
        new Option(
          '-f, --format <format>',
          'auto, view, ndjson or none (default: auto = view on a terminal, else none)',
        ),
      ),
  )
    .addHelpText('after', RECORD_HELP)
    .action(async (args: string[], opts: RawStreamOptions & { out: string; force?: boolean }) => {
      // Checked before anything starts; the exclusive open in the writer closes the race.
      assertRegularOut(opts.out);
      if (opts.force !== true && existsSync(opts.out)) {
        throw new UsageError(`--out: ${opts.out} already exists; add --force to overwrite it`);
      }
      const config = resolveStreamConfig(args, opts, io.env, isTty, 'none');
      exitCode = await runStream(config, io, { path: opts.out, force: opts.force === true });
    });

  program
    .command('replay')
    .description(
      'play a recording back as ndjson or through the live view, or serve it to Kite clients (--serve)',
    )
    .argument('<file>', 'recording written by `kiteticker record`')
    .option('-f, --format <format>', 'auto, view or ndjson (default: auto = view on a terminal, else ndjson)')
    .option(
      '--speed <x>',
      'playback speed factor; 0 = as fast as possible (default: 1 for view and --serve, 0 for ndjson)',
    )
    .option('--quotes <n>', 'rows in the live view quote table (default: 20)')
    .option('--serve', 'serve the recording on a Kite-compatible WebSocket server instead of printing it')
    .option('-p, --port <port>', 'with --serve: port to listen on (default: 0 = any free port)')
    .option('--host <host>', 'with --serve: address to bind (default: 127.0.0.1)')
    .option('--loop', 'with --serve: start again at the end of the recording')
    .option('--keys <n>', 'with --serve: API keys accepted, sim_key_1/sim_token_1 ... (default: 3)')
    .option(
      '-d, --duration <seconds>',
      'with --serve: stop after this many seconds (default: end of recording)',
    )
    .option(
      '--ignore-subscriptions',
      'with --serve: send every recorded frame to every client (default: only the packets of subscribed tokens)',
    )
    .option('--no-summary', 'do not print the summary on exit')
    .action(async (file: string, opts: RawReplayOptions) => {
      const config = resolveReplayConfig(file, opts, isTty);
      exitCode = config.serve ? await runReplayServe(config, config.serve, io) : await runReplay(config, io);
    });

  program
    .command('subscribe')
    .description('print the ticks published to NATS by `kiteticker stream --nats` (one JSON tick per line)')
    .option('--nats <url>', 'NATS server URL(s), comma-separated (default: nats://127.0.0.1:4222)')
    .option('--nats-creds <file>', 'NATS credentials file (.creds); or set NATS_USER/NATS_PASSWORD')
    .option(
      '-F, --filter <filter>',
      'all, an exchange (NSE), a token (408065), NSE:408065, NSE:INFY (with an instruments list), or a subject (kite.tick.NFO.*); repeatable (default: all)',
      collect,
    )
    .option('-q, --queue <name>', 'join this queue group: its members share the ticks (each tick to one)')
    .option('-c, --count <n>', 'stop after this many ticks (default: no limit)')
    .option(
      '--latest',
      'first print the last tick of every matching instrument (needs JetStream: stream --nats-jetstream)',
    )
    .option('-f, --format <format>', 'ndjson or none (default: ndjson)')
    .option('--envelope', 'add receivedAt, sequence, gap and subject to each line')
    .option('--subject-prefix <prefix>', "the publisher's subject prefix (default: kite)")
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)')
    .option('--no-summary', 'do not print the summary on exit')
    .option(
      '-i, --instruments <file>',
      'Kite instruments CSV for --filter EXCHANGE:TRADINGSYMBOL (default: the cache)',
    )
    .action(async (opts: RawSubscribeOptions & { instruments?: string }) => {
      const filter = await resolveSymbolFilters(opts.filter, {
        ...(opts.instruments !== undefined ? { instrumentsFile: opts.instruments } : {}),
        env: io.env,
        say: (line) => io.stderr.write(`kiteticker: ${line}\n`),
      });
      exitCode = await runSubscribe(resolveSubscribeConfig({ ...opts, ...(filter ? { filter } : {}) }), io);
    });

  program
    .command('simulate')
    .description('run the Kite-compatible simulator server and print its URL and test credentials')
    .option('-p, --port <port>', 'port to listen on (default: 0 = any free port)')
    .option('--host <host>', 'address to bind (default: 127.0.0.1)')
    .option('--seed <n>', 'market seed: same seed, same market (default: 1)')
    .option('-i, --instruments <file>', 'Kite instruments CSV to use as the universe')
    .option('--universe-size <n>', 'size of the synthetic universe (default: 30000)')
    .option('--rate <ticks>', 'ticks per second per subscribed instrument (default: 1)')
    .option('--chaos <faults>', 'random faults per second: drops, stalls, corrupt frames... (default: 0)')
    .option('--keys <n>', 'API keys accepted: sim_key_1/sim_token_1 ... (default: 3)')
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)')
    .option(
      '--token-expiry <HH:MM>',
      'access tokens expire daily at this IST time (turns the trading clock on)',
    )
    .option('--clock-speed <n>', 'simulated seconds per real second (turns the trading clock on; default: 1)')
    .action(async (opts: RawSimulateOptions) => {
      exitCode = await runSimulate(resolveSimulateConfig(opts), io);
    });

  program
    .command('relay')
    .description('serve Kite clients (any language) from one set of Kite connections: a Kite ticker relay')
    .option(
      '--keys-file <file>',
      'upstream API keys: JSON [{id, apiKey, accessToken}] (default: environment)',
    )
    .option('--url <url>', "upstream ticker URL (default: wss://ws.kite.trade; a simulator's ws://...)")
    .option('-p, --port <port>', 'port to listen on (default: 8765; 0 = any free port, printed)')
    .option('--host <host>', 'address to bind (default: 127.0.0.1)')
    .option('--tls-cert <file>', 'PEM certificate: serve wss:// (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--clients-file <file>',
      'relay clients: JSON [{id, accessToken, maxInstruments?, maxSockets?, modes?, orders?}], watched',
    )
    .option(
      '--linger <seconds>',
      'keep an instrument no client wants subscribed upstream this long (default: 5)',
    )
    .option('-d, --duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)')
    .option(
      '--service',
      'run as a service (needs --clients-file): never exit on a refused token or a failed upstream connection (retry, wait for tokens), JSON log lines on stderr, nothing on stdout',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics (upstream and relay clients) at http://127.0.0.1:PORT/metrics, and /healthz, /readyz (0 = any free port)',
    )
    .option('--metrics-host <host>', 'with --metrics-port: address to listen on (default: 127.0.0.1)')
    .option('--nats <url>', 'also publish every upstream tick to this NATS server (nats://127.0.0.1:4222)')
    .option(
      '--nats-creds <file>',
      'with --nats: NATS credentials file (.creds); or set NATS_USER/NATS_PASSWORD',
    )
    .option(
      '--nats-jetstream',
      'with --nats: keep the last tick per instrument in JetStream (stream KITE_TICKS)',
    )
    .option('-v, --verbose', 'log connections and upstream activity on stderr (warnings are always shown)')
    .action(async (opts: RawRelayOptions) => {
      exitCode = await runRelay(resolveRelayConfig(opts), io);
    });

  registerInstrumentsCommand(program, io, (code) => {
    exitCode = code;
  });
  registerLoginCommand(program, io, (code) => {
    exitCode = code;
  });
  registerHaCommand(program, io, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (and help when asked for).
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
      if (error.code === 'commander.help') return ExitCode.Ok;
      return ExitCode.Usage;
    }
    const code = exitCodeOf(error);
    io.stderr.write(
      `kiteticker: error: ${terminalLine((error as Error).message ?? String(error), secrets)}\n`,
    );
    if (code === ExitCode.Usage) io.stderr.write('(add --help for usage)\n');
    return code;
  }
}
