/**
 * Keys added and removed while the manager runs (the CLI's watched keys file, HA hand-over), and
 * waitForKeys (a service that starts with no usable key). Fake pools: no sockets.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKeyNotFoundError, CapacityError, DuplicateApiKeyError } from '../../src/errors.js';
import { readinessOf } from '../../src/manager/readiness.js';
import { MultiApiKiteTickerManager, type UnplacedEvent } from '../../src/multi/index.js';
import { fakeFactory } from './multi-fake-pool.js';

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

let managers: MultiApiKiteTickerManager[] = [];
afterEach(async () => {
  await Promise.all(managers.map((m) => m.stop()));
  managers = [];
});

function build(keys: number, waitForKeys = false) {
  const { factory, pools } = fakeFactory();
  const b = MultiApiKiteTickerManager.builder()
    .managerFactory(factory)
    .maxConnectionsPerApi(1)
    .maxSymbolsPerConnection(5);
  for (let i = 1; i <= keys; i++) b.addApiKey(`id${i}`, `k${i}`, `token-${i}-secret`);
  if (waitForKeys) b.waitForKeys(true);
  const manager = b.build();
  managers.push(manager);
  return { manager, pools };
}

describe('manager runtime keys', () => {
  it('manager runtime keys - a key added while running starts and takes the unplaced instruments', async () => {
    const { manager, pools } = build(1);
    await manager.start();
    await manager.subscribeSymbols(range(1, 5));
    pools.get('k1')!.failStart = false;
    // k1 fails: its 5 tokens have nowhere to go.
    pools.get('k1')!.emitStatus(0, { status: 'auth_failed', httpStatus: 403 });
    await new Promise((r) => setTimeout(r, 10));
    expect(manager.getUnplacedSymbols().size).toBe(5);
    await manager.addApiKey('id2', 'k2', 'token-2-secret');
    expect(manager.getApiKeys()).toEqual(['id1', 'id2']);
    expect(pools.get('k2')!.started).toBe(true);
    expect(manager.getUnplacedSymbols().size).toBe(0);
    expect(manager.getApiStats('id2').totalSymbols).toBe(5);
  });

  it('manager runtime keys - adding an id or apiKey already in use is refused and changes nothing', async () => {
    const { manager } = build(2);
    await manager.start();
    await expect(manager.addApiKey('id1', 'k9', 'token-9-secret')).rejects.toBeInstanceOf(
      DuplicateApiKeyError,
    );
    await expect(manager.addApiKey('id9', 'k2', 'token-9-secret')).rejects.toBeInstanceOf(
      DuplicateApiKeyError,
    );
    await expect(manager.addApiKey('id9', 'k9', '')).rejects.toThrow();
    expect(manager.getApiKeys()).toEqual(['id1', 'id2']);
  });

  it('manager runtime keys - a removed key closes its pool and its instruments move to keys with room', async () => {
    const { manager, pools } = build(3);
    await manager.start();
    await manager.subscribeSymbols(range(1, 9));
    const own = manager.getApiStats('id2').totalSymbols;
    expect(own).toBeGreaterThan(0);
    const unplaced: UnplacedEvent[] = [];
    manager.on('unplaced', (e) => unplaced.push(e));
    await manager.removeApiKey('id2');
    expect(pools.get('k2')!.stopped).toBe(true);
    expect(manager.getApiKeys()).toEqual(['id1', 'id3']);
    expect(() => manager.getApiStats('id2')).toThrow(ApiKeyNotFoundError);
    // 9 tokens fit on the 2 keys of 5 left.
    expect(manager.getUnplacedSymbols().size).toBe(0);
    expect(manager.getApiStats('id1').totalSymbols + manager.getApiStats('id3').totalSymbols).toBe(9);
    expect(unplaced).toEqual([]);
    await expect(manager.removeApiKey('id2')).rejects.toBeInstanceOf(ApiKeyNotFoundError);
  });

  it('manager runtime keys - removing a key with no room elsewhere leaves its instruments unplaced, reported', async () => {
    const { manager } = build(2);
    await manager.start();
    await manager.subscribeSymbols(range(1, 10));
    const unplaced: UnplacedEvent[] = [];
    manager.on('unplaced', (e) => unplaced.push(e));
    await manager.removeApiKey('id1');
    expect(manager.getUnplacedSymbols().size).toBe(5);
    expect(unplaced).toHaveLength(1);
    expect(unplaced[0]!.reason).toMatch(/"id1" was removed/);
    expect(readinessOf(manager.getStats(), 10)).toMatchObject({ ready: false, unplaced: 5 });
  });

  it('manager runtime keys - without waitForKeys every key refused at start rejects start(); with it the manager runs and waits', async () => {
    const strict = build(1);
    strict.pools.get('k1')!.failStart = true;
    await expect(strict.manager.start()).rejects.toThrow(/authentication failed/);
    expect(strict.manager.state).toBe('stopped');

    const { manager, pools } = build(1, true);
    pools.get('k1')!.failStart = true;
    await manager.start();
    expect(manager.state).toBe('running');
    const unplaced: UnplacedEvent[] = [];
    manager.on('unplaced', (e) => unplaced.push(e));
    // No key has room: the tokens wait instead of a CapacityError.
    await manager.subscribeSymbols(range(1, 3));
    expect(manager.getUnplacedSymbols().size).toBe(3);
    expect(unplaced[0]!.tokens).toEqual([1, 2, 3]);
    const waiting = readinessOf(manager.getStats(), 3);
    expect(waiting).toMatchObject({ ready: false, unplaced: 3, authFailed: ['id1'] });
    // The next token starts the key again; the waiting tokens are placed on it.
    pools.get('k1')!.failStart = false;
    await manager.updateAccessToken('id1', 'token-1-new-secret');
    await new Promise((r) => setTimeout(r, 10));
    expect(manager.getUnplacedSymbols().size).toBe(0);
    expect(manager.getApiStats('id1').totalSymbols).toBe(3);
    expect(readinessOf(manager.getStats(), 3)).toEqual({
      ready: true,
      reason: '',
      unplaced: 0,
      authFailed: [],
    });
  });

  it('manager runtime keys - without waitForKeys a subscribe past capacity still throws CapacityError', async () => {
    const { manager } = build(1);
    await manager.start();
    await expect(manager.subscribeSymbols(range(1, 6))).rejects.toBeInstanceOf(CapacityError);
    expect(manager.getUnplacedSymbols().size).toBe(0);
  });
});
