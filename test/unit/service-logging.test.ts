/** The JSON-lines logger of --service, the keys-file diff, readiness and the health routes. */
import { describe, expect, it } from 'vitest';
import { diffKeys } from '../../src/cli/keys-file-watch.js';
import { healthRoutes, isLoopback } from '../../src/cli/stream/health.js';
import { createJsonLogger } from '../../src/json-logger.js';
import { readinessOf } from '../../src/manager/readiness.js';

const TOKEN = 'access_token_value_9f8e7d';

describe('service logging', () => {
  it('service logging - one JSON line per entry with pino levels, time in ms, msg and fields', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ write: (l) => lines.push(l), now: () => 1234, level: 'info' });
    log.debug({ a: 1 }, 'dropped below info');
    log.info({ apiKeyId: 'k1', n: 3 }, 'started');
    log.warn('plain text');
    log.error(new Error('boom'), 'failed');
    expect(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n'))).toBe(true);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p.level)).toEqual([30, 40, 50]);
    expect(parsed[0]).toMatchObject({ level: 30, time: 1234, apiKeyId: 'k1', n: 3, msg: 'started' });
    expect(typeof parsed[0]!.pid).toBe('number');
    expect(parsed[1]!.msg).toBe('plain text');
    expect(parsed[2]).toMatchObject({ msg: 'failed', err: { type: 'Error', message: 'boom' } });
  });

  it('service logging - secrets never reach a line: known tokens, token fields and URL passwords', () => {
    const lines: string[] = [];
    const log = createJsonLogger({ write: (l) => lines.push(l), secrets: () => [TOKEN] });
    log.info({ detail: `refused ${TOKEN}` }, `with ${TOKEN}`);
    log.warn({ accessToken: 'short1', url: 'nats://user:hunter2pass@host:4222' }, 'x');
    log.error(new Error(`token ${TOKEN} expired`), 'e');
    const text = lines.join('');
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('short1');
    expect(text).not.toContain('hunter2pass');
  });

  it('service logging - a logger whose writer throws or whose fields are hostile never throws', () => {
    const log = createJsonLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => log.info({ a: 1 }, 'x')).not.toThrow();
    const hostile = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    expect(() => createJsonLogger({ write: () => undefined }).warn(hostile, 'y')).not.toThrow();
  });

  it('service logging - keys diff: new token, added, removed, and a changed apiKey is remove + add', () => {
    const a = { id: 'a', apiKey: 'ka', accessToken: 't1' };
    const b = { id: 'b', apiKey: 'kb', accessToken: 't2' };
    const c = { id: 'c', apiKey: 'kc', accessToken: 't3' };
    expect(diffKeys([a, b], [a, b])).toEqual({ added: [], removed: [], rotated: [] });
    expect(diffKeys([a, b], [{ ...a, accessToken: 'new' }, c])).toEqual({
      added: [c],
      removed: ['b'],
      rotated: [{ ...a, accessToken: 'new' }],
    });
    expect(diffKeys([a], [{ ...a, apiKey: 'other' }])).toEqual({
      added: [{ ...a, apiKey: 'other' }],
      removed: ['a'],
      rotated: [],
    });
  });

  it('service logging - /readyz is 503 with a JSON reason until every instrument is on a connected socket', () => {
    const key = (id: string, status: string, symbols: number, state = 'active', failureReason?: string) => ({
      apiKeyId: id,
      state,
      failureReason,
      manager: { connections: [{ status, symbols }] },
    });
    const stats = (keys: unknown[], unplaced = 0, total = 0) =>
      ({ unplacedSymbols: unplaced, totalSymbols: total, perApiStats: keys }) as never;
    expect(readinessOf(undefined, 5)).toMatchObject({ ready: false, reason: 'not started' });
    expect(readinessOf(stats([key('a', 'connected', 5)], 0, 5), 5).ready).toBe(true);
    expect(readinessOf(stats([key('a', 'connected', 5)], 0, 5), 8)).toMatchObject({
      ready: false,
      unplaced: 3,
    });
    expect(readinessOf(stats([key('a', 'reconnecting', 5)], 0, 5), 5)).toMatchObject({
      ready: false,
      unplaced: 5,
    });
    const refused = readinessOf(
      stats([key('a', 'auth_failed', 0, 'failed', 'auth_failed'), key('b', 'connected', 2)], 3, 2),
      5,
    );
    expect(refused).toMatchObject({ ready: false, unplaced: 3, authFailed: ['a'] });
    const routes = healthRoutes(() => refused);
    const r = routes['/readyz']!();
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body)).toEqual({
      ready: false,
      reason: refused.reason,
      unplaced: 3,
      authFailed: ['a'],
    });
    expect(routes['/healthz']!().status).toBe(200);
    expect(
      healthRoutes(() => readinessOf(stats([key('a', 'connected', 1)], 0, 1), 1))['/readyz']!().status,
    ).toBe(200);
  });

  it('service logging - loopback hosts are told apart from the others', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '::', '10.0.0.1', 'example.com'].some(isLoopback)).toBe(false);
  });
});
