/**
 * The structured fuzzer (`npm run fuzz:structured`, CI: test/unit/fuzz-structured.test.ts and
 * test/integration/fuzz-structured-*.test.ts). Where fuzz-core.ts sends random bytes, this sends what an
 * attacker would: values nested thousands deep, huge strings, odd types and prototype keys in every
 * field of the server's order/error/message frames and of the client's commands, malformed upgrade
 * requests and connection storms. Three targets:
 *  - client text path: parseTextMessage, then every accepted order through an OrderDeduplicator;
 *  - a real KiteTickerManager fed by the simulator's injectFrame over a loopback socket;
 *  - the simulator, over real sockets on 127.0.0.1 port 0.
 * Every runner counts per category and returns failure counters that must all be 0.
 */
import { connect as netConnect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { OrderDeduplicator } from '../../src/delivery/order-dedupe.js';
import { KiteTickerManager } from '../../src/manager/index.js';
import { parseTextMessage } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo } from '../../src/protocol/types.js';
import { KiteSimulator } from '../../src/simulator/server.js';
import type { FuzzFailure } from './fuzz-core.js';
import {
  COMMAND_TARGETS,
  type CommandTarget,
  commandIsValid,
  FRAME_TARGETS,
  type FrameTarget,
  HOSTILE_KINDS,
  type HostileKind,
  type HostileLimits,
  hostileCommand,
  hostileFrame,
  hostileValue,
  junkUpgrades,
} from './hostile.js';
import { createRng, type Rng } from './rng.js';

/** Longest protocol-error detail we accept: a report must not carry the attacker's megabytes along. */
const MAX_DETAIL = 1024;
/** Longest error text the simulator may answer a command with. */
const MAX_REPLY = 300;

export const CI_LIMITS: HostileLimits = { minDepth: 1000, maxDepth: 20_000, maxString: 100_000 };
export const LONG_LIMITS: HostileLimits = { minDepth: 1000, maxDepth: 50_000, maxString: 1_000_000 };

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function excerpt(text: string): string {
  return text.length > 160 ? `${text.slice(0, 160)}... (${text.length} chars)` : text;
}

function polluted(): boolean {
  const proto = Object.prototype as Record<string, unknown>;
  if (proto.polluted === undefined) return false;
  delete proto.polluted;
  return true;
}

