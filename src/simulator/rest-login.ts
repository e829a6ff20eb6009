/**
 * The simulator's REST login surface, on the ticker's own port, in Kite Connect v3's shapes
 * (kite-protocol.md section 10): `GET /connect/login` (the browser login, answered with the redirect),
 * `POST /session/token` (request token + checksum -> access token), `DELETE /session/token` (logout) and
 * `GET /user/profile`. Envelopes are `{"status":"success","data":...}` and
 * `{"status":"error","error_type":...,"message":...}`. A minted token is set on the simulator at once, so
 * the ticker accepts it on the next upgrade. With a trading clock, each key's token dies at the next
 * expiry moment after it was set: its sockets close and its upgrades get 403 until the next login.
 * Nothing here logs or echoes a token, a secret or a request token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { checkVersion, methodNotAllowed, readBody, sendError, sendJson } from './rest-http.js';
import { formatIst, type TradingClock } from './trading-clock.js';

/** One Kite Connect "app" of the simulator: what `POST /session/token` and the login redirect need. */
export interface SimulatorApp {
  apiSecret: string;
  /** Where `/connect/login` redirects. Default `http://127.0.0.1:5010/` (the `kiteticker login` default). */
  redirectUrl?: string;
  /** Default `SIM<n>`. */
  userId?: string;
  /** Default 'Simulator User'. */
  userName?: string;
}

/** The port `kiteticker login` listens on by default, and the built-in apps redirect to. */
export const DEFAULT_LOGIN_PORT = 5010;
const DEFAULT_REDIRECT = `http://127.0.0.1:${DEFAULT_LOGIN_PORT}/`;

/** Test credentials of the built-in keys (they unlock nothing but this simulator). */
export const DEFAULT_SIMULATOR_APPS: Readonly<Record<string, Readonly<SimulatorApp>>> = Object.freeze({
  sim_key_1: Object.freeze({ apiSecret: 'sim_secret_1', redirectUrl: DEFAULT_REDIRECT, userId: 'SIM001' }),
  sim_key_2: Object.freeze({ apiSecret: 'sim_secret_2', redirectUrl: DEFAULT_REDIRECT, userId: 'SIM002' }),
  sim_key_3: Object.freeze({ apiSecret: 'sim_secret_3', redirectUrl: DEFAULT_REDIRECT, userId: 'SIM003' }),
});

/** What the endpoint needs of the simulator: its ticker credentials. */
export interface LoginHost {
  currentToken(apiKey: string): string | undefined;
  isRevoked(apiKey: string): boolean;
  setAccessToken(apiKey: string, accessToken: string): void;
  revoke(apiKey: string, detail: string): void;
}

/** Largest form body accepted; a session form is ~150 bytes. */
export const MAX_FORM_BYTES = 8 * 1024;
/** Pending (not yet exchanged) request tokens kept; past this the oldest is dropped. */
const MAX_REQUEST_TOKENS = 1024;
/** Longest value of one field: Kite's keys and tokens are 32 characters, checksums 64. */
const MAX_FIELD_CHARS = 256;

interface App {
  apiSecret: string;
  redirectUrl: URL;
  userId: string;
  userName: string;
}

interface PendingRequest {
  apiKey: string;
  /** Real epoch ms after which the request token is dead. */
  deadline: number;
}

export class LoginEndpoint {
  readonly #host: LoginHost;
  readonly #clock: TradingClock;
  readonly #expires: boolean;
  readonly #log: Logger;
  readonly #apps = new Map<string, App>();
  readonly #requests = new Map<string, PendingRequest>();
  /** api_key -> simulated epoch ms at which its current token dies (only with expiry on). */
  readonly #expiry = new Map<string, number>();
  /** api_key -> simulated epoch ms of its last login (for the profile's login_time). */
  readonly #loginAt = new Map<string, number>();

  /**
   * @param expires whether tokens die at the clock's daily expiry (off: tokens live until revoked).
   * @throws InvalidArgumentError for a malformed app.
   */
  constructor(
    host: LoginHost,
    clock: TradingClock,
    expires: boolean,
    apps: Readonly<Record<string, Readonly<SimulatorApp>>>,
    initialKeys: Iterable<string>,
    log: Logger,
  ) {
    this.#host = host;
    this.#clock = clock;
    this.#expires = expires;
    this.#log = log;
    let n = 0;
    for (const [apiKey, app] of Object.entries(apps)) {
      n++;
      this.#apps.set(apiKey, checkApp(apiKey, app, n));
    }
    for (const k of initialKeys) this.tokenSet(k);
  }

