/**
 * One socket's life, as the ticker sees it ("attempt"): opening it with Kite's headers and limits,
 * recording what went wrong (a refused upgrade's status, the first network error), naming why it closed
 * (the reason and typed error a `reconnecting` status and an `error` event carry), and closing it politely.
 *
 * Separate from ticker.ts because it is the part that knows `ws`: the ticker decides what happens next,
 * this file only says what happened. The message listener is not here: it stays in the ticker so that the
 * per-frame path has no extra call.
 */
import WebSocket from 'ws';
import { ConnectionError, ConnectTimeoutError, type KiteTickerError, redact } from '../errors.js';
import { boundText } from '../protocol/text-guard.js';
import type { ProtocolErrorHandler } from '../protocol/types.js';
import type { ResolvedTickerOptions } from './options.js';
import { buildConnectUrl } from './url.js';
import { USER_AGENT } from './version.js';

/** Kite documents no frame cap; 3000 full packets are ~0.5 MB. 64 MiB leaves room without being unbounded. */
const MAX_PAYLOAD_BYTES = 64 * 1024 * 1024;
/** How long close() waits for the server's close frame before cutting the TCP connection. */
const CLOSE_GRACE_MS = 1000;

/** One socket's life: what happened to it decides the next step when it closes. */
export interface Attempt {
  readonly socket: WebSocket;
  opened: boolean;
  openedAt: number;
  /** Status of a refused upgrade. */
  httpStatus: number | undefined;
  /** First error the socket reported. */
  error: (Error & { code?: string }) | undefined;
  /** Set when we cut the socket ourselves. */
  endedBy: 'stale' | 'timeout' | undefined;
  connectTimer: NodeJS.Timeout | undefined;
}

/** Why a socket closed, as the `reconnecting` status (`reason`) and the `error` event tell it. */
export interface CloseCause {
  readonly reason: string;
  readonly error: KiteTickerError;
}

/**
 * Opens a socket to `url` with the token in its query, and records on the attempt a refused upgrade and
 * the first error. The caller adds the open, message and close listeners.
 * @throws whatever `ws` throws for a URL it cannot use (the URL was validated, so not expected).
 */
export function openAttempt(url: string, apiKey: string, accessToken: string): Attempt {
  const socket = new WebSocket(buildConnectUrl(url, apiKey, accessToken), {
    headers: { 'X-Kite-Version': '3', 'User-Agent': USER_AGENT },
    perMessageDeflate: false,
    maxPayload: MAX_PAYLOAD_BYTES,
  });
  // Buffers straight from ws: no copy; the decoder honours byteOffset.
  socket.binaryType = 'nodebuffer';
  const attempt: Attempt = {
    socket,
    opened: false,
    openedAt: 0,
    httpStatus: undefined,
    error: undefined,
    endedBy: undefined,
    connectTimer: undefined,
  };
  socket.on('unexpected-response', (_req, res) => {
    attempt.httpStatus = res.statusCode;
    res.resume();
    // While CONNECTING, terminate() aborts the request and ws then emits 'error' and 'close'.
    socket.terminate();
  });
  // Always listened: an 'error' on a socket nobody listens to would crash the host.
  socket.on('error', (err: Error & { code?: string }) => {
    attempt.error ??= err;
  });
  return attempt;
}

export function stopConnectTimer(attempt: Attempt): void {
  clearTimeout(attempt.connectTimer);
  attempt.connectTimer = undefined;
}

/** Cuts an attempt we no longer want; its late events find it abandoned. */
export function discardAttempt(attempt: Attempt): void {
  stopConnectTimer(attempt);
  attempt.socket.terminate();
}

/** True when commands can be written to the attempt's socket now. */
export function isWritable(attempt: Attempt | undefined): attempt is Attempt {
  return attempt?.opened === true && attempt.socket.readyState === WebSocket.OPEN;
}

/**
 * Names a close that was not an auth refusal (the caller handles 401/403 first): our own cut for
 * staleness or a connect timeout, a refused upgrade, a drop after open, or a failure to connect.
 * `secrets` are removed from any error text quoted.
 */
export function closeCause(
  attempt: Attempt,
  code: number,
  opts: Pick<ResolvedTickerOptions, 'livenessTimeoutMs' | 'connectTimeoutMs'>,
  secrets: readonly string[],
): CloseCause {
  const http = attempt.httpStatus;
  if (attempt.endedBy === 'stale') {
    return {
      reason: 'stale',
      error: new ConnectionError(`no frame for ${opts.livenessTimeoutMs} ms: the connection was stale`),
    };
  }
  if (attempt.endedBy === 'timeout') {
    return {
      reason: 'connect_timeout',
      error: new ConnectTimeoutError(`connection not established within ${opts.connectTimeoutMs} ms`),
    };
  }
  if (http !== undefined) {
    return {
      reason: `http_${http}`,
      error: new ConnectionError(`upgrade refused with HTTP ${http}`, { status: http }),
    };
  }
  if (attempt.opened) {
    return {
      reason: `closed_${code}`,
      error: connectionError(`connection closed (code ${code})`, attempt.error, secrets),
    };
  }
  return {
    reason: attempt.error?.code ? `network_${attempt.error.code}` : 'network',
    error: connectionError('connection failed', attempt.error, secrets),
  };
}

/** A ConnectionError whose message carries the cause's code and text with every secret removed. */
export function connectionError(what: string, cause: unknown, secrets: readonly string[]): ConnectionError {
  const err = cause as (Error & { code?: string }) | undefined;
  const detail = err?.message ? `: ${redact(err.message, secrets)}` : '';
  const code = err?.code && !detail.includes(err.code) ? ` (${err.code})` : '';
  // The raw error is not attached as `cause`: ws errors can quote the URL, token included.
  return new ConnectionError(`${what}${detail}${code}`);
}

/**
 * Reports (never rethrows) an exception thrown while a frame was being handled: counted as a protocol
 * error and logged, with `secrets` removed. The last line between a server frame and an uncaught
 * exception in ws's callback.
 */
export function reportHandlerError(
  error: unknown,
  isBinary: boolean,
  secrets: readonly string[],
  onProtocolError: ProtocolErrorHandler,
  opts: Pick<ResolvedTickerOptions, 'logger' | 'apiKey'>,
): void {
  let detail = `handling a ${isBinary ? 'binary' : 'text'} frame threw`;
  try {
    const what = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
    // Redacted before it is cut, so that no cut can leave part of a token behind.
    detail = boundText(redact(`${detail} ${what}`, secrets), 300);
  } catch {
    // An error whose name or message cannot be read: the bare detail says enough.
  }
  try {
    onProtocolError({ kind: 'handler_error', detail });
  } catch {
    // A protocolError listener that throws too: the count is kept, and the log line below.
  }
  try {
    opts.logger.error({ apiKey: opts.apiKey, detail }, 'kite ticker: a frame handler threw; frame skipped');
  } catch {
    // Nothing more can be done from inside the socket callback.
  }
}

/** Polite close (close frame), cut after a grace period; resolves once the socket is closed. */
export function closeSocket(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    socket.once('close', () => {
      clearTimeout(grace);
      resolve();
    });
    if (socket.readyState === WebSocket.OPEN) {
      socket.close(1000, 'client close');
      grace = setTimeout(() => socket.terminate(), CLOSE_GRACE_MS);
    } else {
      socket.terminate();
    }
  });
}
