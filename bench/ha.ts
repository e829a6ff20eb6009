/**
 * HA failover: `npm run bench:ha [-- --rounds 20 --observe 6]` (needs `nats-server` on the PATH). A
 * 3-node JetStream cluster on loopback, the simulator standing for Kite (its sockets per key sampled
 * every 50 ms, and per instance through a proxy each), two `kiteticker stream --nats ... --ha GROUP`
 * child processes with the same keys file, a core subscriber and a JetStream consumer (the rig:
 * test/helpers/ha-failover.ts).
 *
 * 1. kill -9 the active instance ROUNDS times in a row: the standby takes over, a new standby starts.
 * 2. SIGTERM the active instance ROUNDS times (graceful hand-over).
 * 3. A NATS node killed under the active instance: a node that does not lead the lease bucket (the
 *    client reconnects to another node; no takeover expected), then the bucket's leader (lease writes
 *    also wait for a new leader: a takeover if that outlasts the fence).
 *
 * Prints one table of gaps (p50/p99/max; the gap is the last tick before the signal to the first after,
 * as the core subscriber saw them) and the invariants: sockets per key at the simulator, samples with
 * both instances holding sockets, duplicates at the JetStream consumer. Any lost instrument (one that
 * does not tick again after a takeover) stops the run with an error.
 */

import { FailoverRig, type NodeLossResult, type RoundResult } from '../test/helpers/ha-failover.js';
import { distribution } from '../test/helpers/tick-consumer.js';
import { Flags } from './lib/args.js';
import { machineLine } from './lib/machine.js';
import { fmtMs } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const flags = new Flags({
  rounds: 'kill -9 rounds, and as many SIGTERM rounds (default 20; --quick 3)',
  observe: 'seconds to watch after killing a NATS node (default 10)',
  ttl: 'lease TTL in ms (default: the CLI default, 2000)',
  quick: 'short run',
});
const ROUNDS = flags.number('rounds', flags.has('quick') ? 3 : 20);
const OBSERVE_MS = flags.number('observe', 10) * 1000;
const TTL = flags.has('ttl') ? flags.number('ttl', 2000) : undefined;
const say = (line: string) => process.stderr.write(`bench:ha ${line}\n`);

const rig = await FailoverRig.start({ group: 'bench', say, ...(TTL !== undefined ? { ttlMs: TTL } : {}) });
try {
  await rig.startInstance();
  await rig.steady();
  await rig.startInstance();
  const kills: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) kills.push(await rig.round('kill'));
  const terms: RoundResult[] = [];
  for (let i = 0; i < ROUNDS; i++) terms.push(await rig.round('term'));
  const nodes: NodeLossResult[] = [];
  for (const leader of [false, true]) nodes.push(await rig.nodeLoss(leader, OBSERVE_MS));

  const samples = rig.samples();
  const core = rig.core.recorder.report();
  const js = rig.js.recorder.report();
  const ms = (v: number) => fmtMs(v);
  const row = (label: string, rounds: RoundResult[]) => {
    const gap = distribution(rounds.map((r) => r.gapMs));
    const jsGap = distribution(rounds.map((r) => r.jsGapMs));
    const active = distribution(rounds.map((r) => r.takeoverMs));
    const back = distribution(rounds.map((r) => r.backMs));
    return [
      label,
      String(rounds.length),
      ms(gap.p50),
      ms(gap.p99),
      ms(gap.max),
      ms(jsGap.p99),
      ms(active.p50),
      ms(back.p99),
    ];
  };
  const nodeRow = (n: NodeLossResult) => [
    n.leader
      ? 'NATS node killed under the holder (it led the lease bucket)'
      : 'NATS node killed under the holder (not the bucket leader)',
    n.fenced ? 'yes' : 'no',
    n.takeover ? 'yes' : 'no',
    { same: 'the same instance', standby: 'the standby', none: 'nobody' }[n.holderAfter],
    ms(n.silenceMs),
    String(n.missing),
  ];

  console.log(
    `${machineLine()}\n1 API key, ${rig.tokens.length} instruments in full mode over 3 sockets, simulator at 5 ticks/s per instrument; lease TTL ${TTL ?? 2000} ms; 3-node nats-server cluster (lease bucket and KITE_TICKS at 3 replicas); 2 \`kiteticker stream --ha\` processes. Gap = last tick of the old holder to first tick of the new, as the consumer saw them (ms).\n`,
  );
  console.log(
    markdownTable(
      [
        'scenario',
        'rounds',
        'gap p50',
        'gap p99',
        'gap max',
        'JetStream gap p99',
        'signal -> active p50',
        'signal -> all instruments back p99',
      ],
      [row('kill -9 of the active instance', kills), row('SIGTERM of the active instance', terms)],
    ),
  );
  console.log('');
  console.log(
    markdownTable(
      [
        `scenario (observed ${OBSERVE_MS / 1000} s)`,
        'holder fenced',
        'takeover',
        'key held after by',
        'longest silence (ms)',
        'ticks missed',
      ],
      nodes.map(nodeRow),
    ),
  );
  console.log('');
  console.log(
    markdownTable(
      ['invariant', 'measured', 'limit'],
      [
        [
          'sockets of the key at the simulator, max over samples',
          `${samples.maxSockets} (${samples.samples} samples)`,
          '<= 3',
        ],
        ["the simulator's own high-water mark of concurrent sockets", String(samples.simulatorMax), '<= 3'],
        ['samples with both instances holding Kite sockets', String(samples.bothHolding), '0'],
        ['duplicates delivered to the JetStream consumer', `${js.duplicates} of ${js.received}`, '0'],
        ['instruments lost after a takeover', '0 (every one ticked again after each round)', '0'],
        ['ticks received by the core subscriber', String(core.received), ''],
      ],
    ),
  );
} finally {
  await rig.dispose();
}
