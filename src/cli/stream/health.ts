/**
 * `/healthz` and `/readyz` beside `/metrics`: liveness (the process answers) and readiness (every
 * wanted instrument on a connected socket; see manager/readiness.ts). Bodies are JSON with counts and
 * key ids only, never a token.
 */
import type { Readiness } from '../../manager/readiness.js';
import type { HttpRoute } from '../../sinks/prometheus/server.js';

const JSON_TYPE = 'application/json; charset=utf-8';

export function healthRoutes(readiness: () => Readiness): Record<string, HttpRoute> {
  return {
    '/healthz': () => ({ status: 200, contentType: JSON_TYPE, body: '{"status":"ok"}\n' }),
    '/readyz': () => {
      const r = readiness();
      const body = r.ready
        ? { ready: true, unplaced: 0, authFailed: r.authFailed }
        : { ready: false, reason: r.reason, unplaced: r.unplaced, authFailed: r.authFailed };
      return { status: r.ready ? 200 : 503, contentType: JSON_TYPE, body: `${JSON.stringify(body)}\n` };
    },
  };
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this machine reaches. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
