/** A `CliIo` whose stdout and stderr are collected in memory: runs a command in-process in a test. */
import { PassThrough } from 'node:stream';

export function memoryIo(env: NodeJS.ProcessEnv = {}) {
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
