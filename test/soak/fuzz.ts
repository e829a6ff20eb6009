/**
 * `npm run fuzz`: the long fuzz of the decoder and the text parsers (1,000,000 frames by default).
 *   tsx test/soak/fuzz.ts [--frames N] [--messages N] [--seed S]
 * `npm run fuzz:structured` (or `npm run fuzz -- --structured`): the structured attacks instead, see
 * fuzz-structured-main.ts.
 *   tsx test/soak/fuzz.ts --structured [--texts N] [--ticker N] [--commands N] [--seed S]
 * Prints counts and timings; exits 1 if any input was mishandled (so it can gate a release).
 */
import { parseArgs } from 'node:util';
import { runDecoderFuzz, runTextFuzz } from './fuzz-core.js';
import { runStructuredMain } from './fuzz-structured-main.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    messages: { type: 'string', default: '200000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    structured: { type: 'boolean', default: false },
    texts: { type: 'string', default: '5000' },
    ticker: { type: 'string', default: '1000' },
    commands: { type: 'string', default: '5000' },
  },
});
if (values.structured) {
  process.exitCode = await runStructuredMain({
    seed: Number(values.seed),
    texts: Number(values.texts),
    ticker: Number(values.ticker),
    commands: Number(values.commands),
  });
  process.exit();
}
const frames = Number(values.frames);
const messages = Number(values.messages);
const seed = Number(values.seed);

const decoder = runDecoderFuzz({ frames, seed });
const text = runTextFuzz({ messages, seed });

const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const lines = [
  `seed ${seed}`,
  '',
  'binary decoder',
  `  frames            ${decoder.frames.toLocaleString('en-US')} in ${(decoder.elapsedMs / 1000).toFixed(1)} s (${rate(decoder.frames, decoder.elapsedMs)})`,
  `  sound / bad / hb  ${decoder.validFrames} / ${decoder.badFrames} / ${decoder.heartbeats}`,
  `  bad reported      ${decoder.reportedBad} of ${decoder.badFrames}`,
  `  ticks decoded     ${decoder.ticks}`,
  `  FrameView checks  ${decoder.viewChecks}`,
  `  errors by kind    ${JSON.stringify(decoder.errorsByKind)}`,
  `  mutations         ${JSON.stringify(decoder.mutations)}`,
  `  FAILURES          throws ${decoder.throws}, unreported ${decoder.unreportedBad}, false errors ${decoder.falseErrors}, tick mismatches ${decoder.tickMismatches}, view mismatches ${decoder.viewMismatches}`,
  '',
  'text parsers',
  `  messages          ${text.messages.toLocaleString('en-US')} in ${(text.elapsedMs / 1000).toFixed(1)} s (${rate(text.messages, text.elapsedMs)})`,
  `  server accepted   ${text.accepted}, rejected ${text.rejected}`,
  `  commands accepted ${text.commandsAccepted}, rejected ${text.commandsRejected}`,
  `  errors by kind    ${JSON.stringify(text.errorsByKind)}`,
  `  FAILURES          throws ${text.throws}, unreported ${text.unreported}, malformed ${text.malformed}, pollution ${text.pollution}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
const failures = [...decoder.failures, ...text.failures];
for (const f of failures) process.stdout.write(`  #${f.index}: ${f.what}\n    ${f.input}\n`);
const failed =
  decoder.throws +
  decoder.unreportedBad +
  decoder.falseErrors +
  decoder.tickMismatches +
  decoder.viewMismatches +
  text.throws +
  text.unreported +
  text.malformed +
  text.pollution;
process.exitCode = failed === 0 ? 0 : 1;
