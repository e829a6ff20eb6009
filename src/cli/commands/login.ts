/**
 * `kiteticker login`: the daily Kite Connect login, ending with the new access token in a keys file.
 * Without --request-token it prints the login URL, then takes the request token from whichever comes
 * first: the browser's redirect to http://127.0.0.1:PORT/ or the redirected URL (or the bare token)
 * pasted on stdin. It exchanges the token at `--api-url` (`POST /session/token`, checksum = SHA-256 of
 * api_key + request_token + api_secret) and writes the id's entry atomically (keys-file-update.ts).
 * The access token, the api secret and the request token are never printed: only the user id and
 * when the token expires. Any failure leaves the keys file as it was; a keys file that could not take the
 * new token is refused before the exchange, while the single-use request token is still unspent.
 */
import { createServer, type Server } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import { LoginError } from '../../errors.js';
import { DEFAULT_KITE_API_URL } from '../../instruments/index.js';
import { redact } from '../../redact.js';
import { DEFAULT_LOGIN_PORT } from '../../simulator/rest-login.js';
import { formatIst, parseIst, TradingClock } from '../../simulator/trading-clock.js';
import { ExitCode, exitCodeOf, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { existingIdOf, readKeysFileEntries, updateKeysFile } from '../keys-file-update.js';
import { exchangeRequestToken } from '../kite-session.js';
import { parsePort, parseSeconds } from '../parse.js';

export interface RawLoginOptions {
  apiKey?: string;
  apiSecret?: string;
  requestToken?: string;
  keysFile?: string;
  id?: string;
  apiUrl?: string;
  port?: string;
  timeout?: string;
}

export interface LoginConfig {
  apiKey: string;
  apiSecret: string;
  requestToken: string | undefined;
  keysFile: string;
  id: string | undefined;
  apiUrl: string;
  port: number;
  timeoutMs: number;
}

/** Kite's browser login page (the simulator serves its own at `<api-url>/connect/login`). */
export const KITE_LOGIN_URL = 'https://kite.zerodha.com/connect/login';
/** Request tokens are short-lived: nobody waits longer than this by default. */
const DEFAULT_TIMEOUT_MS = 300_000;
/** Longest pasted line considered. */
const MAX_LINE = 4096;

export function defaultKeysFile(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'kiteticker', 'keys.json');
}

