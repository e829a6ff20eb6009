/**
 * HA failover end to end, CI-sized (the full run is `npm run bench:ha`): a 3-node JetStream cluster,
 * two `kiteticker stream --ha` processes with the same keys file, the simulator counting the key's
 * sockets per instance. 3 kill -9 rounds and 2 SIGTERM rounds, each followed by a new standby; the
 * invariants hold at every step: at most 3 sockets of the key at the simulator (its own high-water mark
 * and every sample), never both instances with sockets open, every instrument back after each
 * takeover, no duplicate delivered to a JetStream consumer, each takeover gap under 3 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAILOVER_KEY, FailoverRig, type RoundResult } from '../helpers/ha-failover.js';

let rig: FailoverRig | undefined;

beforeAll(async () => {
  rig = await FailoverRig.start({ group: 'ci', sampleMs: 20 });
}, 60_000);

afterAll(async () => {
  await rig?.dispose();
}, 30_000);

describe('ha failover', () => {
  it('ha failover - kill -9 and SIGTERM of the active instance: the standby takes over within 3 s, Kite limits and JetStream de-duplication hold', async () => {
    const r = rig!;
    await r.startInstance();
    await r.steady();
    await r.startInstance();
    const rounds: RoundResult[] = [];
    for (const kind of ['kill', 'kill', 'kill', 'term', 'term'] as const) rounds.push(await r.round(kind));
    await r.steady();

    const samples = r.samples();
    console.log(
      `ha failover: ${rounds.map((x) => `${x.kind} ${x.from}->${x.to} gap ${Math.round(x.gapMs)} ms`).join(', ')}; ` +
        `sockets max ${samples.maxSockets} sampled (${samples.samples} samples), ${samples.simulatorMax} at the simulator`,
    );
    // Each round handed the key to the instance that was standing by, the new standby next.
    expect(rounds.map((x) => x.to)).toEqual(['p2', 'p3', 'p4', 'p5', 'p6']);
    for (const x of rounds) {
      expect(x.gapMs).toBeLessThan(3_000);
      expect(x.jsGapMs).toBeLessThan(3_000);
    }
    expect(samples.samples).toBeGreaterThan(100);
    expect(samples.maxSockets).toBe(3);
    expect(samples.simulatorMax).toBe(3);
    expect(samples.bothHolding).toBe(0);
    const core = r.core.recorder.report();
    const js = r.js.recorder.report();
    expect(js.duplicates).toBe(0);
    // Every tick on the bus names its publisher: the consumers saw the handovers by instance id.
    expect(core.keys[FAILOVER_KEY.id]!.instances).toEqual(['p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
    expect(js.handovers).toBe(5);
    expect(core.keys[FAILOVER_KEY.id]!.tokens).toBe(r.tokens.length);
  }, 60_000);
});
