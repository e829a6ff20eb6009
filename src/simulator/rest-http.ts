/**
 * The HTTP side of the simulator's REST endpoints in Kite's conventions: JSON envelopes
 * (`{"status":"error","error_type":...,"message":...}`), the `X-Kite-Version: 3` check, and request
 * bodies read with a byte bound (a larger body is answered 413 and its socket closed).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ErrorType = 'TokenException' | 'InputException' | 'GeneralException';

/** Kite sends `X-Kite-Version: 3` on every REST call; anything else is answered with InputException. */
export function checkVersion(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.headers['x-kite-version'] === '3') return true;
  req.resume();
  sendError(res, 400, 'InputException', 'the X-Kite-Version header must be 3');
  return false;
}

/** Reads at most `limit` bytes of body, then calls `done`; a larger body gets 413 and a closed socket. */
export function readBody(
  req: IncomingMessage,
  res: ServerResponse,
  limit: number,
  done: (body: string) => void,
): void {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    tooLarge(req, res, limit);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let over = false;
  req.on('data', (chunk: Buffer) => {
    if (over) return;
    size += chunk.length;
    if (size > limit) {
      over = true;
      chunks.length = 0;
      tooLarge(req, res, limit);
      return;
    }
    chunks.push(chunk);
  });
  req.on('error', () => req.socket.destroy());
  req.on('end', () => {
    if (over) return;
    try {
      done(Buffer.concat(chunks).toString('utf8'));
    } catch {
      if (!res.headersSent) sendError(res, 500, 'GeneralException', 'internal error');
    }
  });
}

function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  res.setHeader('Connection', 'close');
  res.once('finish', () => req.socket.destroy());
  sendError(res, 413, 'InputException', `request body over ${limit} bytes`);
}

export function methodNotAllowed(res: ServerResponse, allow: string): void {
  res.setHeader('Allow', allow);
  sendError(res, 405, 'InputException', 'method not allowed');
}

export function sendError(res: ServerResponse, status: number, errorType: ErrorType, message: string): void {
  sendJson(res, status, { status: 'error', error_type: errorType, message, data: null });
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}
