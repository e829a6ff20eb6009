/**
 * What a CLI user should do when Kite refuses an access token (HTTP 401/403). The library's own
 * message speaks to programmers ("call updateAccessToken()"); on the command line the fix is a new
 * token in the variable or file it came from.
 */
import { ErrorCode, KiteTickerError } from '../errors.js';

export function isAuthFailure(error: unknown): boolean {
  return error instanceof KiteTickerError && error.code === ErrorCode.AuthFailed;
}

/**
 * One line (without the "kiteticker: " prefix) naming the key by its id, never its token.
 * @param tokenSource where that key's token was given (see tokenSourceOf)
 */
export function authFailureHint(
  apiKeyId: string | undefined,
  httpStatus: number | undefined,
  tokenSource: string,
  watched = false,
): string {
  const status = httpStatus === undefined ? '' : ` (HTTP ${httpStatus})`;
  // A watched keys file needs no restart: the running command applies the new token itself.
  const then = watched
    ? 'the running command applies it (kiteticker login writes it there)'
    : 'then run the command again';
  return `${apiKeyId ?? 'a key'}: Kite refused the access token${status}: it is invalid or has expired (Kite access tokens expire every morning). Log in again to get a new one and put it in ${tokenSource}, ${then}`;
}
