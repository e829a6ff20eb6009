/**
 * The report of `npm run fuzz:structured`: runs the three structured targets (client text path, a live
 * KiteTickerManager, the simulator) with the long limits (values up to 50,000 deep, strings up to 1 MB),
 * prints counts per category and returns the exit code: 1 if anything threw, went unreported, leaked
 * a slot, or a client or the server stopped answering.
 */
import {
  LONG_LIMITS,
  runSimulatorTarget,
  runStructuredTextFuzz,
  runTickerTarget,
} from './fuzz-structured.js';

const line = (label: string, value: unknown): string =>
  `  ${label.padEnd(18)}${typeof value === 'string' ? value : JSON.stringify(value)}`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export async function runStructuredMain(options: {
  seed: number;
  texts: number;
  ticker: number;
  commands: number;
}): Promise<number> {
  const { seed } = options;
  const out = (text: string): boolean => process.stdout.write(`${text}\n`);
  out(`seed ${seed} (structured)`);

  const text = runStructuredTextFuzz({ frames: options.texts, seed, limits: LONG_LIMITS });
  out('');
  out('client text path (parseTextMessage + OrderDeduplicator)');
  out(line('frames', `${text.frames} in ${secs(text.elapsedMs)}`));
  out(line('by target', text.byTarget));
  out(line('by value kind', text.byKind));
  out(line('order fields', text.byOrderField));
  out(line('outcomes', text.outcomes));
  out(line('orders de-duped', text.ordersChecked));
  out(
    line(
      'FAILURES',
      `throws ${text.throws}, unreported ${text.unreported}, malformed ${text.malformed}, pollution ${text.pollution}`,
    ),
  );

  const ticker = await runTickerTarget({ frames: options.ticker, seed, limits: LONG_LIMITS });
  out('');
  out('KiteTickerManager fed by the simulator (injectFrame)');
  out(line('frames', `${ticker.frames} in ${secs(ticker.elapsedMs)}, ${ticker.sentinels} sentinels through`));
  out(line('by target', ticker.byTarget));
  out(line('by value kind', ticker.byKind));
  out(line('outcomes', ticker.outcomes));
  out(
    line(
      'FAILURES',
      `uncaught ${ticker.uncaught}, dead client ${ticker.deadClient}, unreported ${ticker.unreported}`,
    ),
  );

  const sim = await runSimulatorTarget({ commands: options.commands, seed, limits: LONG_LIMITS });
  out('');
  out('simulator (hostile client on 127.0.0.1)');
  out(line('commands', `${sim.commands} in ${secs(sim.elapsedMs)} (${sim.binaryFrames} binary)`));
  out(line('by target', sim.byTarget));
  out(line('by value kind', sim.byKind));
  out(line('answered', `${sim.errorReplies} with an error frame, ${sim.applied} valid and applied`));
  out(line('protocol closes', sim.protocolCloses));
  out(line('junk upgrades', sim.junkUpgrades));
  out(line('storm', sim.storm));
  out(
    line(
      'FAILURES',
      `uncaught ${sim.uncaught}, dead server ${sim.deadServer}, misjudged ${sim.misjudged}, bad replies ${sim.badReplies}, slot leaks ${sim.slotLeaks}`,
    ),
  );

  const failures = [...text.failures, ...ticker.failures, ...sim.failures];
  for (const f of failures) out(`  #${f.index}: ${f.what}\n    ${f.input}`);
  const failed =
    text.throws +
    text.unreported +
    text.malformed +
    text.pollution +
    ticker.uncaught +
    ticker.deadClient +
    ticker.unreported +
    sim.uncaught +
    sim.deadServer +
    sim.misjudged +
    sim.badReplies +
    sim.slotLeaks;
  return failed === 0 ? 0 : 1;
}
