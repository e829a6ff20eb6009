/** First-hour details of the CLI that need no process: messages, prefixes, numbers. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';

function io(env: NodeJS.ProcessEnv = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => {
    out += d;
  });
  stderr.on('data', (d) => {
    err += d;
  });
  return {
    io: { stdout, stderr, env, onStopSignal: () => () => undefined },
    out: () => out,
    err: () => err,
  };
}

describe('cli usage errors', () => {
  it("cli program - commander's own errors carry the documented 'kiteticker: error:' prefix and exit 2", async () => {
    for (const [argv, message] of [
      [['stream', '--bogus'], /^kiteticker: error: unknown option '--bogus'$/m],
      [['nope'], /^kiteticker: error: unknown command 'nope'$/m],
      [['replay'], /^kiteticker: error: missing required argument 'file'$/m],
      [['record'], /^kiteticker: error: required option '-o, --out <file>' not specified$/m],
      [['stream', '--mode'], /^kiteticker: error: option '-m, --mode <mode>' argument missing$/m],
    ] as const) {
      const t = io();
      expect(await runCli(argv, t.io), argv.join(' ')).toBe(2);
      expect(t.err(), argv.join(' ')).toMatch(message);
      expect(t.err()).not.toMatch(/^error:/m);
    }
  });
});
