import { afterEach, describe, expect, it } from 'vitest';
import type { MultiApiKiteTickerManager } from '../../src/manager/manager.js';
import { connect, type Rig, startRig, type TestClient, waitFor } from './relay-helpers.js';

let rig: Rig | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await rig?.stop();
  rig = undefined;
});

async function client(id: string, token: string): Promise<TestClient> {
  const c = await connect(rig!.relay.url, id, token);
  clients.push(c);
  return c;
}

function tokensOf(n: number, from = 0): number[] {
  return rig!.sim
    .instruments()
    .slice(from, from + n)
    .map((i) => i.instrument_token);
}

/** Waits for `n` more ticks on every client. */
async function resumes(cs: TestClient[], what: string, n = 10): Promise<void> {
  const start = cs.map((c) => c.ticks.length);
  await waitFor(() => cs.every((c, i) => c.ticks.length > start[i]! + n), 15_000, what);
}

describe('relay under upstream and client faults', () => {
  it('relay - upstream drop, restart and a 403 window: clients stay connected and resume', async () => {
    rig = await startRig();
    const ts = tokensOf(5, 100);
    const a = await client('alpha', 'alpha-token-123');
    const b = await client('beta', 'beta-token-456');
    a.send({ a: 'subscribe', v: ts.slice(0, 3) });
    b.send({ a: 'subscribe', v: ts.slice(2) });
    await resumes([a, b], 'first ticks');

    rig.sim.dropConnection({ apiKey: 'sim_key_1' });
    await resumes([a, b], 'ticks after a drop');

    await rig.sim.restart(300);
    await resumes([a, b], 'ticks after a restart');

    // The upstream token expires (403 on every upgrade) until a new one is given, as each morning.
    rig.sim.revokeToken('sim_key_1');
    await waitFor(() => (rig!.sim.keyInfo('sim_key_1').rejectedUpgrades[403] ?? 0) > 0, 10_000, 'a 403');
    // The manager has taken the 403 in (a token given before it has would be overtaken by it).
    const stats = () => (rig!.relay.manager as unknown as MultiApiKiteTickerManager).getStats();
    await waitFor(() => stats().perApiStats[0]!.state === 'failed', 10_000, 'the key failed');
    rig.sim.setAccessToken('sim_key_1', 'sim_token_new');
    await rig.relay.updateAccessToken('k1', 'sim_token_new');
    await resumes([a, b], 'ticks after a new upstream token');

    // Nothing of the upstream's faults reached the clients but the gap.
    for (const c of [a, b]) {
      expect(c.ws.readyState).toBe(1);
      expect(c.texts).toEqual([]);
    }
    expect(new Set(a.ticks.map((t) => t.instrument_token))).toEqual(new Set(ts.slice(0, 3)));
  }, 60_000);

  it('relay - a client disconnecting mid-frame leaves the relay and the others untouched', async () => {
    rig = await startRig();
    const ts = tokensOf(50, 200);
    const a = await client('alpha', 'alpha-token-123');
    a.send({ a: 'subscribe', v: ts });
    a.send({ a: 'mode', v: ['full', ts] });
    for (let i = 0; i < 5; i++) {
      const gone = await client('beta', 'beta-token-456');
      gone.send({ a: 'subscribe', v: ts });
      await waitFor(() => gone.ticks.length > 0, 8000, 'beta ticks');
      // Half a client frame (a 126-length header and 3 of its bytes), then the socket is gone.
      const raw = (gone.ws as unknown as { _socket: import('node:net').Socket })._socket;
      raw.write(Buffer.from([0x81, 0xfe, 0x01, 0x00, 1, 2, 3]));
      raw.destroy();
    }
    await waitFor(() => rig!.relay.stats().connections === 1, 5000, 'closed sockets forgotten');
    await resumes([a], 'alpha still served', 50);
    expect(a.texts).toEqual([]);
  });
});

describe('relay under load of connections', () => {
  it('relay - 1,000 clients connecting at once are all served, each its own tokens, idle ones get heartbeats', async () => {
    rig = await startRig(
      { universeSize: 500, ticksPerSecond: 2, batchIntervalMs: 100 },
      {
        clients: [{ id: 'crowd', accessToken: 'crowd-token-1' }],
        maxSocketsPerClient: 1000,
        heartbeatIntervalMs: 300,
      },
    );
    const tokens = tokensOf(50, 0);
    const crowd = await Promise.all(
      Array.from({ length: 1000 }, () => connect(rig!.relay.url, 'crowd', 'crowd-token-1')),
    );
    clients.push(...crowd);
    expect(rig.relay.stats().connections).toBe(1000);
    // Each client a window of 5 of the 50 tokens (overlapping); every 10th stays idle.
    crowd.forEach((c, i) => {
      if (i % 10 !== 9) c.send({ a: 'subscribe', v: tokens.slice(i % 46, (i % 46) + 5) });
    });
    await waitFor(
      () => crowd.every((c, i) => (i % 10 === 9 ? c.heartbeats > 0 : c.ticks.length > 0)),
      30_000,
      'every client served',
    );
    crowd.forEach((c, i) => {
      const mine = new Set(i % 10 === 9 ? [] : tokens.slice(i % 46, (i % 46) + 5));
      for (const t of c.ticks) expect(mine.has(t.instrument_token)).toBe(true);
    });
    expect(rig.relay.upstreamSubscriptions().size).toBe(50);
  }, 60_000);
});
