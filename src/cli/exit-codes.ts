/**
 * Exit codes of the `kiteticker` command, and the one error type that means "the user asked for
 * something we cannot do" (exit 2) as opposed to "it went wrong while running" (exit 1).
 */
import { InvalidArgumentError, InvalidTokenError } from '../errors.js';

export const ExitCode = {
  /** Finished normally (including Ctrl-C/SIGTERM and `--duration` running out). */
  Ok: 0,
  /** A runtime failure: could not connect, authentication refused, a file could not be written... */
  Runtime: 1,
  /** A usage error: bad flag or value, unknown symbol, unreadable input file. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Bad user input detected by the CLI itself (exit code 2). */
export class UsageError extends InvalidArgumentError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** Bad input (ours or the library's argument checks) is a usage error; anything else is a runtime failure. */
export function exitCodeOf(error: unknown): ExitCode {
  return error instanceof InvalidArgumentError || error instanceof InvalidTokenError
    ? ExitCode.Usage
    : ExitCode.Runtime;
}
