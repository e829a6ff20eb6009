import { describe, expect, it } from 'vitest';
import type { KiteServerConnection } from '../../src/kite-server/connection.js';
import type { Mode } from '../../src/protocol/constants.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { encodeTicks } from '../../src/protocol/encode.js';
import type { RelayClient } from '../../src/relay/clients.js';
import { Dispatcher } from '../../src/relay/dispatch.js';
import { Interest } from '../../src/relay/interest.js';
import { rankOf } from '../../src/relay/modes.js';
import { RelaySession } from '../../src/relay/session.js';
import { KiteSimulator } from '../../src/simulator/server.js';

const sim = new KiteSimulator({ universeSize: 500, seed: 7 });
const universe = sim.instruments();
const index = universe.filter((i) => i.segment === 'INDICES').slice(0, 3);
const tradable = universe.filter((i) => i.segment !== 'INDICES').slice(0, 6);
const tokens = [...index, ...tradable].map((i) => i.instrument_token);

function ticks(mode: Mode, only: readonly number[] = tokens) {
  return only.map((t) => sim.snapshot(t, mode)!);
}

let nextId = 1;
function session(): RelaySession {
  const conn = { id: nextId++ } as unknown as KiteServerConnection;
  return new RelaySession(conn, { id: 'c' } as RelayClient);
}

function setup(wants: Array<Map<number, Mode>>) {
  const interest = new Interest<RelaySession>();
  const sessions = wants.map(() => session());
  wants.forEach((m, i) => {
    for (const [t, mode] of m) interest.set(t, sessions[i]!, rankOf(mode));
  });
  const got = new Map<RelaySession, Uint8Array[]>();
  const d = new Dispatcher(interest, (s, f) => {
    got.set(s, [...(got.get(s) ?? []), f]);
  });
  return { sessions, got, d };
}

describe('relay downgrading', () => {
  it('relay - ltp and quote clients get the bytes the codec encodes in their mode from a full upstream frame', () => {
    expect(index.length).toBe(3);
    const all = (mode: Mode) => new Map(tokens.map((t) => [t, mode]));
    const { sessions, got, d } = setup([all('ltp'), all('quote'), all('full')]);
    const upstream = encodeTicks(ticks('full'));
    d.onFrame(upstream);
    expect(Buffer.from(got.get(sessions[0]!)![0]!)).toEqual(Buffer.from(encodeTicks(ticks('ltp'))));
    expect(Buffer.from(got.get(sessions[1]!)![0]!)).toEqual(Buffer.from(encodeTicks(ticks('quote'))));
    // The full client takes the upstream frame itself: nothing copied.
    expect(got.get(sessions[2]!)![0]).toBe(upstream);
  });

  it('relay - a client with a subset in mixed modes gets exactly its packets, each cut to its mode', () => {
    const want = new Map<number, Mode>([
      [index[0]!.instrument_token, 'quote'],
      [index[1]!.instrument_token, 'ltp'],
      [tradable[0]!.instrument_token, 'ltp'],
      [tradable[2]!.instrument_token, 'quote'],
      [tradable[3]!.instrument_token, 'full'],
    ]);
    const { sessions, got, d } = setup([want]);
    d.onFrame(encodeTicks(ticks('full')));
    const expected = encodeTicks(
      tokens.filter((t) => want.has(t)).map((t) => sim.snapshot(t, want.get(t)!)!),
    );
    expect(Buffer.from(got.get(sessions[0]!)![0]!)).toEqual(Buffer.from(expected));
    expect(decodeFrame(got.get(sessions[0]!)![0]!).map((t) => t.mode)).toEqual([
      'quote',
      'ltp',
      'ltp',
      'quote',
      'full',
    ]);
  });

  it('relay - a packet below the mode a client wants is held back from it (never padded, never sent as a lower mode)', () => {
    const full = new Map(tokens.map((t) => [t, 'full' as Mode]));
    const quote = new Map(tokens.map((t) => [t, 'quote' as Mode]));
    // The first token is wanted in full by the first client only: its quote packet waits for the upstream raise.
    full.delete(tokens[1]!);
    const { sessions, got, d } = setup([full, quote]);
    const upstream = encodeTicks(ticks('quote'));
    d.onFrame(upstream);
    expect(got.get(sessions[1]!)![0]).toBe(upstream);
    const first = got.get(sessions[0]!)?.[0];
    // Only the token it wants at quote or lower (none: it wants full or nothing) would reach the full client.
    expect(first).toBeUndefined();
    d.onFrame(encodeTicks(ticks('full')));
    expect(got.get(sessions[0]!)).toHaveLength(1);
  });

  it('relay - clients taking a whole frame in one mode share one frame built once per mode', () => {
    const quote = () => new Map(tokens.map((t) => [t, 'quote' as Mode]));
    const { sessions, got, d } = setup([quote(), quote(), quote()]);
    d.onFrame(encodeTicks(ticks('full')));
    const frames = sessions.map((s) => got.get(s)![0]);
    expect(frames[1]).toBe(frames[0]);
    expect(frames[2]).toBe(frames[0]);
  });

  it('relay - tokens nobody wants, heartbeats and a truncated frame reach no client', () => {
    const { got, d } = setup([new Map([[tokens[0]!, 'full' as Mode]])]);
    d.onFrame(encodeTicks(ticks('full', tokens.slice(1))));
    d.onFrame(Uint8Array.of(0));
    const frame = encodeTicks(ticks('full'));
    d.onFrame(frame.subarray(0, frame.byteLength - 1));
    expect(got.size).toBe(0);
    expect(d.malformed).toBe(1);
  });
});
