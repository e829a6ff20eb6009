/**
 * Kite Connect's token exchange (`POST /session/token`, kite-protocol.md section 10): the checksum is the
 * SHA-256 hex of api_key + request_token + api_secret. The answer is read with a byte bound, and the
 * errors name Kite's error type and message, never the secret, the request token or the access token.
 */
import { createHash } from 'node:crypto';
import { LoginError } from '../errors.js';

/** Longest time for the token exchange itself. */
const EXCHANGE_TIMEOUT_MS = 30_000;
/** Largest session response read (a real one is ~1 KB). */
const MAX_RESPONSE_BYTES = 256 * 1024;

/** POST /session/token; returns the session's token, user id and login time. Throws plain Errors whose messages carry no secret. */
export async function exchangeRequestToken(
  config: { apiUrl: string; apiKey: string; apiSecret: string },
  requestToken: string,
): Promise<{ accessToken: string; userId: string; loginTime: string }> {
  const checksum = createHash('sha256')
    .update(config.apiKey + requestToken + config.apiSecret)
    .digest('hex');
  let res: Response;
  try {
    res = await fetch(`${config.apiUrl}/session/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kite-Version': '3' },
      body: new URLSearchParams({ api_key: config.apiKey, request_token: requestToken, checksum }).toString(),
      redirect: 'error',
      signal: AbortSignal.timeout(EXCHANGE_TIMEOUT_MS),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const why = cause?.code ?? ((err as Error).name === 'TimeoutError' ? 'timed out' : 'network error');
    throw new LoginError(`cannot reach ${config.apiUrl} for the token exchange (${why})`);
  }
  const text = await readBounded(res);
  let body: { status?: unknown; data?: Record<string, unknown>; error_type?: unknown; message?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new LoginError(`the token exchange answered HTTP ${res.status} without a JSON body`);
  }
  if (!res.ok || body?.status !== 'success') {
    const type = typeof body?.error_type === 'string' ? body.error_type : 'error';
    const message = typeof body?.message === 'string' ? body.message.slice(0, 300) : '';
    const hint =
      type === 'TokenException'
        ? ' (a wrong api secret, or a request token that was used or expired: log in again)'
        : '';
    throw new LoginError(`login refused: HTTP ${res.status} ${type}: ${message}${hint}`);
  }
  const data = body.data ?? {};
  const accessToken = data.access_token;
  if (
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    /\s/.test(accessToken) ||
    accessToken.length > 4096
  ) {
    throw new LoginError('the token exchange answered without a usable access_token');
  }
  return {
    accessToken,
    userId: typeof data.user_id === 'string' ? data.user_id.slice(0, 64) : '(unknown user)',
    loginTime: typeof data.login_time === 'string' ? data.login_time : '',
  };
}

async function readBounded(res: Response): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > MAX_RESPONSE_BYTES)
      throw new LoginError(`the token exchange answered more than ${MAX_RESPONSE_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
