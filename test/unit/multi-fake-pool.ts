/**
 * A socket-free stand-in for one key's pool (`KeyPool`), for the manager's unit tests: it keeps the
 * desired state per connection (filling connections in order), records every call, and lets a test
 * report statuses, ticks and order updates to its owner as the real pool would.
 */
import type { AccessTokenSource } from '../../src/connection/token-provider.js';
import { AuthFailedError, CapacityError } from '../../src/errors.js';
import type {
  KeyPool,
  ManagerHealth,
  PoolConfig,
  PoolFactory,
  PoolOwner,
  PoolStats,
} from '../../src/pool/types.js';
import type { Mode } from '../../src/protocol/constants.js';
import type { OrderUpdate, Tick } from '../../src/protocol/types.js';

/** The reports a test may send, by name (as the pool's owner receives them). */
type Reports = Omit<PoolOwner, 'frame' | 'undecoded'>;

export type PoolCall =
  | { op: 'subscribe'; tokens: number[]; mode: Mode }
  | { op: 'unsubscribe'; tokens: number[] }
  | { op: 'mode'; tokens: number[]; mode: Mode }
  | { op: 'token'; accessToken: string }
  | { op: 'start' }
  | { op: 'stop' };

export class FakePool implements KeyPool {
  readonly apiKey: string;
  accessToken: AccessTokenSource;
  readonly config: PoolConfig;
  readonly owner: PoolOwner;
  readonly calls: PoolCall[] = [];
  readonly conns: Map<number, Mode>[];
  readonly perConn: number;
  /** Make the next start() reject with an auth failure. */
  failStart = false;
  /** Make subscribeSymbols reject (to test rollback). */
  failSubscribe = false;
  /** Runs once a subscribe is applied, before the call returns (to deliver ticks that early). */
  beforeSubscribeReturns: ((tokens: readonly number[]) => void) | undefined;
  started = false;
  stopped = false;
  ticks = 0;
  messages = 0;
  reopens = 0;

  constructor(apiKey: string, accessToken: AccessTokenSource, config: PoolConfig, owner: PoolOwner) {
    this.apiKey = apiKey;
    this.owner = owner;
    this.accessToken = accessToken;
    this.config = config;
    this.perConn = config.maxSymbolsPerConnection ?? 3000;
    this.conns = Array.from({ length: config.maxConnections ?? 3 }, () => new Map<number, Mode>());
  }

  async start(): Promise<void> {
    this.calls.push({ op: 'start' });
    if (this.failStart) {
      this.emitStatus(0, { status: 'auth_failed', httpStatus: 403 });
      throw new AuthFailedError(403, this.apiKey);
    }
    this.started = true;
    this.emitStatus(0, { status: 'connecting', attempt: 1 });
    this.emitStatus(0, { status: 'connected', attempt: 1 });
  }

  async stop(): Promise<void> {
    this.calls.push({ op: 'stop' });
    this.stopped = true;
  }

  async subscribeSymbols(tokens: readonly number[], mode: Mode = 'quote'): Promise<void> {
    this.calls.push({ op: 'subscribe', tokens: [...tokens], mode });
    if (this.failSubscribe) throw new Error('fake subscribe failure');
    const fresh = tokens.filter((t) => !this.owns(t));
    if (fresh.length > this.availableCapacity())
      throw new CapacityError(fresh.length, this.availableCapacity(), 'fake');
    for (const t of tokens) {
      const conn = this.conns.find((c) => c.has(t)) ?? this.conns.find((c) => c.size < this.perConn)!;
      conn.set(t, mode);
    }
    this.beforeSubscribeReturns?.(tokens);
  }

  async unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    this.calls.push({ op: 'unsubscribe', tokens: [...tokens] });
    for (const t of tokens) for (const c of this.conns) c.delete(t);
  }

  async changeMode(tokens: readonly number[], mode: Mode): Promise<void> {
    this.calls.push({ op: 'mode', tokens: [...tokens], mode });
    for (const t of tokens) for (const c of this.conns) if (c.has(t)) c.set(t, mode);
  }

  updateAccessToken(accessToken: string): void {
    this.calls.push({ op: 'token', accessToken });
    this.accessToken = accessToken;
  }

  async reopen(): Promise<void> {
    this.reopens++;
  }

  getSymbolDistribution(): Map<number, Map<number, Mode>> {
    return new Map(this.conns.map((c, i) => [i, new Map(c)]));
  }

  getStats(): PoolStats {
    return {
      connections: [],
      activeConnections: this.started && !this.stopped ? 1 : 0,
      totalSymbols: this.size(),
      totalFrames: this.messages,
      totalTicks: this.ticks,
      totalBytes: 0,
      totalProtocolErrors: 0,
      totalReconnects: 0,
      unknownTokenDrops: 0,
    };
  }

  getHealth(): ManagerHealth {
    return { healthy: true, connections: [] };
  }

  availableCapacity(): number {
    return this.conns.length * this.perConn - this.size();
  }

  size(): number {
    return this.conns.reduce((n, c) => n + c.size, 0);
  }

  owns(token: number): boolean {
    return this.conns.some((c) => c.has(token));
  }

  tokens(): number[] {
    return this.conns.flatMap((c) => [...c.keys()]).sort((a, b) => a - b);
  }

  /** Reports to the owner, as the real pool does from its sockets' events. */
  emit<E extends keyof Reports>(event: E, ...args: Parameters<Reports[E]>): void {
    (this.owner[event] as (...a: Parameters<Reports[E]>) => void)(...args);
  }

  emitStatus(index: number, event: Parameters<PoolOwner['status']>[0]): void {
    this.emit('status', event, index);
  }

  emitTicks(index: number, ticks: Tick[]): void {
    this.ticks += ticks.length;
    this.messages++;
    this.emit('ticks', ticks, index);
  }

  emitOrder(index: number, order: OrderUpdate): void {
    this.messages++;
    this.emit('order', order, index);
  }
}

/** A factory that remembers every pool it made, by API key. */
export function fakeFactory(): { factory: PoolFactory; pools: Map<string, FakePool> } {
  const pools = new Map<string, FakePool>();
  const factory: PoolFactory = (apiKey, accessToken, config, owner) => {
    const pool = new FakePool(apiKey, accessToken, config, owner);
    pools.set(apiKey, pool);
    return pool;
  };
  return { factory, pools };
}

export function ltpTick(token: number, price = 100): Tick {
  return { mode: 'ltp', instrument_token: token, tradable: true, exchange: 'NSE', last_price: price };
}

export function order(id: string, status: string, extra: Partial<OrderUpdate> = {}): OrderUpdate {
  return {
    order_id: id,
    exchange_order_id: null,
    parent_order_id: null,
    status,
    status_message: null,
    status_message_raw: null,
    order_timestamp: '2024-01-01 09:15:00',
    exchange_update_timestamp: '2024-01-01 09:15:01',
    exchange_timestamp: null,
    variety: 'regular',
    exchange: 'NSE',
    tradingsymbol: 'INFY',
    instrument_token: 408065,
    order_type: 'MARKET',
    transaction_type: 'BUY',
    validity: 'DAY',
    product: 'CNC',
    quantity: 1,
    disclosed_quantity: 0,
    price: 0,
    trigger_price: 0,
    average_price: 0,
    filled_quantity: 0,
    pending_quantity: 1,
    cancelled_quantity: 0,
    ...extra,
  };
}
