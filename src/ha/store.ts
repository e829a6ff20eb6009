/**
 * A group's bucket (`KITE_HA_<GROUP>`, JetStream KV, history 1, max age = the cleanup TTL) and the
 * few operations the lease protocol uses. Leases are only ever written with create() (no entry, or a
 * deleted one) or a revision-checked update(), and released with a revision-checked delete(): two
 * instances can never both believe a write of theirs made them the holder.
 *
 * `@nats-io/kv` is an optional peer dependency, loaded on first use.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { ConnectionError, InvalidArgumentError, KiteTickerError } from '../errors.js';
import { bucketName } from './names.js';

type KvModule = typeof import('@nats-io/kv');
type KvBucket = Awaited<ReturnType<InstanceType<KvModule['Kvm']>['create']>>;

/** One entry as read: `value` undefined for a deleted or purged one. */
export interface StoreEntry {
  key: string;
  revision: number;
  value: Uint8Array | undefined;
}

export interface StoreOptions {
  /** Max age of every entry, in ms. */
  cleanupMs: number;
  /** Replicas of the bucket's stream (1, 3 or 5). Default 1. */
  replicas?: number;
  /** Default 'file': leases survive a NATS restart. */
  storage?: 'file' | 'memory';
  /** Each request gives up after this long. */
  timeoutMs: number;
  /** Opening (creating) the bucket is retried after timeouts until this long has passed. Default 15 s. */
  openTimeoutMs?: number;
}

const OPEN_TIMEOUT_MS = 15_000;
/** A listing may take this many request timeouts (it is a consumer: create, then deliver). */
const LIST_TIMEOUTS = 4;

async function loadKv(): Promise<KvModule> {
  try {
    return await import('@nats-io/kv');
  } catch (cause) {
    throw new InvalidArgumentError(
      'high availability needs the packages @nats-io/kv and @nats-io/jetstream (npm i @nats-io/kv @nats-io/jetstream)',
      { cause },
    );
  }
}

export class LeaseStore {
  readonly bucket: string;
  readonly #kv: KvBucket;
  readonly #timeoutMs: number;

  private constructor(bucket: string, kv: KvBucket, timeoutMs: number) {
    this.bucket = bucket;
    this.#kv = kv;
    this.#timeoutMs = timeoutMs;
    // Reads go to the stream's leader, not "direct" to any replica: a replica that lags (it missed
    // the last writes while the leader was lost, and catches up later) answers with an old revision,
    // every revision-checked write based on it is refused as a conflict, and a standby could keep
    // failing to take a lapsed or released lease, silently, for as long as that replica lags.
    const handle = kv as unknown as { direct?: boolean };
    if (handle.direct === true) handle.direct = false;
  }

