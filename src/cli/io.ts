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
}

/** Stop requests from several sources (signals, --duration, a closed pipe), first one wins. */
export class StopRequest {
  private resolveStop!: (reason: string) => void;
  readonly promise: Promise<string>;
  reason: string | undefined;

  constructor() {
    this.promise = new Promise((resolve) => {
      this.resolveStop = resolve;
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
}
