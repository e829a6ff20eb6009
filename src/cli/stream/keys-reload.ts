/**
 * `--keys-file` while running: the watcher (keys-file-watch.ts) reads the file on change and on
 * SIGHUP; this applies what changed to the running manager. A new token goes into the store the keys'
 * providers read, then `updateAccessToken` makes a refused or waiting key try it at once (not at the
 * provider's next 5 s poll). Keys added or removed are added to or removed from the manager (their
 * instruments move per the failover rules). Nothing here ends the run: a failure is a warning.
 */
import type { AccessTokenProvider, AccessTokenSource } from '../../connection/token-provider.js';
import { TokenProviderError } from '../../errors.js';
import type { ApiKeyCredential } from '../credentials.js';
import { diffKeys, KeysFileWatcher } from '../keys-file-watch.js';
import type { StreamContext } from './context.js';

/** What the watch needs of a command (stream's context fits; the relay builds one). */
export type KeysReloadContext = Pick<StreamContext, 'logger' | 'keys' | 'io' | 'disposers'> & {
  readonly config: { readonly service: boolean };
};

/** Tokens each key used most recently, kept as secrets to redact (older ones leave the list). */
const TOKENS_KEPT_PER_KEY = 4;

/** The keys' current tokens, read by their providers. */
export class TokenStore {
  readonly #tokens = new Map<string, string>();
  readonly #history = new Map<string, string[]>();
  readonly #secrets: string[];

  /** `secrets` is the context's list: tokens are added to it and old ones taken out again. */
  constructor(keys: readonly ApiKeyCredential[], secrets: string[]) {
    this.#secrets = secrets;
    for (const k of keys) this.set(k.id, k.accessToken);
  }

  set(id: string, token: string): void {
    this.#tokens.set(id, token);
    const seen = this.#history.get(id) ?? [];
    if (!seen.includes(token)) {
      seen.push(token);
      if (!this.#secrets.includes(token)) this.#secrets.push(token);
    }
    while (seen.length > TOKENS_KEPT_PER_KEY) this.#forget(seen.shift()!);
    this.#history.set(id, seen);
  }

  delete(id: string): void {
    this.#tokens.delete(id);
    for (const token of this.#history.get(id) ?? []) this.#forget(token);
    this.#history.delete(id);
  }

  current(id: string): string | undefined {
    return this.#tokens.get(id);
  }

  /** The provider of key `id`: its current token, or a typed error while it has none. */
  provider(id: string): AccessTokenProvider {
    return () => {
      const token = this.#tokens.get(id);
      if (token === undefined)
        throw new TokenProviderError(`no access token for ${JSON.stringify(id)} in the keys file`);
      return token;
    };
  }

  #forget(token: string): void {
    const i = this.#secrets.indexOf(token);
    if (i >= 0) this.#secrets.splice(i, 1);
  }
}

/**
 * What the keys file's changes are applied to: the stream's manager, or an HA instance (whose held
 * keys each have their own manager, and whose controller gains or loses keys).
 */
export interface KeysTarget {
  updateAccessToken(id: string, accessToken: string): Promise<void>;
  addApiKey(id: string, apiKey: string, accessToken: AccessTokenSource): Promise<void>;
  removeApiKey(id: string): Promise<void>;
}

/** Watches the keys file and applies its changes to `manager` until the run's disposers run. */
export function watchKeysFile(
  ctx: KeysReloadContext,
  path: string,
  manager: KeysTarget,
  store: TokenStore,
  report: (line: string) => void,
): KeysFileWatcher {
  // A service logs structured entries; a person reads lines (in the view, or on stderr).
  const log = (level: 'info' | 'warn', fields: object, msg: string): void => {
    if (ctx.config.service) ctx.logger[level](fields, msg);
    else report(level === 'warn' ? `warning: ${msg}` : msg);
  };
  let current: readonly ApiKeyCredential[] = ctx.keys;
  // One apply at a time, in file order: a rename storm never interleaves two diffs.
  let queue: Promise<void> = Promise.resolve();
  const apply = async (next: ApiKeyCredential[]): Promise<void> => {
    const diff = diffKeys(current, next);
    if (diff.added.length + diff.removed.length + diff.rotated.length === 0) return;
    const applied = new Map(current.map((k) => [k.id, k]));
    const warn = (what: string, error: unknown): void =>
      log('warn', { error: (error as Error).message }, `keys file: ${what}: ${(error as Error).message}`);
    for (const id of diff.removed) {
      try {
        await manager.removeApiKey(id);
        applied.delete(id);
        store.delete(id);
      } catch (error) {
        warn(`could not remove ${JSON.stringify(id)}`, error);
      }
    }
    for (const k of diff.rotated) {
      store.set(k.id, k.accessToken);
      applied.set(k.id, k);
      // Rejects only when a key that never started fails to start again: it waits for the next token.
      await manager.updateAccessToken(k.id, k.accessToken).catch((error: unknown) => {
        warn(`new token of ${JSON.stringify(k.id)} did not start it`, error);
      });
    }
    for (const k of diff.added) {
      store.set(k.id, k.accessToken);
      // Known to the logger before its sockets log anything: their entries name it by its id.
      applied.set(k.id, k);
      ctx.keys = [...applied.values()];
      try {
        await manager.addApiKey(k.id, k.apiKey, store.provider(k.id));
      } catch (error) {
        applied.delete(k.id);
        ctx.keys = [...applied.values()];
        store.delete(k.id);
        warn(`could not add ${JSON.stringify(k.id)}`, error);
      }
    }
    current = [...applied.values()];
    ctx.keys = current;
    const ids = (list: readonly string[]): string => (list.length === 0 ? '-' : list.join(', '));
    log(
      'info',
      { rotated: diff.rotated.map((k) => k.id), added: diff.added.map((k) => k.id), removed: diff.removed },
      `keys file applied: new token ${ids(diff.rotated.map((k) => k.id))}; added ${ids(diff.added.map((k) => k.id))}; removed ${ids(diff.removed)}`,
    );
  };
  const watcher = new KeysFileWatcher({
    path,
    onKeys: (keys) => {
      queue = queue.then(() => apply(keys)).catch(() => undefined);
    },
    onWarning: (message) => log('warn', { file: path }, `keys file: ${message}`),
  });
  watcher.start();
  const stopReload = ctx.io.onReload?.(() => {
    log('info', { file: path }, 'SIGHUP: re-reading the keys file');
    void watcher.reload();
  });
  ctx.disposers.push('keys file watch', () => {
    stopReload?.();
    watcher.close();
    return queue;
  });
  return watcher;
}