  /** Opens the group's bucket, creating it when missing (an existing one is used as it is). */
  static async open(nc: NatsConnection, group: string, options: StoreOptions): Promise<LeaseStore> {
    const name = bucketName(group);
    const [kvm, js] = await Promise.all([loadKv(), import('@nats-io/jetstream')]);
    const client = js.jetstream(nc, { timeout: options.timeoutMs });
    const config = {
      history: 1,
      ttl: options.cleanupMs,
      replicas: options.replicas ?? 1,
      storage: options.storage === 'memory' ? js.StorageType.Memory : js.StorageType.File,
    };
    // Creating a replicated bucket forms a raft group on the cluster: on a busy one that takes longer
    // than a lease operation may (timeoutMs). The server goes on creating it after the client timed
    // out, and create() of an existing bucket with the same config only reads it: so try again, until
    // openTimeoutMs has passed.
    const deadline = performance.now() + (options.openTimeoutMs ?? OPEN_TIMEOUT_MS);
    for (;;) {
      try {
        const kv = await new kvm.Kvm(client).create(name, config);
        return new LeaseStore(name, kv, options.timeoutMs);
      } catch (error) {
        if (!(isTimeout(error) || isCreateRace(error)) || performance.now() >= deadline) {
          throw wrap(error, `cannot open the high-availability bucket ${name}`);
        }
        // Another instance is creating the same bucket right now: give it a moment, then read it.
        if (isCreateRace(error)) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** Opens an existing bucket only (for status): rejects with ConnectionError when there is none. */
  static async openExisting(nc: NatsConnection, group: string, timeoutMs: number): Promise<LeaseStore> {
    const name = bucketName(group);
    const [kvm, js] = await Promise.all([loadKv(), import('@nats-io/jetstream')]);
    try {
      const kv = await new kvm.Kvm(js.jetstream(nc, { timeout: timeoutMs })).open(name);
      await kv.status();
      return new LeaseStore(name, kv, timeoutMs);
    } catch (error) {
      throw wrap(error, `cannot open the high-availability bucket ${name}`);
    }
  }

  async get(key: string): Promise<StoreEntry | undefined> {
    try {
      const e = await this.#bounded(this.#kv.get(key), `read ${key}`);
      if (e === null) return undefined;
      return { key, revision: e.revision, value: e.operation === 'PUT' ? e.value : undefined };
    } catch (error) {
      throw wrap(error, `cannot read ${key}`);
    }
  }

  /** Writes `key` only if it has no live entry. Returns the new revision. */
  async create(key: string, data: Uint8Array): Promise<number> {
    try {
      return await this.#bounded(this.#kv.create(key, data), `create ${key}`);
    } catch (error) {
      throw wrap(error, `cannot create ${key}`);
    }
  }

  /** Writes `key` only if its revision is still `revision`. Returns the new revision. */
  async update(key: string, data: Uint8Array, revision: number): Promise<number> {
    try {
      return await this.#bounded(this.#kv.update(key, data, revision, this.#timeoutMs), `update ${key}`);
    } catch (error) {
      throw wrap(error, `cannot update ${key}`);
    }
  }

  /** Deletes `key` only if its revision is still `revision`. */
  async delete(key: string, revision: number): Promise<void> {
    try {
      await this.#bounded(this.#kv.delete(key, { previousSeq: revision }), `delete ${key}`);
    } catch (error) {
      throw wrap(error, `cannot delete ${key}`);
    }
  }

  /** Unconditional write: only for records one instance alone writes (its member record, its wants). */
  async put(key: string, data: Uint8Array): Promise<number> {
    try {
      return await this.#bounded(this.#kv.put(key, data, { timeout: this.#timeoutMs }), `write ${key}`);
    } catch (error) {
      throw wrap(error, `cannot write ${key}`);
    }
  }

  /** Unconditional delete (an instance's own member record). */
  async remove(key: string): Promise<void> {
    try {
      await this.#bounded(this.#kv.delete(key), `delete ${key}`);
    } catch (error) {
      throw wrap(error, `cannot delete ${key}`);
    }
  }

  /**
   * Calls `onChange` for every later write or delete under `prefix.`: only a hint that something
   * changed (nats-server 2.9 sends nothing when max age removes an entry, so no decision rests on it).
   * Returns the function that stops watching.
   */
  async watch(prefix: string, onChange: (key: string, deleted: boolean) => void): Promise<() => void> {
    try {
      const iterator = await this.#kv.watch({ key: `${prefix}.>`, include: 'updates' });
      void (async () => {
        for await (const e of iterator) onChange(e.key, e.operation !== 'PUT');
      })().catch(() => undefined);
      return () => iterator.stop();
    } catch (error) {
      throw wrap(error, `cannot watch ${prefix} entries`);
    }
  }

  /**
   * Every operation gives up after one request timeout here, whatever the client does underneath:
   * create() of a deleted entry is two requests, and a request sent while the stream elects a new
   * leader may get no answer at all. A poll waiting on it would take no lease meanwhile.
   */
  async #bounded<T>(operation: Promise<T>, what: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // Twice the timeout: the client's own timeout (a TimeoutError) normally comes first.
    const bound = this.#timeoutMs * 2;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectionError(`cannot ${what}: timeout (no answer after ${bound} ms)`)),
        bound,
      );
    });
    try {
      return await Promise.race([operation, late]);
    } finally {
      clearTimeout(timer);
      // A late rejection of the abandoned operation must not be unhandled.
      operation.catch(() => undefined);
    }
  }

  /** The keys under `prefix.` (e.g. 'member'), live ones only, each once. */
  async keysUnder(prefix: string): Promise<string[]> {
    let iterator: Awaited<ReturnType<KvBucket['keys']>> | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      iterator = await this.#kv.keys(`${prefix}.>`);
      const keys = iterator;
      // A Set: the listing is a consumer that also delivers writes made while it runs, so a member
      // rewriting its record meanwhile (every renewMs) would be listed twice.
      const listing = (async () => {
        const out = new Set<string>();
        for await (const k of keys) out.add(k);
        return [...out];
      })();
      // Unlike a request, the listing has no timeout of its own: it ends when the consumer says
      // nothing is pending, or after its 5 s idle heartbeat, and writes arriving meanwhile keep it
      // going. A poll waiting on it takes no lease, so it is bounded like the other operations.
      const bound = this.#timeoutMs * LIST_TIMEOUTS;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new ConnectionError(`cannot list ${prefix} entries: timeout (no end after ${bound} ms)`)),
          bound,
        );
      });
      return await Promise.race([listing, late]);
    } catch (error) {
      iterator?.stop();
      throw wrap(error, `cannot list ${prefix} entries`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The server refused a write because the entry changed since the revision we gave (someone else wrote). */
export function isRevisionConflict(error: unknown): boolean {
  const cause = error instanceof KiteTickerError ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 10071 || code === 10164;
}

/** A request that got no answer in time (the NATS client's TimeoutError). */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || /timeout/i.test(error.message));
}

/**
 * Two instances creating the same bucket at once: nats-server 2.9 can refuse the second stream create
 * with "subjects overlap" while the first is still being set up (seen in the test suite). Once the
 * first is in place, create() of the same config just reads it.
 */
function isCreateRace(error: unknown): boolean {
  return error instanceof Error && /subjects overlap/i.test(error.message);
}

function wrap(error: unknown, what: string): KiteTickerError {
  if (error instanceof KiteTickerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new ConnectionError(`${what}: ${detail}`, { cause: error });
}
