/**
 * Bad commands and arguments at every public entry point of KiteTickerManager (one API key): typed errors
 * with stable codes, and neither getSymbolDistribution nor the simulator's truth changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import type { KiteTickerManagerOptions } from '../../src/manager/types.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { BAD_MODES, BAD_TOKENS, codeOf, codeOfSync, serverTruth, settle } from '../soak/bad-input.js';

const KEYS = ['sim_key_1'];
let sim: KiteSimulator;
let manager: KiteTickerManager;
let universe: number[];
let held: number[];

function distribution(m: KiteTickerManager): string {
  return JSON.stringify(
    [...m.getSymbolDistribution()].map(([i, s]) => [i, [...s].sort((a, b) => a[0] - b[0])]),
  );
}

async function expectUnchanged(calls: () => Promise<void>): Promise<void> {
  const before = distribution(manager);
  const truth = serverTruth(sim, KEYS);
  const capacity = manager.availableCapacity();
  await calls();
  await settle();
  expect(distribution(manager)).toBe(before);
  expect(serverTruth(sim, KEYS)).toBe(truth);
  expect(manager.availableCapacity()).toBe(capacity);
}

beforeAll(async () => {
  sim = new KiteSimulator({ universeSize: 300 });
  await sim.start();
  universe = sim.instruments().map((i) => i.instrument_token);
  held = universe.slice(0, 30);
  manager = new KiteTickerManager('sim_key_1', 'sim_token_1', {
    url: sim.url,
    maxConnections: 2,
    maxSymbolsPerConnection: 20,
  });
  await manager.start();
  await manager.subscribeSymbols(held, 'ltp');
  const deadline = Date.now() + 5000;
  while (sim.connections().reduce((n, c) => n + c.subscriptions.size, 0) < 30 && Date.now() < deadline)
    await settle(20);
});

afterAll(async () => {
  await manager?.stop();
  await sim?.stop();
});

describe('bad input (key manager)', () => {
  it('bad input - non-tokens are refused with ERR_INVALID_TOKEN by subscribe, unsubscribe and changeMode', async () => {
    await expectUnchanged(async () => {
      for (const [name, bad] of BAD_TOKENS) {
        const list = [universe[40]!, bad] as number[];
        expect(await codeOf(() => manager.subscribeSymbols(list, 'quote')), name).toBe(
          ErrorCode.InvalidToken,
        );
        expect(await codeOf(() => manager.unsubscribeSymbols([held[0]!, bad] as number[])), name).toBe(
          ErrorCode.InvalidToken,
        );
        expect(await codeOf(() => manager.changeMode([held[0]!, bad] as number[], 'full')), name).toBe(
          ErrorCode.InvalidToken,
        );
      }
      expect(await codeOf(() => manager.subscribeSymbols('1' as unknown as number[]))).toBe(
        ErrorCode.InvalidArgument,
      );
    });
  });

  it('bad input - unknown modes are refused with ERR_INVALID_ARGUMENT', async () => {
    await expectUnchanged(async () => {
      for (const mode of BAD_MODES) {
        const m = mode as Mode;
        expect(await codeOf(() => manager.subscribeSymbols([universe[41]!], m)), String(mode)).toBe(
          ErrorCode.InvalidArgument,
        );
        expect(await codeOf(() => manager.changeMode(held.slice(0, 2), m)), String(mode)).toBe(
          ErrorCode.InvalidArgument,
        );
      }
    });
  });

  it('bad input - a call over capacity is refused with ERR_CAPACITY and subscribes nothing', async () => {
    await expectUnchanged(async () => {
      expect(await codeOf(() => manager.subscribeSymbols(universe.slice(100, 111)))).toBe(ErrorCode.Capacity);
    });
  });

  it('bad input - bad access tokens and channel indexes are refused, the pool keeps working', async () => {
    await expectUnchanged(async () => {
      for (const token of ['', undefined, 7, 'sim token']) {
        expect(await codeOf(() => manager.updateAccessToken(token as string)), String(token)).toBe(
          ErrorCode.InvalidArgument,
        );
      }
      // Unknown channel ids are a typed error, never a silent undefined.
      for (const index of [2, 3, -1, 0.5, Number.NaN])
        expect(
          codeOfSync(() => manager.getChannel(index)),
          String(index),
        ).toBe(ErrorCode.InvalidArgument);
    });
  });

  it('bad input - a refused token update leaves the key able to open new sockets', async () => {
    const m = new KiteTickerManager('sim_key_2', 'sim_token_2', {
      url: sim.url,
      maxConnections: 2,
      maxSymbolsPerConnection: 5,
    });
    try {
      await m.start();
      await m.subscribeSymbols(universe.slice(250, 253));
      for (const bad of ['sim token', ' sim_token_2', 'sim_token_2\t']) {
        expect(
          codeOfSync(() => m.updateAccessToken(bad)),
          JSON.stringify(bad),
        ).toBe(ErrorCode.InvalidArgument);
      }
      // Needs the second socket, which must be opened with the token still valid (sim_token_2).
      expect(await codeOf(() => m.subscribeSymbols(universe.slice(253, 258)))).toBe('none');
      const held = () =>
        sim
          .connections()
          .filter((c) => c.apiKey === 'sim_key_2')
          .reduce((n, c) => n + c.subscriptions.size, 0);
      const deadline = Date.now() + 5000;
      while (held() < 8 && Date.now() < deadline) await settle(20);
      expect(held()).toBe(8);
    } finally {
      await m.stop();
    }
  });

  it('bad input - bad constructor options are refused at construction with ERR_INVALID_ARGUMENT', () => {
    const cases: [string, string, string, KiteTickerManagerOptions][] = [
      ['empty api key', '', 't', {}],
      ['empty token', 'k', '', {}],
      ['4 connections', 'k', 't', { maxConnections: 4 }],
      ['0 connections', 'k', 't', { maxConnections: 0 }],
      ['3001 symbols', 'k', 't', { maxSymbolsPerConnection: 3001 }],
      ['fractional symbols', 'k', 't', { maxSymbolsPerConnection: 2.5 }],
      ['bad mode', 'k', 't', { defaultMode: 'depth' as Mode }],
      ['http url', 'k', 't', { url: 'http://127.0.0.1:1' }],
      ['zero liveness', 'k', 't', { livenessTimeoutMs: 0 }],
      ['NaN timeout', 'k', 't', { connectionTimeoutMs: Number.NaN }],
      ['zero channel', 'k', 't', { channelCapacity: 0 }],
      ['bad overflow', 'k', 't', { overflow: 'block' as 'drop-oldest' }],
      ['bad logger', 'k', 't', { logger: {} as never }],
      ['reconnect not an object', 'k', 't', { reconnect: 5 as never }],
      ['negative reconnect delay', 'k', 't', { reconnect: { initialDelayMs: -1 } }],
      ['bad jitter', 'k', 't', { reconnect: { jitter: 'half' as 'full' } }],
      ['token with a space', 'k', 't t', {}],
    ];
    for (const [name, apiKey, token, options] of cases) {
      expect(
        codeOfSync(() => new KiteTickerManager(apiKey, token, options)),
        name,
      ).toBe(ErrorCode.InvalidArgument);
    }
  });

  it('bad input - calls after stop() are refused with ERR_CLOSED and open nothing', async () => {
    const m = new KiteTickerManager('sim_key_1', 'sim_token_1', { url: sim.url, maxConnections: 1 });
    await m.start();
    await m.subscribeSymbols([universe[200]!]);
    await m.stop();
    await settle(100);
    const truth = serverTruth(sim, KEYS);
    const before = distribution(m);
    expect(await codeOf(() => m.start())).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.subscribeSymbols([universe[201]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.unsubscribeSymbols([universe[200]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.changeMode([universe[200]!], 'full'))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.updateAccessToken('sim_token_2'))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.stop())).toBe('none');
    await settle();
    expect(distribution(m)).toBe(before);
    expect(serverTruth(sim, KEYS)).toBe(truth);
  });
});
