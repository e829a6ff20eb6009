/** What a command needs of its process, injected so commands can run in tests without a child. */
import type { Writable } from 'node:stream';
import type { TerminalLike } from './live-view.js';

export interface CliIo {
  stdout: TerminalLike & { isTTY?: boolean };
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /**
   * Registers a stop request handler (SIGINT/SIGTERM); returns a function that removes it.
   * Default in main.ts: process signals.
   */
  onStopSignal(handler: (signal: string) => void): () => void;
  /**
   * Registers a reload handler (SIGHUP: re-read the keys file); returns a function that removes it.
   * Optional: without it nothing reloads on request (the file is still watched).
   */
  onReload?(handler: () => void): () => void;
}

/**
 * After a stop request, how long stdout's reader gets to take what is queued. Kept well under the
 * 2 s in which SIGTERM must end the command (systemd and Kubernetes escalate to SIGKILL).
 */
export const STOP_FLUSH_MS = 1000;

/** Stop requests from several sources (signals, --duration, a closed pipe), first one wins. */
export class StopRequest {
  private resolveStop!: (reason: string) => void;
  private resolveSignal!: (signal: string) => void;
  readonly promise: Promise<string>;
  private readonly signalled: Promise<string>;
  reason: string | undefined;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolveStop = resolve;
    });
    this.signalled = new Promise((resolve) => {
      this.resolveSignal = resolve;
    });
  }

  request(reason: string): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.resolveStop(reason);
  }

  get requested(): boolean {
    return this.reason !== undefined;
  }

  /**
   * A stop by SIGTERM/SIGINT, which may come after another stop reason (a signal while the output
   * drains after `--duration`). A signal means "end now": see `afterSignal`.
   */
  signal(name: string): void {
    this.request(name);
    this.resolveSignal(name);
  }

  /**
   * Resolves `ms` after the first signal (never without one). Bounds the last waits of a command,
   * such as flushing stdout to a reader that never reads, so SIGTERM always ends it promptly, while a
   * stop by `--duration` still waits for a slow reader. The timer does not hold the process open.
   */
  afterSignal(ms: number): Promise<void> {
    return this.signalled.then(
      () =>
        new Promise<void>((resolve) => {
          setTimeout(resolve, ms).unref();
        }),
    );
  }
}
