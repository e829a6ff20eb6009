/**
 * The upgrade URL. Kite authenticates with two query parameters and nothing else, so the token ends
 * up in the URL: this file is the only place that puts it there, and `describeUrl` is what logs see.
 */

/** `url` with `api_key` and `access_token` set, keeping any path and other query parameters. */
export function buildConnectUrl(url: string, apiKey: string, accessToken: string): string {
  const u = new URL(url);
  u.searchParams.set('api_key', apiKey);
  u.searchParams.set('access_token', accessToken);
  return u.toString();
}

/** The URL as it may appear in a log line: no query string at all. */
export function describeUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