/** Counts what escapes to the process (the CLI keeps running; vitest also reports them itself). */
function captureUncaught(): { readonly count: number; messages: string[]; dispose(): void } {
  const messages: string[] = [];
  const onError = (err: unknown): void => {
    messages.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    get count() {
      return messages.length;
    },
    messages,
    dispose() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

function pickValue(rng: Rng, limits: HostileLimits, kinds: Record<string, number>): () => string {
  return () => {
    const kind: HostileKind = rng.pick(HOSTILE_KINDS);
    bump(kinds, kind);
    return hostileValue(rng, kind, limits);
  };
}

// ---------------------------------------------------------------- client text path (synchronous)

export interface StructuredTextResult {
  frames: number;
  byTarget: Record<string, number>;
  byKind: Record<string, number>;
  byOrderField: Record<string, number>;
  outcomes: Record<string, number>;
  ordersChecked: number;
  /** Everything below must be 0. */
  throws: number;
  unreported: number;
  malformed: number;
  pollution: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

/** Hostile server text frames through parseTextMessage, and the orders it accepts through the de-duplicator. */
export function runStructuredTextFuzz(options: {
  frames: number;
  seed: number;
  limits?: HostileLimits;
}): StructuredTextResult {
  const rng = createRng(options.seed);
  const limits = options.limits ?? CI_LIMITS;
  const r: StructuredTextResult = {
    frames: 0,
    byTarget: {},
    byKind: {},
    byOrderField: {},
    outcomes: {},
    ordersChecked: 0,
    throws: 0,
    unreported: 0,
    malformed: 0,
    pollution: 0,
    failures: [],
    elapsedMs: 0,
  };
  const fail = (index: number, what: string, input: string): void => {
    if (r.failures.length < 10) r.failures.push({ index, what, input: excerpt(input) });
  };
  const value = pickValue(rng, limits, r.byKind);
  const dedupe = new OrderDeduplicator({ maxEntries: 1000 });
  let reports = 0;
  let badReport = '';
  const onError = (info: ProtocolErrorInfo): void => {
    reports++;
    bump(r.outcomes, `reported:${String(info.kind)}`);
    if (typeof info.kind !== 'string' || typeof info.detail !== 'string') badReport = 'no kind or detail';
    else if (info.detail.length > MAX_DETAIL) badReport = `detail of ${info.detail.length} chars`;
  };
  const started = performance.now();
  for (let i = 0; i < options.frames; i++) {
    const target: FrameTarget = rng.pick(FRAME_TARGETS);
    const { text, field } = hostileFrame(rng, target, value);
    r.frames++;
    bump(r.byTarget, target);
    if (field !== undefined) bump(r.byOrderField, field);
    reports = 0;
    badReport = '';
    let message: ReturnType<typeof parseTextMessage>;
    try {
      message = parseTextMessage(text, onError);
    } catch (error) {
      r.throws++;
      fail(i, `parseTextMessage threw ${String(error)}`, text);
      continue;
    }
    if (badReport) {
      r.malformed++;
      fail(i, `protocol error report: ${badReport}`, text);
    }
    if (message === undefined) {
      if (reports === 0) {
        r.unreported++;
        fail(i, 'rejected without onError', text);
      }
    } else {
      bump(r.outcomes, `accepted:${message.type}`);
      const ok =
        message.type === 'order'
          ? typeof message.data === 'object' &&
            message.data !== null &&
            typeof message.data.order_id === 'string'
          : message.type === 'error'
            ? typeof message.data === 'string'
            : message.type === 'message';
      if (!ok) {
        r.malformed++;
        fail(i, `accepted as ${String(message.type)} with a wrong shape`, text);
      }
      if (message.type === 'order') {
        r.ordersChecked++;
        try {
          // Both a long-lived de-duplicator (keys compared with earlier ones) and a fresh one.
          const first = dedupe.accept(message.data);
          const fresh = new OrderDeduplicator().accept(message.data);
          if (typeof first !== 'boolean' || fresh !== true) {
            r.malformed++;
            fail(i, 'OrderDeduplicator.accept gave no boolean, or refused a first sighting', text);
          }
        } catch (error) {
          r.throws++;
          fail(i, `OrderDeduplicator.accept threw ${String(error)}`, text);
        }
      }
    }
    if (polluted()) {
      r.pollution++;
      fail(i, 'Object.prototype was polluted', text);
    }
  }
  r.elapsedMs = performance.now() - started;
  return r;
}

// ---------------------------------------------------------------- a real ticker, fed by the simulator

export interface TickerTargetResult {
  frames: number;
  byTarget: Record<string, number>;
  byKind: Record<string, number>;
  outcomes: Record<string, number>;
  /** Sentinel messages that made it through after each batch. */
  sentinels: number;
  /** Everything below must be 0. */
  uncaught: number;
  deadClient: number;
  unreported: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

/** True when `promise` settles (either way) within `ms`. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = promise.then(
    () => true,
    () => true,
  );
  const result = await Promise.race([settled, timeout]);
  clearTimeout(timer);
  return result;
}

async function waitFor(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}

/**
 * Hostile text frames, injected by the simulator into a live KiteTickerManager's socket. After each
 * batch a sentinel message must arrive: the client survived and still reads its socket. Every frame
 * must come out as an order (or a counted duplicate), a serverError, a serverMessage or a protocolError.
 */
export async function runTickerTarget(options: {
  frames: number;
  seed: number;
  limits?: HostileLimits;
  batch?: number;
}): Promise<TickerTargetResult> {
  const rng = createRng(options.seed);
  const limits = options.limits ?? CI_LIMITS;
  const batch = options.batch ?? 10;
  const r: TickerTargetResult = {
    frames: 0,
    byTarget: {},
    byKind: {},
    outcomes: {},
    sentinels: 0,
    uncaught: 0,
    deadClient: 0,
    unreported: 0,
    failures: [],
    elapsedMs: 0,
  };
  const fail = (index: number, what: string, input: string): void => {
    if (r.failures.length < 10) r.failures.push({ index, what, input: excerpt(input) });
  };
  const value = pickValue(rng, limits, r.byKind);
  const uncaught = captureUncaught();
  const sim = new KiteSimulator({
    universeSize: 20,
    marketTicks: false,
    heartbeatIntervalMs: 200,
    credentials: { fuzz_key: 'fuzz_token' },
  });
  let manager: KiteTickerManager | undefined;
  const started = performance.now();
  try {
    await sim.start({ port: 0, host: '127.0.0.1' });
    manager = new KiteTickerManager('fuzz_key', 'fuzz_token', {
      url: sim.url,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200, jitter: 'none' },
      livenessTimeoutMs: 5000,
    });
    let lastSentinel = '';
    manager.on('order', () => bump(r.outcomes, 'order'));
    manager.on('serverError', () => bump(r.outcomes, 'serverError'));
    manager.on('protocolError', (info) => bump(r.outcomes, `protocolError:${String(info.kind)}`));
    manager.on('serverMessage', (data) => {
      if (typeof data === 'string' && data.startsWith('sentinel-')) lastSentinel = data;
      else bump(r.outcomes, 'serverMessage');
    });
    await manager.start();
    const outcomes = (): number =>
      Object.values(r.outcomes).reduce((a, b) => a + b, 0) + (manager?.getStats().duplicateOrders ?? 0);
    const texts: string[] = [];
    for (let i = 0; i < options.frames; i += batch) {
      texts.length = 0;
      for (let j = i; j < Math.min(options.frames, i + batch); j++) {
        const target: FrameTarget = rng.pick(FRAME_TARGETS);
        const { text } = hostileFrame(rng, target, value);
        bump(r.byTarget, target);
        texts.push(text);
        r.frames++;
        sim.injectFrame('all', Buffer.from(text, 'utf8'), 'text');
      }
      const sentinel = `sentinel-${i}`;
      sim.injectFrame('all', Buffer.from(JSON.stringify({ type: 'message', data: sentinel })), 'text');
      if (!(await waitFor(() => lastSentinel === sentinel, 3000))) {
        r.deadClient++;
        fail(
          i,
          `no sentinel after this batch (uncaught: ${uncaught.messages.join('; ') || 'none'})`,
          texts.join('\n'),
        );
        break;
      }
      r.sentinels++;
      if (outcomes() < r.frames) {
        r.unreported++;
        fail(i, `${r.frames - outcomes()} frame(s) neither delivered nor reported`, texts.join('\n'));
        break;
      }
    }
  } finally {
    r.uncaught = uncaught.count;
    for (const m of uncaught.messages.slice(0, 3)) fail(-1, 'uncaught', m);
    uncaught.dispose();
    // A client wedged by an exception inside ws never finishes its close handshake: do not wait on it.
    const stopping = manager?.stop();
    if (stopping && !(await settlesWithin(stopping, 2000))) {
      r.deadClient++;
      fail(-1, 'KiteTickerManager.stop() did not finish within 2 s', '');
    }
    await sim.stop();
  }
  r.elapsedMs = performance.now() - started;
  return r;
}

// ---------------------------------------------------------------- the simulator, over real sockets

export interface SimulatorTargetResult {
  commands: number;
  byTarget: Record<string, number>;
  byKind: Record<string, number>;
  /** Hostile commands answered with an error text frame / applied silently (valid by the grammar). */
  errorReplies: number;
  applied: number;
  binaryFrames: number;
  protocolCloses: Record<string, number>;
  junkUpgrades: Record<string, string>;
  storm: { opened: number; refused: Record<string, number> };
  /** Everything below must be 0. */
  uncaught: number;
  deadServer: number;
  /** A valid command answered with an error, or an invalid one applied silently. */
  misjudged: number;
  /** A reply that is not a short `{"type":"error","data":string}`. */
  badReplies: number;
  /** Connection slots still counted for sockets that are gone. */
  slotLeaks: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

interface Peer {
  ws: WebSocket;
  texts: string[];
  ticks: number;
  closeCode: number | undefined;
}

function openPeer(url: string): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const peer: Peer = { ws, texts: [], ticks: 0, closeCode: undefined };
    ws.on('message', (data, isBinary) => {
      if (!isBinary) peer.texts.push(data.toString());
      else if ((data as Buffer).byteLength > 1) peer.ticks++;
    });
    ws.on('close', (code) => {
      peer.closeCode = code;
    });
    ws.on('error', () => {});
    ws.once('open', () => resolve(peer));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new Error(String(res.statusCode)));
    });
    ws.once('error', reject);
  });
}

