/**
 * NATS credentials given in a server URL (`nats://user:pass@host:4222`, `nats://token@host`). The NATS
 * client ignores URL userinfo (it connects without credentials and the server refuses it), so the
 * userinfo is taken out of every URL and passed as the `user`/`pass` (or `token`) connect options;
 * options given explicitly win. The URLs handed on carry no credentials, so the client cannot log them.
 */
import type { NodeConnectionOptions } from '@nats-io/transport-node';

export interface UrlCredentials {
  user?: string;
  pass?: string;
  token?: string;
}

export interface SplitServer {
  /** The URL without its userinfo. */
  url: string;
  credentials: UrlCredentials | undefined;
}

/**
 * Splits `scheme://userinfo@host...` at the LAST `@` before the host part, so a password with an
 * unencoded `@` stays whole. `user:pass` gives user and pass; userinfo without `:` is a token (the NATS
 * convention). Percent-encoded characters are decoded.
 */
export function splitServerUrl(server: string): SplitServer {
  const schemeEnd = server.indexOf('://');
  const start = schemeEnd >= 0 ? schemeEnd + 3 : 0;
  const at = server.lastIndexOf('@');
  if (at < start) return { url: server, credentials: undefined };
  const userinfo = server.slice(start, at);
  const url = server.slice(0, start) + server.slice(at + 1);
  if (userinfo === '') return { url, credentials: undefined };
  const colon = userinfo.indexOf(':');
  if (colon < 0) return { url, credentials: { token: decode(userinfo) } };
  return {
    url,
    credentials: { user: decode(userinfo.slice(0, colon)), pass: decode(userinfo.slice(colon + 1)) },
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A stray `%` in a password typed unencoded: use it as typed.
    return text;
  }
}

/**
 * The servers without userinfo and the connect options with the URL's credentials added (the first URL
 * that has some; explicit `user`/`pass`/`token`/`authenticator` options win over the URL).
 */
export function withUrlCredentials(
  servers: string | string[],
  options: Partial<NodeConnectionOptions> = {},
): { servers: string[]; options: Partial<NodeConnectionOptions> } {
  const split = (Array.isArray(servers) ? servers : [servers]).map(splitServerUrl);
  const found = split.find((s) => s.credentials !== undefined)?.credentials;
  const explicit =
    options.user !== undefined ||
    options.pass !== undefined ||
    options.token !== undefined ||
    options.authenticator !== undefined;
  return {
    servers: split.map((s) => s.url),
    options: found === undefined || explicit ? options : { ...options, ...found },
  };
}
