/**
 * What the HA controller drives: opening a key's Kite sockets when it takes the key's lease, changing
 * what the key subscribes, and closing them when the lease is fenced or released.
 *
 * `ManagerKeyHost` gives each held key its own one-key manager, so opening and closing a key never
 * touches another key's sockets, and a close can interrupt a start still connecting (fencing must not
 * wait for Kite). Its events ('ticks', 'status', 'order', 'error') are every held key's, so a sink or
 * a feed attaches to the host once, whichever keys come and go.
 */
import { EventEmitter } from 'node:events';
import type { AccessTokenSource } from '../connection/token-provider.js';
import { ApiKeyNotFoundError } from '../errors.js';
import { MultiApiKiteTickerManager, type MultiApiKiteTickerManagerBuilder } from '../manager/index.js';
import type { ManagerEvents, ManagerStats } from '../manager/types.js';
import type { Mode } from '../protocol/constants.js';

export interface HaKeyHost {
  /** Opens the key's sockets and subscribes `want` (token -> mode). */
  open(apiKeyId: string, want: ReadonlyMap<number, Mode>): Promise<void>;
  /** Makes an open key subscribe exactly `want`. */
  update(apiKeyId: string, want: ReadonlyMap<number, Mode>): Promise<void>;
  /** Closes the key's sockets (idempotent; interrupts an open in progress). */
  close(apiKeyId: string): Promise<void>;
}

export interface HaKeyCredential {
  id: string;
  apiKey: string;
  accessToken: AccessTokenSource;
}

export interface ManagerKeyHostOptions {
  keys: readonly HaKeyCredential[];
  /** Applies the shared options (url, limits, logger...) to each key's builder; keys are added here. */
  configure?: (builder: MultiApiKiteTickerManagerBuilder) => void;
}

type HostEvents = Pick<ManagerEvents, 'ticks' | 'status' | 'order' | 'error'>;
const FORWARDED = ['ticks', 'status', 'order', 'error'] as const;

export class ManagerKeyHost extends EventEmitter<HostEvents> implements HaKeyHost {
  readonly #keys: Map<string, HaKeyCredential>;
  readonly #configure: ((builder: MultiApiKiteTickerManagerBuilder) => void) | undefined;
  readonly #open = new Map<string, MultiApiKiteTickerManager>();
  /** Per open key: the tail of its start and subscription changes, which run one at a time. */
  readonly #queues = new Map<MultiApiKiteTickerManager, Promise<unknown>>();

  constructor(options: ManagerKeyHostOptions) {
    super();
    this.#keys = new Map(options.keys.map((k) => [k.id, k]));
    this.#configure = options.configure;
  }

  /** The manager of a held key (undefined while the key is not held here). */
  manager(apiKeyId: string): MultiApiKiteTickerManager | undefined {
    return this.#open.get(apiKeyId);
  }

  /** Stats of every key open here now. */
  stats(): ManagerStats[] {
    return [...this.#open.values()].map((m) => m.getStats());
  }

  /**
   * Adds a key this host may open, or replaces its credential (a new apiKey or token source): used
   * from the next open, so a standby takes the key with what it was last given. An open key keeps
   * its sockets; rotate its token through its manager's updateAccessToken.
   */
  setKey(key: HaKeyCredential): void {
    this.#keys.set(key.id, key);
  }

  /** Forgets a key (closing it first when open). */
  async removeKey(apiKeyId: string): Promise<void> {
    await this.close(apiKeyId);
    this.#keys.delete(apiKeyId);
  }

  async open(apiKeyId: string, want: ReadonlyMap<number, Mode>): Promise<void> {
    const key = this.#keys.get(apiKeyId);
    if (!key) throw new ApiKeyNotFoundError(apiKeyId);
    await this.close(apiKeyId);
    const builder = MultiApiKiteTickerManager.builder();
    this.#configure?.(builder);
    builder.addApiKey(key.id, key.apiKey, key.accessToken);
    const manager = builder.build();
    for (const event of FORWARDED) {
      manager.on(event, (...args: unknown[]) => {
        // 'error' only when someone listens here: never an unhandled 'error' event.
        if (event === 'error' && this.listenerCount('error') === 0) return;
        (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
      });
    }
    this.#open.set(apiKeyId, manager);
    // A close during start stops it, and start() then rejects with ERR_CLOSED.
    await this.#queued(manager, async () => {
      await manager.start();
      if (this.#open.get(apiKeyId) === manager) await apply(manager, want);
    });
  }

  async update(apiKeyId: string, want: ReadonlyMap<number, Mode>): Promise<void> {
    const manager = this.#open.get(apiKeyId);
    if (!manager) return;
    // After the start and any earlier change: each diff is computed against a settled state.
    await this.#queued(manager, async () => {
      if (this.#open.get(apiKeyId) === manager) await apply(manager, want);
    });
  }

  #queued(manager: MultiApiKiteTickerManager, task: () => Promise<void>): Promise<void> {
    const run = (this.#queues.get(manager) ?? Promise.resolve()).then(task, task);
    this.#queues.set(
      manager,
      run.catch(() => undefined),
    );
    return run;
  }

  async close(apiKeyId: string): Promise<void> {
    const manager = this.#open.get(apiKeyId);
    if (!manager) return;
    this.#open.delete(apiKeyId);
    await manager.stop();
    this.#queues.delete(manager);
  }

  /** Closes every open key. */
  async closeAll(): Promise<void> {
    await Promise.allSettled([...this.#open.keys()].map((id) => this.close(id)));
  }
}

/**
 * Unsubscribes what `want` lacks, then subscribes each mode's tokens (which also sets their mode).
 * Through subscribeSymbols (the manager has this one key): with waitForKeys, a key whose token is
 * refused keeps the instruments waiting and places them when a token works, rather than throwing.
 */
async function apply(manager: MultiApiKiteTickerManager, want: ReadonlyMap<number, Mode>): Promise<void> {
  const have = manager.getDesiredState();
  const gone = [...have.keys()].filter((t) => !want.has(t));
  if (gone.length > 0) await manager.unsubscribeSymbols(gone);
  const byMode = new Map<Mode, number[]>();
  for (const [token, mode] of want) {
    if (have.get(token)?.mode === mode) continue;
    const list = byMode.get(mode) ?? [];
    list.push(token);
    byMode.set(mode, list);
  }
  for (const [mode, tokens] of byMode) await manager.subscribeSymbols(tokens, mode);
}
