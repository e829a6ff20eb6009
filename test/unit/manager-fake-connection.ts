/** A TickerConnection with no socket, for manager unit tests. Records every command it receives. */
import { EventEmitter } from 'node:events';
import type {
  ConnectionStatus,
  KiteTickerEvents,
  KiteTickerOptions,
  StatusEvent,
  TickerConnection,
  TickerStats,
} from '../../src/connection/types.js';
import { AuthFailedError, closedError } from '../../src/errors.js';
import type { Mode } from '../../src/protocol/constants.js';

export type FakeCommand =
  | { op: 'subscribe'; tokens: number[]; mode: Mode | undefined }
  | { op: 'unsubscribe'; tokens: number[] }
  | { op: 'mode'; tokens: number[]; mode: Mode };

export class FakeConnection extends EventEmitter implements TickerConnection {
  status: ConnectionStatus = 'idle';
  readonly commands: FakeCommand[] = [];
  readonly subs = new Map<number, Mode>();
  accessToken: string;
  /** Set before connect() to make it fail with this error. */
  failWith: Error | undefined;
  /** Set to make connect() wait until released. */
  hold = false;
  frames = 0;
  closeCalls = 0;
  #release: (() => void) | undefined;
  #closed: Promise<StatusEvent & { status: 'closed' }>;
  #resolveClosed!: (event: StatusEvent & { status: 'closed' }) => void;

  constructor(
    readonly options: KiteTickerOptions,
    readonly index: number,
  ) {
    super();
    this.accessToken = typeof options.accessToken === 'string' ? options.accessToken : '';
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  async connect(signal?: AbortSignal): Promise<void> {
    if (this.status === 'closed') throw closedError('fake');
    this.setStatus('connecting');
    if (this.failWith) {
      const error = this.failWith;
      if (error instanceof AuthFailedError) this.setStatus('auth_failed');
      throw error;
    }
    if (this.hold) {
      await new Promise<void>((resolve, reject) => {
        this.#release = resolve;
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    this.setStatus('connected');
  }

  release(): void {
    this.#release?.();
  }

  async close(): Promise<void> {
    this.closeCalls++;
    if (this.status === 'closed') return;
    this.setStatus('closed');
    this.emit('status', { status: 'closed', reason: 'user' });
    this.#resolveClosed({ status: 'closed', reason: 'user' });
  }

  /** Simulates the connection giving up for good. */
  die(): void {
    this.setStatus('closed');
    this.emit('status', { status: 'closed', reason: 'reconnect_exhausted' });
  }

  setStatus(status: ConnectionStatus): void {
    this.status = status;
  }

  subscribe(tokens: readonly number[], mode?: Mode): void {
    if (this.status === 'closed') throw closedError('fake');
    this.commands.push({ op: 'subscribe', tokens: [...tokens], mode });
    for (const t of tokens) this.subs.set(t, mode ?? 'quote');
  }

  unsubscribe(tokens: readonly number[]): void {
    if (this.status === 'closed') throw closedError('fake');
    this.commands.push({ op: 'unsubscribe', tokens: [...tokens] });
    for (const t of tokens) this.subs.delete(t);
  }

  setMode(mode: Mode, tokens: readonly number[]): void {
    if (this.status === 'closed') throw closedError('fake');
    this.commands.push({ op: 'mode', tokens: [...tokens], mode });
    for (const t of tokens) if (this.subs.has(t)) this.subs.set(t, mode);
  }

  updateAccessToken(accessToken: string): void {
    this.accessToken = accessToken;
  }

  subscriptions(): ReadonlyMap<number, Mode> {
    return this.subs;
  }

  stats(): TickerStats {
    return {
      status: this.status,
      connected: this.status === 'connected',
      frames: this.frames,
      ticks: 0,
      bytes: 0,
      heartbeats: 0,
      textMessages: 0,
      protocolErrors: 0,
      reconnects: 0,
      lastFrameAgeMs: null,
      subscribed: this.subs.size,
      uptimeMs: 0,
    };
  }

  closed(): Promise<StatusEvent & { status: 'closed' }> {
    return this.#closed;
  }

  async *statuses(): AsyncIterable<StatusEvent> {}

  fire<E extends keyof KiteTickerEvents>(event: E, ...args: KiteTickerEvents[E]): void {
    if (event === 'ticks') this.frames++;
    this.emit(event, ...args);
  }
}

/** A factory that keeps every connection it made, in creation order. */
export function fakeFactory(): {
  made: FakeConnection[];
  create: (options: KiteTickerOptions, index: number) => FakeConnection;
  /** Applied to each connection as it is made (e.g. to make it fail). */
  prepare?: (conn: FakeConnection) => void;
} {
  const made: FakeConnection[] = [];
  const factory = {
    made,
    prepare: undefined as ((conn: FakeConnection) => void) | undefined,
    create: (options: KiteTickerOptions, index: number) => {
      const conn = new FakeConnection(options, index);
      factory.prepare?.(conn);
      made.push(conn);
      return conn;
    },
  };
  return factory;
}
