/**
 * The one redaction routine of the library and the CLI: everything that may reach a log line, an error
 * message, an event or the terminal and might carry a secret (an access token, an API secret, a request
 * token, a URL password) goes through `redact`.
 *
 * Three passes, each on whole values:
 * 1. URL userinfo (`scheme://user:pass@host`) becomes `scheme://***@host`. The userinfo ends at the LAST
 *    `@` of the URL, so an unencoded `@` inside a password cannot leave its tail behind.
 * 2. Values of known secret fields and URL parameters (`access_token=...`, `"accessToken":"..."`,
 *    `pass: '...'`) become `***`, whatever their length.
 * 3. Each listed secret is replaced wherever it occurs, but only when it is at least
 *    `MIN_SUBSTRING_SECRET` characters long: a placeholder such as `t` would otherwise turn every `t` of
 *    every line into `***`. Shorter secrets are still caught by passes 1 and 2.
 */

/** Secrets shorter than this are redacted only as whole field/parameter values, never as substrings. */
export const MIN_SUBSTRING_SECRET = 8;

const MASK = '***';

/**
 * `scheme://` then anything up to the last `@` before whitespace or a quote. Greedy on purpose: if a
 * path or query also holds an `@`, more is masked than needed, never less.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s"'`<>]*@/gi;

/** Names whose values are secret, as URL parameters or object/JSON fields. */
const SECRET_NAMES =
  'access_token|accesstoken|request_token|requesttoken|api_secret|apisecret|password|pass|auth_token|token';

/**
 * `name=value` in a query string or form. The value ends at `&`, `#`, whitespace, a quote, or a comma
 * followed by whitespace or the end (`...?access_token=x, 1 key` keeps its `, 1 key`); a comma followed
 * by anything else may be part of the value (unencoded in a query), so it is masked with it.
 */
const SECRET_PARAM = new RegExp(`\\b(${SECRET_NAMES})=(?:[^&#,\\s"'\`<>]|,(?!\\s|$))*`, 'gi');

/** `"name": "value"`, `name: 'value'`, `name="value"` (JSON, util.inspect, logfmt). */
const SECRET_FIELD = new RegExp(
  `(["']?)\\b(${SECRET_NAMES})\\1(\\s*[:=]\\s*)(["'\`])(?:\\\\.|(?!\\4)[^\\\\])*\\4`,
  'gi',
);

/**
 * Returns `text` with every secret removed (see the file comment). `secrets` are the values known to be
 * secret in this context (access tokens, NATS passwords); undefined and empty entries are ignored.
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = typeof text === 'string' ? text : String(text);
  // Longest first, so a secret that contains another is removed whole.
  const long = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SUBSTRING_SECRET)
    .sort((a, b) => b.length - a.length);
  for (const secret of long) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret && out.includes(encoded)) out = out.split(encoded).join(MASK);
  }
  out = out.replace(URL_USERINFO, `$1${MASK}@`);
  out = out.replace(SECRET_PARAM, `$1=${MASK}`);
  out = out.replace(SECRET_FIELD, `$1$2$1$3$4${MASK}$4`);
  return out;
}

/** `nats://user:secret@host:4222` -> `nats://***@host:4222` (the URL pass of `redact` alone). */
export function redactUrl(url: string): string {
  return url.replace(URL_USERINFO, `$1${MASK}@`);
}
