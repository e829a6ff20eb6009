/**
 * Bad commands and arguments at every public entry point of MultiApiKiteTickerManager and its builder:
 * each is refused with a typed error carrying a stable code, and neither the manager's state
 * (getSymbolDistribution) nor the server's truth (the simulator's sockets and command log) changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { DistributionStrategy, MultiApiKiteTickerManager } from '../../src/multi/index.js';
import type { Mode } from '../../src/protocol/constants.js';
import { KiteSimulator } from '../../src/simulator/index.js';
import { BAD_MODES, BAD_TOKENS, codeOf, codeOfSync, serverTruth, settle } from '../soak/bad-input.js';

const API_KEYS = ['api_a', 'api_b'];
let sim: KiteSimulator;
let manager: MultiApiKiteTickerManager;
let universe: number[];
/** Subscribed at setup: 60 of the 100 slots (2 keys x 1 socket x 50). */
let held: number[];

function distribution(m: MultiApiKiteTickerManager): string {
  const out: [string, [number, [number, Mode][]][]][] = [];
  for (const [id, sockets] of m.getSymbolDistribution()) {
    out.push([id, [...sockets].map(([i, subs]) => [i, [...subs].sort((a, b) => a[0] - b[0])])]);
  }
  return JSON.stringify(out);
}

/** Runs `calls`, then proves the manager and the server are exactly as before. */
async function expectUnchanged(calls: () => Promise<void>): Promise<void> {
  const before = distribution(manager);
  const truthBefore = serverTruth(sim, API_KEYS);
  await calls();
  await settle();
  expect(distribution(manager)).toBe(before);
  expect(serverTruth(sim, API_KEYS)).toBe(truthBefore);
}

function builder() {
  return MultiApiKiteTickerManager.builder()
    .addApiKey('a', 'api_a', 'tok_a')
    .addApiKey('b', 'api_b', 'tok_b')
    .url(sim.url)
    .maxConnectionsPerApi(1)
    .maxSymbolsPerConnection(50);
}

beforeAll(async () => {
  sim = new KiteSimulator({ credentials: { api_a: 'tok_a', api_b: 'tok_b' }, universeSize: 500 });
  await sim.start();
  universe = sim.instruments().map((i) => i.instrument_token);
  held = universe.slice(0, 60);
  manager = builder().build();
  await manager.start();
  await manager.subscribeSymbols(held, 'quote');
  const deadline = Date.now() + 5000;
  while (sim.connections().reduce((n, c) => n + c.subscriptions.size, 0) < 60 && Date.now() < deadline)
    await settle(20);
});

afterAll(async () => {
  await manager?.stop();
  await sim?.stop();
});