export function resolveLoginConfig(raw: RawLoginOptions, env: NodeJS.ProcessEnv): LoginConfig {
  const apiKey = raw.apiKey?.trim();
  if (!apiKey || /\s/.test(apiKey)) throw new UsageError('--api-key is required');
  const apiSecret = (raw.apiSecret ?? env.KITE_API_SECRET ?? '').trim();
  if (!apiSecret) throw new UsageError('the api secret is required: --api-secret SECRET or KITE_API_SECRET');
  const requestToken = raw.requestToken === undefined ? undefined : requestTokenOf(raw.requestToken);
  if (raw.requestToken !== undefined && requestToken === undefined) {
    throw new UsageError('--request-token: expected the request token or the redirected URL');
  }
  const apiUrl = (raw.apiUrl ?? DEFAULT_KITE_API_URL).replace(/\/+$/, '');
  let parsed: URL;
  try {
    parsed = new URL(apiUrl);
  } catch {
    throw new UsageError('--api-url: expected an http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError('--api-url: expected an http(s) URL');
  }
  const id = raw.id?.trim();
  if (raw.id !== undefined && !id) throw new UsageError('--id: expected a non-empty id');
  return {
    apiKey,
    apiSecret,
    requestToken,
    keysFile: raw.keysFile ?? defaultKeysFile(env),
    id,
    apiUrl,
    port: raw.port === undefined ? DEFAULT_LOGIN_PORT : parsePort('--port', raw.port),
    timeoutMs: raw.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseSeconds('--timeout', raw.timeout),
  };
}

/** The login page: Kite's for Kite's API, else the API root's own (the simulator's). */
export function loginUrl(apiUrl: string, apiKey: string): string {
  const root = apiUrl === DEFAULT_KITE_API_URL ? KITE_LOGIN_URL : `${apiUrl}/connect/login`;
  return `${root}?v=3&api_key=${encodeURIComponent(apiKey)}`;
}

/** A bare request token, or the one in a redirected URL; undefined for anything else. */
export function requestTokenOf(text: string): string | undefined {
  const t = text.trim();
  if (/^[A-Za-z0-9]{6,128}$/.test(t)) return t;
  const at = t.indexOf('request_token=');
  if (at < 0) return undefined;
  const params = new URLSearchParams(
    t.slice(t.indexOf('?') >= 0 && t.indexOf('?') < at ? t.indexOf('?') + 1 : at),
  );
  if (params.get('status') !== null && params.get('status') !== 'success') return undefined;
  const token = params.get('request_token') ?? '';
  return /^[A-Za-z0-9]{6,128}$/.test(token) ? token : undefined;
}

export async function runLogin(
  config: LoginConfig,
  io: CliIo,
  stdin: Readable = process.stdin,
): Promise<number> {
  const secrets = (): string[] => [config.apiSecret, ...(requestToken ? [requestToken] : [])];
  const fail = (message: string): number => {
    io.stderr.write(`kiteticker: error: ${redact(message, secrets())}\n`);
    return ExitCode.Runtime;
  };
  let requestToken = config.requestToken;
  // Before the exchange: a keys file that cannot take the new token is refused while the request token
  // is still unused, instead of after it, when the token just minted would be lost with it.
  try {
    await readKeysFileEntries(config.keysFile, config.id, config.apiKey);
  } catch (err) {
    io.stderr.write(`kiteticker: error: ${redact((err as Error).message, secrets())}\n`);
    return exitCodeOf(err) === ExitCode.Usage ? ExitCode.Usage : ExitCode.Runtime;
  }
  if (requestToken === undefined) {
    try {
      requestToken = await waitForRequestToken(config, io, stdin);
    } catch (err) {
      return fail((err as Error).message);
    }
  }

  let session: { accessToken: string; userId: string; loginTime: string };
  try {
    session = await exchangeRequestToken(config, requestToken);
  } catch (err) {
    return fail((err as Error).message);
  }
  const id = config.id ?? (await existingIdOf(config.keysFile, config.apiKey)) ?? 'main';
  try {
    await updateKeysFile(config.keysFile, id, config.apiKey, session.accessToken);
  } catch (err) {
    // A file-system error is named by its errno code; our own errors (which carry an ERR_* code too)
    // by their message, which says what is wrong with the file.
    const code = err instanceof UsageError ? undefined : (err as NodeJS.ErrnoException).code;
    const message = code ? `cannot write ${config.keysFile} (${code})` : (err as Error).message;
    io.stderr.write(`kiteticker: error: ${redact(message, [...secrets(), session.accessToken])}\n`);
    return exitCodeOf(err) === ExitCode.Usage ? ExitCode.Usage : ExitCode.Runtime;
  }
  const loginAt = parseIst(session.loginTime);
  const expires = new TradingClock().nextExpiry(Number.isFinite(loginAt) ? loginAt : Date.now());
  io.stdout.write(
    `logged in as ${session.userId} (api_key ${config.apiKey}); access token saved in ${config.keysFile} as id ${JSON.stringify(id)}\n` +
      `it expires at ${formatIst(expires).slice(0, 16)} IST (${new Date(expires).toISOString()})\n`,
  );
  return ExitCode.Ok;
}

/** Prints the login URL, then resolves with the first request token from the redirect or stdin. */
function waitForRequestToken(config: LoginConfig, io: CliIo, stdin: Readable): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let server: Server | undefined;
    let done = false;
    const rl = createInterface({ input: stdin, crlfDelay: Number.POSITIVE_INFINITY });
    const timer = setTimeout(
      () => finish(new LoginError(`no request token within ${Math.round(config.timeoutMs / 1000)} s`)),
      config.timeoutMs,
    );
    const finish = (result: string | Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      rl.close();
      // A pipe left open would hold the process until its writer closes it.
      if ((stdin as { isTTY?: boolean }).isTTY) stdin.pause();
      else stdin.destroy();
      server?.close();
      server?.closeAllConnections();
      if (typeof result === 'string') resolve(result);
      else reject(result);
    };

    rl.on('line', (line) => {
      const token = requestTokenOf(line.slice(0, MAX_LINE));
      if (token) finish(token);
      else if (line.trim() !== '') {
        io.stderr.write('kiteticker: that is not a request token or a redirected URL; paste it again\n');
      }
    });
    rl.on('error', () => {});

    server = createServer((req, res) => {
      const token = requestTokenOf(req.url ?? '');
      res.writeHead(token ? 200 : 400, { 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
      res.end(
        token
          ? 'kiteticker: login received; you can close this tab.\n'
          : 'kiteticker: no request_token in this request (or the login did not succeed).\n',
      );
      if (token) finish(token);
    });
    server.on('clientError', (_err, socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => {
      // The redirect cannot be caught; pasting still works.
      io.stderr.write(
        `kiteticker: cannot listen on 127.0.0.1:${config.port} (${err.code ?? 'error'}); paste the redirected URL instead\n`,
      );
      server = undefined;
    });
    server.listen(config.port, '127.0.0.1', () => {
      const address = server?.address();
      const port = address && typeof address === 'object' ? address.port : config.port;
      io.stderr.write(`kiteticker: waiting for the redirect on http://127.0.0.1:${port}/\n`);
    });
    io.stdout.write(
      `Open this URL in a browser and log in:\n  ${loginUrl(config.apiUrl, config.apiKey)}\n` +
        'Then paste the redirected URL (or the request token) here, or let the browser redirect to this machine.\n',
    );
  });
}

export function registerLoginCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  program
    .command('login')
    .description("log in to Kite Connect and save the day's access token in a keys file (never printed)")
    .requiredOption('--api-key <key>', 'the Kite Connect API key')
    .option('--api-secret <secret>', 'the API secret (better: the KITE_API_SECRET variable)')
    .option('--request-token <token>', 'the request token (or redirected URL) if you already have it')
    .option('--keys-file <file>', 'keys file to write (default: ~/.config/kiteticker/keys.json)')
    .option('--id <id>', "the key's id in the keys file (default: its existing entry, else main)")
    .option('--api-url <url>', `Kite REST root (default: ${DEFAULT_KITE_API_URL}; or a simulator's http URL)`)
    .option('--port <port>', `port for the login redirect on 127.0.0.1 (default: ${DEFAULT_LOGIN_PORT})`)
    .option('--timeout <seconds>', 'give up waiting for the request token after this long (default: 300)')
    .action(async (opts: RawLoginOptions) => {
      setExit(await runLogin(resolveLoginConfig(opts, io.env), io));
    });
}
