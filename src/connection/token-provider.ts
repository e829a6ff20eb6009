/**
 * Access-token providers: a function the connection asks for its token (at start, after a 403, and
 * then every `tokenRefreshIntervalMs` while it keeps returning the refused token). One call here is
 * bounded in time and can fail only into a typed result: a provider that throws, hangs or returns junk
 * is a `TokenProviderError`, never an exception in the caller. Tokens never appear in its messages.
 */
import { TokenProviderError } from '../errors.js';
import { boundText } from '../protocol/text-guard.js';
import { redact } from '../redact.js';

/** Returns the current access token (a string, or a promise of one). */
export type AccessTokenProvider = () => string | Promise<string>;

/** What options accept wherever an access token goes: the token itself, or a provider of it. */
export type AccessTokenSource = string | AccessTokenProvider;

export type ProviderResult = { ok: true; token: string } | { ok: false; error: TokenProviderError };

/**
 * Calls `provider` once. Resolves (never rejects) with its token, or with an error when it throws,
 * rejects, returns something that is not a token, or takes longer than `timeoutMs`. `settled` runs once
 * when the provider's own promise settles (possibly after the timeout), so callers can bound how many
 * calls hang at once. `known` are secrets to strip from a provider's error message.
 */
export function callProvider(
  provider: AccessTokenProvider,
  timeoutMs: number,
  known: readonly string[],
  settled: () => void,
): Promise<ProviderResult> {
  let value: string | Promise<string>;
  try {
    value = provider();
  } catch (err) {
    settled();
    return Promise.resolve({ ok: false, error: thrown(err, known) });
  }
  if (typeof value === 'string' || !isThenable(value)) {
    settled();
    return Promise.resolve(check(value));
  }
  return new Promise<ProviderResult>((resolve) => {
    const timer = setTimeout(() => {
      resolve({
        ok: false,
        error: new TokenProviderError(`the access-token provider did not answer within ${timeoutMs} ms`),
      });
    }, timeoutMs);
    timer.unref();
    const done = (r: ProviderResult): void => {
      clearTimeout(timer);
      settled();
      resolve(r); // a no-op after the timeout
    };
    try {
      Promise.resolve(value).then(
        (v) => done(check(v)),
        (err: unknown) => done({ ok: false, error: thrown(err, known) }),
      );
    } catch (err) {
      // A thenable whose `then` getter throws.
      done({ ok: false, error: thrown(err, known) });
    }
  });
}

/** A token must be a non-empty string without whitespace (it goes in a URL). The value is never quoted. */
function check(value: unknown): ProviderResult {
  if (typeof value !== 'string') {
    return {
      ok: false,
      error: new TokenProviderError(
        `the access-token provider returned ${value === null ? 'null' : typeof value}, not a string`,
      ),
    };
  }
  if (value.length === 0) {
    return { ok: false, error: new TokenProviderError('the access-token provider returned an empty string') };
  }
  if (/\s/.test(value) || value.length > 4096) {
    return {
      ok: false,
      error: new TokenProviderError('the access-token provider returned a string that is not a token'),
    };
  }
  return { ok: true, token: value };
}

function thrown(err: unknown, known: readonly string[]): TokenProviderError {
  let message = 'a non-Error value';
  try {
    if (err instanceof Error) message = err.message;
  } catch {
    // A hostile getter: keep the generic text.
  }
  return new TokenProviderError(
    `the access-token provider failed: ${boundText(redact(message, known), 200)}`,
  );
}

function isThenable(v: unknown): v is PromiseLike<string> {
  try {
    return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
  } catch {
    return false;
  }
}