  /** The simulator set a token for `apiKey`: it lives until the next expiry moment. */
  tokenSet(apiKey: string): void {
    const now = this.#clock.now();
    this.#loginAt.set(apiKey, now);
    if (this.#expires) this.#expiry.set(apiKey, this.#clock.nextExpiry(now));
  }

  /** Starts the daily expiry (no-op without it). */
  start(): void {
    if (this.#expires) this.#clock.start(() => this.expireDue());
  }

  stop(): void {
    this.#clock.stop();
  }

  /** Revokes every key whose token is past its expiry (its sockets close, its upgrades get 403). */
  expireDue(): void {
    if (!this.#expires) return;
    const now = this.#clock.now();
    for (const [apiKey, at] of this.#expiry) {
      if (at > now) continue;
      this.#expiry.delete(apiKey);
      if (!this.#host.isRevoked(apiKey)) this.#host.revoke(apiKey, 'access token expired');
    }
  }

  /** Answers `req` if it is a login/session/profile request and returns true; otherwise touches nothing. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const raw = req.url ?? '';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    if (path !== '/connect/login' && path !== '/session/token' && path !== '/user/profile') return false;
    res.setHeader('X-Kite-Version', '3');
    let url: URL;
    try {
      url = new URL(raw, 'http://simulator.invalid');
    } catch {
      sendError(res, 400, 'InputException', 'malformed request URL');
      return true;
    }
    try {
      if (path === '/connect/login') {
        if (req.method !== 'GET') methodNotAllowed(res, 'GET');
        else this.#login(url, res);
      } else if (path === '/user/profile') {
        if (req.method !== 'GET') methodNotAllowed(res, 'GET');
        else if (checkVersion(req, res)) this.#profile(req, res);
      } else if (req.method === 'POST') {
        if (checkVersion(req, res)) this.#exchange(req, res);
      } else if (req.method === 'DELETE') {
        if (checkVersion(req, res)) this.#logout(url, res);
      } else methodNotAllowed(res, 'POST, DELETE');
    } catch (err) {
      // Nothing a client sends may escape the 'request' callback.
      this.#log.warn({ err: (err as Error).message }, 'login request failed');
      if (!res.headersSent) sendError(res, 500, 'GeneralException', 'internal error');
      else res.destroy();
    }
    return true;
  }

  // ---------------------------------------------------------------- endpoints

  #login(url: URL, res: ServerResponse): void {
    if (url.searchParams.get('v') !== '3') {
      sendError(res, 400, 'InputException', 'the login URL needs v=3');
      return;
    }
    const apiKey = url.searchParams.get('api_key') ?? '';
    const app = this.#apps.get(apiKey);
    if (!app) {
      sendError(res, 400, 'InputException', 'Invalid `api_key`.');
      return;
    }
    const requestToken = newToken();
    if (this.#requests.size >= MAX_REQUEST_TOKENS) {
      const oldest = this.#requests.keys().next().value;
      if (oldest !== undefined) this.#requests.delete(oldest);
    }
    this.#requests.set(requestToken, { apiKey, deadline: Date.now() + this.#clock.requestTokenTtlMs });
    const to = new URL(app.redirectUrl);
    to.searchParams.set('request_token', requestToken);
    to.searchParams.set('action', 'login');
    to.searchParams.set('status', 'success');
    this.#log.info({ apiKey }, 'login: redirecting with a request token');
    res.writeHead(302, { Location: to.toString(), 'Content-Length': 0 });
    res.end();
  }

  #exchange(req: IncomingMessage, res: ServerResponse): void {
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      req.resume();
      sendError(res, 400, 'InputException', 'expected a form (application/x-www-form-urlencoded)');
      return;
    }
    readBody(req, res, MAX_FORM_BYTES, (body) => {
      const form = new URLSearchParams(body);
      const fields: Record<string, string> = {};
      for (const name of ['api_key', 'request_token', 'checksum']) {
        const values = form.getAll(name);
        const v = values[0];
        if (values.length !== 1 || !v || v.length > MAX_FIELD_CHARS) {
          sendError(res, 400, 'InputException', `\`${name}\` is missing or invalid.`);
          return;
        }
        fields[name] = v;
      }
      const apiKey = fields.api_key!;
      const app = this.#apps.get(apiKey);
      if (!app) {
        sendError(res, 403, 'InputException', 'Invalid `api_key`.');
        return;
      }
      const requestToken = fields.request_token!;
      const pending = this.#requests.get(requestToken);
      if (pending && pending.deadline <= Date.now()) this.#requests.delete(requestToken);
      if (!pending || pending.apiKey !== apiKey || pending.deadline <= Date.now()) {
        sendError(res, 403, 'TokenException', 'Token is invalid or has expired.');
        return;
      }
      const expected = createHash('sha256')
        .update(apiKey + requestToken + app.apiSecret)
        .digest();
      const hex = fields.checksum!;
      const given = Buffer.from(/^[0-9a-fA-F]{64}$/.test(hex) ? hex : '', 'hex');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        sendError(res, 403, 'TokenException', 'Invalid `checksum`.');
        return;
      }
      this.#requests.delete(requestToken); // single use
      const accessToken = newToken();
      this.#host.setAccessToken(apiKey, accessToken);
      this.#log.info({ apiKey }, 'login: access token issued');
      sendJson(res, 200, { status: 'success', data: this.#session(apiKey, app, accessToken) });
    });
  }

  #logout(url: URL, res: ServerResponse): void {
    const apiKey = url.searchParams.get('api_key') ?? '';
    const token = url.searchParams.get('access_token') ?? '';
    if (!apiKey || !token) {
      sendError(res, 400, 'InputException', '`api_key` and `access_token` are required.');
      return;
    }
    if (!this.#valid(apiKey, token)) {
      sendError(res, 403, 'TokenException', 'Incorrect `api_key` or `access_token`.');
      return;
    }
    this.#expiry.delete(apiKey);
    this.#host.revoke(apiKey, 'logged out');
    sendJson(res, 200, { status: 'success', data: true });
  }

  #profile(req: IncomingMessage, res: ServerResponse): void {
    const auth = req.headers.authorization;
    const m = typeof auth === 'string' ? /^token ([^:\s]{1,256}):(\S{1,256})$/.exec(auth) : null;
    const apiKey = m?.[1] ?? '';
    const app = this.#apps.get(apiKey);
    if (!m || !this.#valid(apiKey, m[2]!)) {
      sendError(res, 403, 'TokenException', 'Incorrect `api_key` or `access_token`.');
      return;
    }
    sendJson(res, 200, { status: 'success', data: profile(apiKey, app) });
  }

  // ---------------------------------------------------------------- helpers

  /** The token is the key's current one, not revoked, not past its expiry. */
  #valid(apiKey: string, token: string): boolean {
    this.expireDue();
    const current = this.#host.currentToken(apiKey);
    if (current === undefined || this.#host.isRevoked(apiKey)) return false;
    const a = Buffer.from(current);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #session(apiKey: string, app: App, accessToken: string): Record<string, unknown> {
    return {
      ...profile(apiKey, app),
      api_key: apiKey,
      access_token: accessToken,
      public_token: newToken(),
      refresh_token: '',
      enctoken: '',
      login_time: formatIst(this.#loginAt.get(apiKey) ?? this.#clock.now()),
    };
  }
}

function profile(apiKey: string, app: App | undefined): Record<string, unknown> {
  const userId = app?.userId ?? apiKey;
  const userName = app?.userName ?? 'Simulator User';
  return {
    user_id: userId,
    user_type: 'individual',
    email: `${userId.toLowerCase()}@simulator.invalid`,
    user_name: userName,
    user_shortname: userName.split(' ')[0],
    broker: 'ZERODHA',
    exchanges: ['NSE', 'BSE', 'NFO', 'BFO', 'CDS', 'BCD', 'MCX'],
    products: ['CNC', 'NRML', 'MIS', 'BO', 'CO'],
    order_types: ['MARKET', 'LIMIT', 'SL', 'SL-M'],
    avatar_url: null,
    meta: { demat_consent: 'physical' },
  };
}

function checkApp(apiKey: string, app: Readonly<SimulatorApp>, n: number): App {
  if (typeof app !== 'object' || app === null) {
    throw new InvalidArgumentError(`apps.${apiKey}: expected an object with apiSecret`);
  }
  if (typeof app.apiSecret !== 'string' || app.apiSecret === '' || /\s/.test(app.apiSecret)) {
    throw new InvalidArgumentError(
      `apps.${apiKey}.apiSecret: expected a non-empty string without whitespace`,
    );
  }
  let redirectUrl: URL;
  try {
    redirectUrl = new URL(app.redirectUrl ?? DEFAULT_REDIRECT);
  } catch {
    throw new InvalidArgumentError(`apps.${apiKey}.redirectUrl: expected an http(s) URL`);
  }
  if (redirectUrl.protocol !== 'http:' && redirectUrl.protocol !== 'https:') {
    throw new InvalidArgumentError(`apps.${apiKey}.redirectUrl: expected an http(s) URL`);
  }
  const userId = app.userId ?? `SIM${String(n).padStart(3, '0')}`;
  const userName = app.userName ?? 'Simulator User';
  if (typeof userId !== 'string' || typeof userName !== 'string') {
    throw new InvalidArgumentError(`apps.${apiKey}: userId and userName must be strings`);
  }
  return { apiSecret: app.apiSecret, redirectUrl, userId, userName };
}

/** 32 random characters, like Kite's tokens. */
function newToken(): string {
  return randomBytes(16).toString('hex');
}
