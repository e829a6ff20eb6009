/**
 * The interoperability check: several official `kiteconnect` JS clients, each in its own child
 * process (the client keeps its socket in module globals), connect to the relay in front of the
 * simulator with overlapping instruments in different modes. Each must receive exactly its instruments
 * in its modes with the values the simulator sent; the simulator must see the union, each token once,
 * at the highest mode; clients leaving must shrink it (after the linger).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/protocol/constants.js';
import type { Tick } from '../../src/protocol/types.js';
import { canonical, type Rig, sentTicks, simHoldings, startRig, waitFor } from './relay-helpers.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const CHILD = `
import kiteconnect from 'kiteconnect';
const { root, id, token, subscribe, modes, ms } = JSON.parse(process.env.RELAY_TEST);
const ticker = new kiteconnect.KiteTicker({ api_key: id, access_token: token, root, reconnect: false });
const ticks = [];
const texts = [];
ticker.on('connect', () => {
  ticker.subscribe(subscribe);
  for (const [mode, tokens] of Object.entries(modes)) ticker.setMode(mode, tokens);
  process.stdout.write('"connected"\\n');
  setTimeout(() => process.stdout.write(JSON.stringify({ ticks, texts }) + '\\n', () => process.exit(0)), ms);
});
ticker.on('ticks', (batch) => ticks.push(...batch));
ticker.on('error', (e) => texts.push(String(e)));
setTimeout(() => process.exit(3), ms + 15000);
ticker.connect();
`;

interface Spec {
  id: string;
  token: string;
  want: Map<number, Mode>;
  ms: number;
}

interface Run {
  child: ChildProcess;
  connected: Promise<void>;
  result: Promise<{
    code: number | null;
    ticks: Array<Record<string, unknown>>;
    texts: string[];
    err: string;
  }>;
}

let rig: Rig | undefined;
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  await rig?.stop();
  rig = undefined;
});

function run(spec: Spec, url: string): Run {
  const modes: Record<string, number[]> = {};
  for (const [t, m] of spec.want) if (m !== 'quote') (modes[m] ??= []).push(t);
  const env = {
    root: `${url}/`,
    id: spec.id,
    token: spec.token,
    subscribe: [...spec.want.keys()],
    modes,
    ms: spec.ms,
  };
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    cwd: root,
    env: { ...process.env, RELAY_TEST: JSON.stringify(env) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((res) => {
    onConnected = res;
  });
  child.stdout!.on('data', (d) => {
    out += d;
    if (out.includes('"connected"')) onConnected();
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const result = new Promise<{
    code: number | null;
    ticks: Array<Record<string, unknown>>;
    texts: string[];
    err: string;
  }>((res) =>
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      const parsed = line
        ? (JSON.parse(line) as { ticks: Array<Record<string, unknown>>; texts: string[] })
        : { ticks: [], texts: [] };
      res({ code, ...parsed, err });
    }),
  );
  return { child, connected, result };
}

/** Our decoded tick in the official client's shape (see simulator-kiteconnect.test.ts). */
function officialShape(t: Tick): unknown {
  const { exchange: _e, net_change: _n, ...rest } = t as Tick & { net_change?: number };
  return JSON.parse(JSON.stringify(rest));
}

const RANK: Record<Mode, number> = { ltp: 0, quote: 1, full: 2 };

function union(specs: Spec[]): Map<number, Mode> {
  const out = new Map<number, Mode>();
  for (const s of specs) {
    for (const [t, m] of s.want) {
      const cur = out.get(t);
      if (!cur || RANK[m] > RANK[cur]) out.set(t, m);
    }
  }
  return out;
}

function holdsExactly(rigNow: Rig, expected: Map<number, Mode>): boolean {
  const h = simHoldings(rigNow.sim);
  if (h.size !== expected.size) return false;
  for (const [t, m] of expected) {
    const e = h.get(t);
    if (e?.count !== 1 || e.mode !== m) return false;
  }
  return true;
}

describe('relay with the official kiteconnect client', () => {
  it('relay - several kiteconnect clients get exactly their instruments in their modes, values as the simulator sent; upstream holds the union once at max mode and shrinks as they leave', async () => {
    rig = await startRig({ universeSize: 3000, ticksPerSecond: 5, batchIntervalMs: 50 });
    const u = rig.sim.instruments();
    const nifty = 256265;
    const sensex = 265;
    const eq = u.filter((i) => i.segment === 'NSE').map((i) => i.instrument_token);
    const cds = u.find((i) => i.exchange === 'CDS' && i.instrument_type === 'FUT')!.instrument_token;
    const [t1, t2, t3] = eq as [number, number, number];
    const specs: Spec[] = [
      {
        id: 'alpha',
        token: 'alpha-token-123',
        want: new Map<number, Mode>([
          [nifty, 'full'],
          [t1, 'full'],
          [t2, 'ltp'],
          [t3, 'quote'],
        ]),
        ms: 2500,
      },
      {
        id: 'beta',
        token: 'beta-token-456',
        want: new Map<number, Mode>([
          [nifty, 'ltp'],
          [t1, 'quote'],
          [t2, 'full'],
          [cds, 'quote'],
        ]),
        ms: 5000,
      },
      {
        id: 'gamma',
        token: 'gamma-token-789',
        want: new Map<number, Mode>([
          [sensex, 'quote'],
          [t2, 'quote'],
          [t3, 'ltp'],
          [cds, 'full'],
        ]),
        ms: 5000,
      },
    ];
    const runs = specs.map((s) => run(s, rig!.relay.url));
    await Promise.all(runs.map((r) => r.connected));

    // The union, each token once, at the max mode (t3's and nifty's lower modes do not lower it).
    await waitFor(() => holdsExactly(rig!, union(specs)), 8000, 'upstream union');

    // alpha leaves: the upstream shrinks to beta's and gamma's union after the linger.
    const alpha = await runs[0]!.result;
    await waitFor(() => holdsExactly(rig!, union(specs.slice(1))), 8000, 'upstream without alpha');
    const rest = await Promise.all(runs.slice(1).map((r) => r.result));
    await waitFor(() => simHoldings(rig!.sim).size === 0, 8000, 'upstream empty');

    const sent = sentTicks(rig.simFrames, officialShape);
    [alpha, ...rest].forEach((got, i) => {
      const spec = specs[i]!;
      expect(got.err, spec.id).toBe('');
      expect(got.code, spec.id).toBe(0);
      expect(got.texts, spec.id).toEqual([]);
      expect(got.ticks.length, spec.id).toBeGreaterThan(20);
      // Exactly its instruments.
      expect(new Set(got.ticks.map((t) => t.instrument_token)), spec.id).toEqual(new Set(spec.want.keys()));
      const last = new Map<number, Record<string, unknown>>();
      for (const t of got.ticks) {
        const token = t.instrument_token as number;
        // Its mode (or, before its mode command landed, the subscribe's quote).
        expect([spec.want.get(token), 'quote'], `${spec.id} ${token}`).toContain(t.mode);
        // A value the simulator sent, as it reads in that mode.
        expect(sent.has(canonical(t)), `${spec.id} ${token} ${JSON.stringify(t)}`).toBe(true);
        last.set(token, t);
      }
      for (const [token, mode] of spec.want) expect(last.get(token)!.mode, `${spec.id} ${token}`).toBe(mode);
    });
  }, 60_000);
});
