/**
 * Bad commands and arguments at every public entry point of KiteTicker (one socket): typed errors with
 * stable codes, the desired state (subscriptions()) unchanged, and nothing sent to the server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KiteTicker } from '../../src/connection/index.js';
import type { KiteTickerOptions } from '../../src/connection/types.js';
import { ErrorCode } from '../../src/errors.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { BAD_MODES, BAD_TOKENS, codeOf, codeOfSync, serverTruth, settle } from '../soak/bad-input.js';

const KEYS = ['sim_key_1'];
let sim: KiteSimulator;
let ticker: KiteTicker;
let universe: number[];

const desired = (t: KiteTicker): string => JSON.stringify([...t.subscriptions()].sort((a, b) => a[0] - b[0]));

async function expectUnchanged(calls: () => Promise<void> | void): Promise<void> {
  const before = desired(ticker);
  const truth = serverTruth(sim, KEYS);
  await calls();
  await settle();
  expect(desired(ticker)).toBe(before);
  expect(serverTruth(sim, KEYS)).toBe(truth);
}

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 100 });
  await sim.start();
  universe = sim.instruments().map((i) => i.instrument_token);
  ticker = new KiteTicker({ apiKey: 'sim_key_1', accessToken: 'sim_token_1', url: sim.url });
  await ticker.connect();
  ticker.subscribe(universe.slice(0, 10), 'quote');
  const deadline = Date.now() + 5000;
  while ((sim.connections()[0]?.subscriptions.size ?? 0) < 10 && Date.now() < deadline) await settle(20);
});

afterAll(async () => {
  await ticker?.close();
  await sim?.stop();
});

describe('bad input (ticker)', () => {
  it('bad input - non-tokens are refused with ERR_INVALID_TOKEN and nothing is sent', async () => {
    await expectUnchanged(() => {
      for (const [name, bad] of BAD_TOKENS) {
        const list = [universe[20]!, bad] as number[];
        expect(
          codeOfSync(() => ticker.subscribe(list, 'full')),
          name,
        ).toBe(ErrorCode.InvalidToken);
        expect(
          codeOfSync(() => ticker.unsubscribe([universe[0]!, bad] as number[])),
          name,
        ).toBe(ErrorCode.InvalidToken);
        expect(
          codeOfSync(() => ticker.setMode('ltp', [universe[0]!, bad] as number[])),
          name,
        ).toBe(ErrorCode.InvalidToken);
      }
    });
  });

  it('bad input - unknown modes are refused with ERR_INVALID_ARGUMENT and nothing is sent', async () => {
    await expectUnchanged(() => {
      for (const mode of BAD_MODES.filter((m) => m !== undefined)) {
        expect(
          codeOfSync(() => ticker.subscribe([universe[21]!], mode as Mode)),
          String(mode),
        ).toBe(ErrorCode.InvalidArgument);
        expect(
          codeOfSync(() => ticker.setMode(mode as Mode, [universe[0]!])),
          String(mode),
        ).toBe(ErrorCode.InvalidArgument);
      }
    });
  });

  it('bad input - a bad access token is refused and the old one stays in use', async () => {
    await expectUnchanged(() => {
      for (const token of ['', undefined, 5]) {
        expect(
          codeOfSync(() => ticker.updateAccessToken(token as string)),
          String(token),
        ).toBe(ErrorCode.InvalidArgument);
      }
    });
    const reconnects = ticker.stats().reconnects;
    sim.dropConnection({ apiKey: 'sim_key_1' });
    const deadline = Date.now() + 8000;
    while (ticker.stats().reconnects === reconnects && Date.now() < deadline) await settle(50);
    expect(ticker.stats().reconnects).toBe(reconnects + 1);
  });

  it('bad input - bad options are refused at construction with ERR_INVALID_ARGUMENT', () => {
    const ok: KiteTickerOptions = { apiKey: 'k', accessToken: 't', url: 'ws://127.0.0.1:1' };
    const cases: [string, KiteTickerOptions][] = [
      ['no options', undefined as unknown as KiteTickerOptions],
      ['empty api key', { ...ok, apiKey: '' }],
      ['empty token', { ...ok, accessToken: '' }],
      ['token with a space', { ...ok, accessToken: 'a b' }],
      ['http url', { ...ok, url: 'http://127.0.0.1:1' }],
      ['token in the url', { ...ok, url: 'ws://127.0.0.1:1/?access_token=x' }],
      ['negative connect timeout', { ...ok, connectTimeoutMs: -1 }],
      ['NaN liveness', { ...ok, livenessTimeoutMs: Number.NaN }],
      ['0 tokens per message', { ...ok, maxTokensPerMessage: 0 }],
      ['jitter', { ...ok, reconnect: { jitter: 'some' as 'full' } }],
      ['negative delay', { ...ok, reconnect: { initialDelayMs: -5 } }],
      ['bad logger', { ...ok, logger: { info() {} } as never }],
    ];
    for (const [name, options] of cases)
      expect(
        codeOfSync(() => new KiteTicker(options)),
        name,
      ).toBe(ErrorCode.InvalidArgument);
  });

  it('bad input - after close(), connect and subscribe are refused with ERR_CLOSED', async () => {
    const t = new KiteTicker({ apiKey: 'sim_key_2', accessToken: 'sim_token_2', url: sim.url });
    await t.connect();
    await t.close();
    expect(await codeOf(() => t.connect())).toBe(ErrorCode.Closed);
    expect(codeOfSync(() => t.subscribe([universe[30]!]))).toBe(ErrorCode.Closed);
    expect(codeOfSync(() => t.setMode('full', [universe[30]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => t.close())).toBe('none');
    await settle();
    expect(sim.connections().filter((c) => c.apiKey === 'sim_key_2')).toEqual([]);
    expect(sim.keyInfo('sim_key_2').commands).toEqual([]);
  });
});
