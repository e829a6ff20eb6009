#!/usr/bin/env node
/**
 * Entry point of the `kiteticker` command. Only this file touches the process: signals and the exit
 * code. A first Ctrl-C stops gracefully (summary included); a second one exits at once.
 */
import { backstopExit } from './backstop.js';
import { runCli } from './program.js';

// A reader that goes away (`kiteticker --help | head`) must not end in a stack trace. Commands that
// stream handle this themselves (they stop and print their summary); for everything else, such as
// help text, a closed pipe simply ends the process quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (stream.listenerCount('error') > 1) return;
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    throw err;
  });
}

/**
 * After SIGTERM/SIGINT the command must be gone within 2 s whatever its reader does (systemd and
 * Kubernetes send SIGKILL next). The commands bound their own last waits (see STOP_FLUSH_MS); this is
 * the backstop should something else hang.
 */
const STOP_DEADLINE_MS = 2000;

let signals = 0;
const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  onStopSignal(handler) {
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        // Forced: give the cursor back in case the live view hid it.
        if (process.stdout.isTTY) process.stdout.write('\x1b[?25h\n');
        process.exit(130);
      }
      // A stop by signal exits 0 (the documented code), the backstop included.
      setTimeout(() => {
        process.stderr.write(
          `kiteticker: still stopping ${STOP_DEADLINE_MS / 1000} s after ${signal}; exiting\n`,
        );
        // Not plain process.exit: a thread-pool write stuck on a full pipe would hold it (backstop.ts).
        backstopExit(typeof process.exitCode === 'number' ? process.exitCode : 0);
      }, STOP_DEADLINE_MS).unref();
      handler(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    return () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    };
  },
  onReload(handler) {
    const onHup = (): void => handler();
    process.on('SIGHUP', onHup);
    return () => process.off('SIGHUP', onHup);
  },
});
process.exitCode = code;
// Output the reader did not take by the command's deadline would hold the process open for as long
// as the reader is alive (a full pipe never drains): leave it, now.
if (process.stdout.writableLength > 0 && !process.stdout.isTTY) process.exit(code);
// Everything is closed by now; should a stray handle keep the loop alive, do not hang the shell.
setTimeout(() => process.exit(code), 2000).unref();
