/**
 * What the relay spends per upstream frame (issue 17, BENCHMARKS.md "Relay"): it decodes no ticks,
 * and a client's frames of one event-loop turn leave in one socket write.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeTicks } from '../../src/protocol/encode.js';
import { FrameView } from '../../src/protocol/frame-view.js';
import type { Tick } from '../../src/protocol/types.js';
import type { RelayManager } from '../../src/relay/options.js';
import { connect, type Rig, startRig, type TestClient, waitFor } from './relay-helpers.js';

let rig: Rig | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.ws.terminate();
  await rig?.stop();
  rig = undefined;
});

/** An upstream the test drives: frames are emitted when the test says so, subscriptions recorded. */
class ScriptedManager extends EventEmitter {
  readonly held = new Set<number>();
  async subscribeSymbols(tokens: readonly number[]): Promise<void> {
    for (const t of tokens) this.held.add(t);
  }
  async unsubscribeSymbols(tokens: readonly number[]): Promise<void> {
    for (const t of tokens) this.held.delete(t);
  }
  async changeMode(): Promise<void> {}
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async updateAccessToken(): Promise<void> {}
  getStats(): unknown {
    return {};
  }
}

const full = (token: number, price: number): Tick =>
  ({
    mode: 'full',
    instrument_token: token,
    tradable: true,
    exchange: 'NSE',
    last_price: price,
    last_traded_quantity: 1,
    average_traded_price: price,
    volume_traded: 10,
    total_buy_quantity: 5,
    total_sell_quantity: 5,
    ohlc: { open: price, high: price, low: price, close: price },
    change: 0,
    last_trade_time: new Date(1_700_000_000_000),
    exchange_timestamp: new Date(1_700_000_000_000),
    oi: 0,
    oi_day_high: 0,
    oi_day_low: 0,
    depth: {
      buy: Array.from({ length: 5 }, () => ({ quantity: 1, price, orders: 1 })),
      sell: Array.from({ length: 5 }, () => ({ quantity: 1, price, orders: 1 })),
    },
  }) as Tick;

describe('relay cost', () => {
  it('relay cost - the upstream decodes no tick objects: frames are forwarded without ever being decoded', async () => {
    const toTicks = vi.spyOn(FrameView.prototype, 'toTicks');
    const tick = vi.spyOn(FrameView.prototype, 'tick');
    rig = await startRig();
    const c = await connect(rig.relay.url, 'alpha', 'alpha-token-123');
    clients.push(c);
    const tokens = rig.sim
      .instruments()
      .slice(0, 20)
      .map((i) => i.instrument_token);
    c.send({ a: 'subscribe', v: tokens });
    await waitFor(() => c.frames.length >= 5, 8000, 'frames through the relay');
    expect(toTicks).not.toHaveBeenCalled();
    expect(tick).not.toHaveBeenCalled();
  });

  it("relay cost - a client's frames of one turn leave in one socket write, each still its own message", async () => {
    const up = new ScriptedManager();
    rig = await startRig({}, {}, () => up as unknown as RelayManager);
    const c = await connect(rig.relay.url, 'alpha', 'alpha-token-123');
    clients.push(c);
    c.send({ a: 'subscribe', v: [101, 102] });
    c.send({ a: 'mode', v: ['full', [101, 102]] });
    await waitFor(() => up.held.has(101) && up.held.has(102), 8000, 'the upstream subscribe');
    await new Promise((r) => setTimeout(r, 50));
    const frames = [1, 2, 3, 4, 5].map((n) => encodeTicks([full(101, n), full(102, n * 10)]));
    // Every socket write of this process from here on (the client sends nothing meanwhile).
    const proto = Socket.prototype as unknown as Record<'_write' | '_writev', (...a: unknown[]) => unknown>;
    const writes = [vi.spyOn(proto, '_write'), vi.spyOn(proto, '_writev')];
    for (const f of frames) up.emit('frame', f, 'k1', 0);
    await waitFor(() => c.frames.length >= frames.length, 8000, 'the five frames');
    const calls = writes.reduce((n, w) => n + w.mock.calls.length, 0);
    expect(calls).toBe(1);
    expect(c.frames.map((f) => Buffer.from(f).toString('hex'))).toEqual(
      frames.map((f) => Buffer.from(f).toString('hex')),
    );
  });
});