function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    const socket: Socket = netConnect(port, '127.0.0.1');
    let answer = '';
    // A request cut short gets no answer (the server waits for the rest): give up on it.
    const timer = setTimeout(() => socket.destroy(), 500);
    socket.on('data', (d) => {
      answer += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(answer.split('\r\n')[0] || '(closed without an answer)');
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

/**
 * Hostile commands (each followed by a marker command whose error reply delimits the answers), binary
 * frames, oversized and invalid-UTF-8 frames, malformed upgrade requests and a connection storm against
 * one simulator; a bystander socket must keep ticking and no slot may leak.
 */
export async function runSimulatorTarget(options: {
  commands: number;
  seed: number;
  limits?: HostileLimits;
  batch?: number;
}): Promise<SimulatorTargetResult> {
  const rng = createRng(options.seed);
  const base = options.limits ?? CI_LIMITS;
  // Commands stay under the simulator's 256 KiB frame limit (bigger frames are the 'oversized' case
  // below): a huge string is at most 2 UTF-8 bytes per char, a deep_mixed level 15 bytes.
  const limits = {
    ...base,
    maxDepth: Math.min(base.maxDepth, 15_000),
    maxString: Math.min(base.maxString, 100_000),
  };
  const batch = options.batch ?? 20;
  const r: SimulatorTargetResult = {
    commands: 0,
    byTarget: {},
    byKind: {},
    errorReplies: 0,
    applied: 0,
    binaryFrames: 0,
    protocolCloses: {},
    junkUpgrades: {},
    storm: { opened: 0, refused: {} },
    uncaught: 0,
    deadServer: 0,
    misjudged: 0,
    badReplies: 0,
    slotLeaks: 0,
    failures: [],
    elapsedMs: 0,
  };
  const fail = (index: number, what: string, input: string): void => {
    if (r.failures.length < 10) r.failures.push({ index, what, input: excerpt(input) });
  };
  const value = pickValue(rng, limits, r.byKind);
  const uncaught = captureUncaught();
  const sim = new KiteSimulator({
    universeSize: 50,
    batchIntervalMs: 20,
    ticksPerSecond: 10,
    heartbeatIntervalMs: 200,
  });
  const peers: Peer[] = [];
  const started = performance.now();
  try {
    await sim.start({ port: 0, host: '127.0.0.1' });
    const url = `${sim.url}/?api_key=sim_key_1&access_token=sim_token_1`;
    const open = async (): Promise<Peer> => {
      const p = await openPeer(url);
      peers.push(p);
      return p;
    };
    const token = sim.instruments()[0]!.instrument_token;
    const bystander = await open();
    bystander.ws.send(JSON.stringify({ a: 'subscribe', v: [token] }));
    const hostile = await open();

    // 1. Hostile commands, pipelined in batches; replies are read back in order.
    let read = 0;
    for (let i = 0; i < options.commands && r.deadServer === 0; i += batch) {
      const sent: { text: string; binary: boolean; marker: string }[] = [];
      for (let j = i; j < Math.min(options.commands, i + batch); j++) {
        const marker = `marker-${j}`;
        r.commands++;
        if (rng.chance(0.05)) {
          const bytes = Buffer.from(Array.from({ length: rng.range(0, 64) }, () => rng.int(256)));
          hostile.ws.send(bytes, { binary: true });
          r.binaryFrames++;
          bump(r.byTarget, 'binary');
          sent.push({ text: `<binary ${bytes.byteLength}>`, binary: true, marker });
        } else {
          const target: CommandTarget = rng.pick(COMMAND_TARGETS);
          bump(r.byTarget, target);
          const text = hostileCommand(target, value());
          hostile.ws.send(text);
          sent.push({ text, binary: false, marker });
        }
        hostile.ws.send(JSON.stringify({ a: marker }));
      }
      const lastMarker = sent.at(-1)!.marker;
      const arrived = await waitFor(
        () => hostile.texts.slice(read).some((t) => t.includes(`"${lastMarker}\\"`)),
        5000,
      );
      if (!arrived) {
        r.deadServer++;
        fail(
          i,
          `no reply to ${lastMarker} (uncaught: ${uncaught.messages.join('; ') || 'none'})`,
          sent.map((s) => s.text).join('\n'),
        );
        break;
      }
      for (const s of sent) {
        const replies: string[] = [];
        while (read < hostile.texts.length && !hostile.texts[read]!.includes(`"${s.marker}\\"`)) {
          replies.push(hostile.texts[read]!);
          read++;
        }
        read++; // the marker's own reply
        for (const reply of replies) {
          let ok = false;
          try {
            const msg = JSON.parse(reply) as { type?: unknown; data?: unknown };
            ok = msg.type === 'error' && typeof msg.data === 'string' && msg.data.length <= MAX_REPLY;
          } catch {}
          if (!ok) {
            r.badReplies++;
            fail(i, `bad reply ${excerpt(reply)}`, s.text);
          }
        }
        const valid = !s.binary && commandIsValid(s.text);
        if (replies.length === 0 && valid) r.applied++;
        else if (replies.length === 1 && !valid) r.errorReplies++;
        else {
          r.misjudged++;
          fail(i, `${valid ? 'valid' : 'invalid'} command got ${replies.length} error repl(ies)`, s.text);
        }
      }
    }

    // 2. Frames that break the WebSocket protocol: the socket is closed, the server goes on.
    const protocolCases = Math.max(1, Math.round(options.commands / 100));
    for (let i = 0; i < protocolCases && r.deadServer === 0; i++) {
      for (const [name, send, code] of [
        ['oversized', (p: Peer) => p.ws.send(`[${'1,'.repeat(140_000)}1]`), 1009],
        [
          'invalid_utf8',
          (p: Peer) => p.ws.send(Buffer.from([0x7b, 0xc3, 0x28, 0x7d]), { binary: false }),
          1007,
        ],
      ] as const) {
        const p = await open();
        send(p);
        if (!(await waitFor(() => p.closeCode !== undefined, 3000)) || p.closeCode !== code) {
          r.deadServer++;
          fail(i, `${name}: expected close ${code}, got ${String(p.closeCode)}`, name);
        } else bump(r.protocolCloses, `${name}:${code}`);
      }
    }

    // 3. Malformed upgrade requests for a valid key, on raw sockets.
    for (const junk of junkUpgrades()) r.junkUpgrades[junk.name] = await rawExchange(sim.port, junk.bytes);

    // 4. A storm: many upgrades at once (valid key with one slot left, and a wrong token). First the
    // sockets closed above must have left the server.
    await waitFor(() => sim.keyInfo('sim_key_1').openConnections === 2, 3000);
    const storm = await Promise.allSettled([
      ...Array.from({ length: 20 }, () => open()),
      ...Array.from({ length: 5 }, () => openPeer(`${sim.url}/?api_key=sim_key_1&access_token=wrong`)),
    ]);
    for (const s of storm) {
      if (s.status === 'fulfilled') r.storm.opened++;
      else bump(r.storm.refused, (s.reason as Error).message);
    }
    if (r.storm.opened !== 1 || r.storm.refused['429'] !== 19 || r.storm.refused['403'] !== 5) {
      r.slotLeaks++;
      fail(-1, `storm: ${r.storm.opened} opened, refused ${JSON.stringify(r.storm.refused)}`, 'storm');
    }

    // 5. Nothing leaked, everyone still served.
    for (const p of peers) if (p !== bystander && p !== hostile) p.ws.terminate();
    const live = (): number =>
      peers.filter((p) => p.closeCode === undefined && p.ws.readyState === WebSocket.OPEN).length;
    await waitFor(() => live() === 2 && sim.keyInfo('sim_key_1').openConnections === 2, 3000);
    const held = sim.keyInfo('sim_key_1').openConnections;
    if (held !== 2) {
      r.slotLeaks++;
      fail(-1, `${held} slots counted for 2 open sockets`, JSON.stringify(r.junkUpgrades));
    }
    const ticks = bystander.ticks;
    if (!(await waitFor(() => bystander.ticks > ticks, 3000))) {
      r.deadServer++;
      fail(-1, 'the bystander stopped receiving ticks', '');
    }
    try {
      await open(); // the third slot is free again
    } catch (error) {
      r.slotLeaks++;
      fail(-1, `a legitimate third connection was refused: ${String(error)}`, '');
    }
  } catch (error) {
    r.deadServer++;
    fail(-1, `run aborted: ${String(error)}`, '');
  } finally {
    r.uncaught = uncaught.count;
    for (const m of uncaught.messages.slice(0, 3)) fail(-1, 'uncaught', m);
    uncaught.dispose();
    for (const p of peers) p.ws.terminate();
    await sim.stop();
  }
  r.elapsedMs = performance.now() - started;
  return r;
}