describe('bad input (multi-key manager)', () => {
  it('bad input - every non-token is refused with ERR_INVALID_TOKEN by every token-taking method, changing nothing', async () => {
    await expectUnchanged(async () => {
      const fresh = universe[70]!;
      for (const [name, bad] of BAD_TOKENS) {
        const list = [fresh, bad] as number[];
        expect(await codeOf(() => manager.subscribeSymbols(list, 'full')), name).toBe(ErrorCode.InvalidToken);
        expect(await codeOf(() => manager.subscribeSymbolsToApi('a', list)), name).toBe(
          ErrorCode.InvalidToken,
        );
        expect(await codeOf(() => manager.unsubscribeSymbols([held[0]!, bad] as number[])), name).toBe(
          ErrorCode.InvalidToken,
        );
        expect(await codeOf(() => manager.changeMode([held[0]!, bad] as number[], 'ltp')), name).toBe(
          ErrorCode.InvalidToken,
        );
      }
    });
  });

  it('bad input - a token list that is not an array is refused with ERR_INVALID_ARGUMENT', async () => {
    await expectUnchanged(async () => {
      for (const notArray of [
        '408065',
        408065,
        undefined,
        null,
        { 0: 408065, length: 1 },
        new Set([408065]),
      ]) {
        const arg = notArray as unknown as number[];
        expect(await codeOf(() => manager.subscribeSymbols(arg))).toBe(ErrorCode.InvalidArgument);
        expect(await codeOf(() => manager.unsubscribeSymbols(arg))).toBe(ErrorCode.InvalidArgument);
        expect(await codeOf(() => manager.changeMode(arg, 'ltp'))).toBe(ErrorCode.InvalidArgument);
      }
    });
  });

  it('bad input - modes that do not exist are refused with ERR_INVALID_ARGUMENT, changing nothing', async () => {
    await expectUnchanged(async () => {
      for (const mode of BAD_MODES) {
        const m = mode as Mode;
        const label = String(mode);
        expect(await codeOf(() => manager.subscribeSymbols([universe[71]!], m)), label).toBe(
          ErrorCode.InvalidArgument,
        );
        expect(await codeOf(() => manager.subscribeSymbolsToApi('b', [universe[71]!], m)), label).toBe(
          ErrorCode.InvalidArgument,
        );
        expect(await codeOf(() => manager.changeMode(held.slice(0, 3), m)), label).toBe(
          ErrorCode.InvalidArgument,
        );
      }
    });
  });

  it('bad input - more new tokens than free capacity is refused with ERR_CAPACITY and places none of them', async () => {
    await expectUnchanged(async () => {
      // 40 slots are free across both keys, 20 on each.
      expect(await codeOf(() => manager.subscribeSymbols(universe.slice(100, 141)))).toBe(ErrorCode.Capacity);
      expect(await codeOf(() => manager.subscribeSymbolsToApi('a', universe.slice(100, 121)))).toBe(
        ErrorCode.Capacity,
      );
    });
  });

  it('bad input - unknown API key ids are refused with ERR_API_KEY_NOT_FOUND, or give undefined', async () => {
    await expectUnchanged(async () => {
      for (const id of ['zzz', '', 'A', '__proto__', 'constructor', 'toString']) {
        expect(await codeOf(() => manager.subscribeSymbolsToApi(id, [universe[72]!])), id).toBe(
          ErrorCode.ApiKeyNotFound,
        );
        expect(await codeOf(() => manager.updateAccessToken(id, 'tok_new')), id).toBe(
          ErrorCode.ApiKeyNotFound,
        );
        expect(
          codeOfSync(() => manager.getChannel(id, 0)),
          id,
        ).toBe(ErrorCode.ApiKeyNotFound);
      }
      // Unknown channel ids are a typed error, never a silent undefined.
      expect(codeOfSync(() => manager.getChannel('a', 1))).toBe(ErrorCode.InvalidArgument);
      expect(codeOfSync(() => manager.getChannel('a', -1))).toBe(ErrorCode.InvalidArgument);
      expect(codeOfSync(() => manager.getChannel('a', Number.NaN))).toBe(ErrorCode.InvalidArgument);
    });
  });

  it('bad input - an empty, non-string or whitespace access token is refused with ERR_INVALID_ARGUMENT', async () => {
    await expectUnchanged(async () => {
      for (const token of ['', undefined, null, 42, 'tok a', 'tok\n']) {
        expect(await codeOf(() => manager.updateAccessToken('a', token as string)), String(token)).toBe(
          ErrorCode.InvalidArgument,
        );
      }
    });
    // The key still works with its old token: a dropped socket comes back.
    sim.dropConnection({ apiKey: 'api_a' });
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      const a = sim.connections().filter((c) => c.apiKey === 'api_a');
      if (a.length === 1 && a[0]!.subscriptions.size === 30) break;
      await settle(50);
    }
    expect(sim.connections().filter((c) => c.apiKey === 'api_a')[0]?.subscriptions.size).toBe(30);
  });

  it('bad input - bad builder options are refused at build() with a typed error', () => {
    const base = () => MultiApiKiteTickerManager.builder().addApiKey('a', 'api_a', 'tok_a').url(sim.url);
    const cases: [string, () => unknown, string][] = [
      ['no keys', () => MultiApiKiteTickerManager.builder().build(), ErrorCode.InvalidArgument],
      ['duplicate id', () => base().addApiKey('a', 'api_b', 'tok_b').build(), ErrorCode.DuplicateApiKey],
      ['empty id', () => base().addApiKey('', 'api_b', 'tok_b').build(), ErrorCode.InvalidArgument],
      ['empty api key', () => base().addApiKey('b', '', 'tok_b').build(), ErrorCode.InvalidArgument],
      ['empty token', () => base().addApiKey('b', 'api_b', '').build(), ErrorCode.InvalidArgument],
      ['0 connections', () => base().maxConnectionsPerApi(0).build(), ErrorCode.InvalidArgument],
      ['4 connections', () => base().maxConnectionsPerApi(4).build(), ErrorCode.InvalidArgument],
      ['1.5 connections', () => base().maxConnectionsPerApi(1.5).build(), ErrorCode.InvalidArgument],
      ['NaN symbols', () => base().maxSymbolsPerConnection(Number.NaN).build(), ErrorCode.InvalidArgument],
      ['0 symbols', () => base().maxSymbolsPerConnection(0).build(), ErrorCode.InvalidArgument],
      ['3001 symbols', () => base().maxSymbolsPerConnection(3001).build(), ErrorCode.InvalidArgument],
      ['negative timeout', () => base().connectionTimeout(-1).build(), ErrorCode.InvalidArgument],
      ['0 health interval', () => base().healthCheckInterval(0).build(), ErrorCode.InvalidArgument],
      [
        'bad default mode',
        () =>
          base()
            .defaultMode('snapquote' as Mode)
            .build(),
        ErrorCode.InvalidArgument,
      ],
      [
        'bad strategy',
        () =>
          base()
            .distributionStrategy('random' as DistributionStrategy)
            .build(),
        ErrorCode.InvalidArgument,
      ],
      ['http url', () => base().url('http://127.0.0.1:1').build(), ErrorCode.InvalidArgument],
      ['not a url', () => base().url('not a url').build(), ErrorCode.InvalidArgument],
      ['empty url', () => base().url('').build(), ErrorCode.InvalidArgument],
    ];
    for (const [name, make, code] of cases) expect(codeOfSync(make), name).toBe(code);
  });

  it('bad input - subscribeSymbols under manual distribution is refused with ERR_MANUAL_DISTRIBUTION', async () => {
    const manual = builder().distributionStrategy(DistributionStrategy.Manual).build();
    try {
      // Before start: nothing may be sent anywhere.
      expect(await codeOf(() => manual.subscribeSymbols([universe[80]!]))).toBe(ErrorCode.ManualDistribution);
      expect(await codeOf(() => manual.subscribeSymbolsToApi('a', [universe[80]!]))).toBe(
        ErrorCode.NotStarted,
      );
      expect(
        JSON.parse(distribution(manual)).flatMap((k: [string, [number, unknown[]][]]) =>
          k[1].flatMap((s) => s[1]),
        ),
      ).toEqual([]);
    } finally {
      await manual.stop();
    }
  });

  it('bad input - every call after stop() is refused with ERR_CLOSED and opens nothing', async () => {
    const m = builder().build();
    expect(await codeOf(() => m.subscribeSymbols([universe[90]!]))).toBe(ErrorCode.NotStarted);
    await m.start();
    const socketsWhileUp = sim.connections().length;
    await m.stop();
    await settle(100);
    expect(sim.connections().length).toBe(socketsWhileUp - 2);
    const truth = serverTruth(sim, API_KEYS);
    expect(await codeOf(() => m.start())).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.subscribeSymbols([universe[90]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.subscribeSymbolsToApi('a', [universe[90]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.unsubscribeSymbols([universe[90]!]))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.changeMode([universe[90]!], 'ltp'))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.updateAccessToken('a', 'tok_x'))).toBe(ErrorCode.Closed);
    expect(await codeOf(() => m.stop())).toBe('none');
    expect(codeOfSync(() => m.getChannel('a', 0))).toBe(ErrorCode.Closed);
    expect(await m.getUnifiedChannel().receive()).toBeUndefined();
    await settle();
    expect(serverTruth(sim, API_KEYS)).toBe(truth);
  });
});
