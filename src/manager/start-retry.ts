/**
 * A key whose start failed while its token comes from a provider is not left for dead. Once the pool's
 * start has failed its sockets are closed, so no connection is left to ask the provider again; without
 * this, a service started before the morning login (a keys file still holding yesterday's token, a
 * vault not up yet) would never use that key until someone called updateAccessToken. Here the provider
 * is asked every `intervalMs` (never two calls at once; each answer waited for at most `timeoutMs`,
 * outside the manager's queue, so a hanging provider holds up no subscribe), and when it gives a token
 * the key's start is tried again. A provider that fails is reported once per attempt, never in a loop.
 */
import { type AccessTokenProvider, callProvider } from '../connection/token-provider.js';

export interface StartRetryHost {
  /** False once the manager is stopping or stopped: attempts end. */
  running(): boolean;
  /** Starts the key's pool again (queued with the other mutations); rejects when that fails. */
  restart(): Promise<void>;
  /** True once the key has started (by this retry or by updateAccessToken). */
  started(): boolean;
  /** A provider failure (the restart's own failures are reported by its connections). */
  report(error: unknown): void;
  /** Secrets to strip from a provider's error message. */
  secrets(): string[];
}

export class StartRetry {
  readonly #provider: AccessTokenProvider;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #host: StartRetryHost;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** A provider call not settled yet (it may outlive its timeout): no second one meanwhile. */
  #asking = false;
  #closed = false;

  constructor(provider: AccessTokenProvider, intervalMs: number, timeoutMs: number, host: StartRetryHost) {
    this.#provider = provider;
    this.#intervalMs = intervalMs;
    this.#timeoutMs = timeoutMs;
    this.#host = host;
  }

  /** Plans the next attempt (one at a time). */
  schedule(): void {
    if (this.#closed || this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#attempt();
    }, this.#intervalMs);
    // A key waiting for its token must not keep the host process alive on its own.
    this.#timer.unref?.();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  async #attempt(): Promise<void> {
    if (!this.#live()) return;
    if (this.#asking) {
      this.schedule();
      return;
    }
    this.#asking = true;
    const result = await callProvider(this.#provider, this.#timeoutMs, this.#host.secrets(), () => {
      this.#asking = false;
    });
    if (!this.#live()) return;
    if (!result.ok) {
      this.#host.report(result.error);
      this.schedule();
      return;
    }
    try {
      await this.#host.restart();
    } catch {
      // Reported by the key's connections (a 403, a timeout); the next attempt asks the provider again.
    }
    if (this.#live()) this.schedule();
  }

  #live(): boolean {
    return !this.#closed && this.#host.running() && !this.#host.started();
  }
}
