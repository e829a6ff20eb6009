/**
 * The fuzz loops, shared by the CI tests (test/unit/fuzz-*.test.ts, ~60k frames) and `npm run fuzz`
 * (1,000,000+ frames). Each returns counters; a correct codec leaves every failure counter at 0.
 * The loops catch what the code under test throws so one bad input is reported with its seed and bytes
 * instead of aborting the run.
 */
import { decodeFrame, FrameView, parseClientCommand, parseTextMessage } from '../../src/protocol/index.js';
import type { ProtocolErrorInfo, ProtocolErrorKind } from '../../src/protocol/types.js';
import {
  auditFrame,
  MUTATIONS,
  type MutationKind,
  mutate,
  presentation,
  randomValidFrame,
} from './frames.js';
import { POSTBACK } from './hostile.js';
import { createRng, type Rng } from './rng.js';

const ERROR_KINDS: ReadonlySet<string> = new Set<ProtocolErrorKind>([
  'frame_too_short',
  'truncated_length',
  'truncated_packet',
  'unknown_packet_length',
  'trailing_bytes',
  'invalid_json',
  'invalid_text_message',
  'unknown_text_type',
]);

/** One input the codec mishandled, kept for the report (at most a few are kept). */
export interface FuzzFailure {
  index: number;
  what: string;
  input: string;
}

export interface DecoderFuzzResult {
  frames: number;
  validFrames: number;
  badFrames: number;
  heartbeats: number;
  /** Bad frames for which onError was called at least once. */
  reportedBad: number;
  ticks: number;
  errorsByKind: Record<string, number>;
  mutations: Record<string, number>;
  /** Frames cross-checked through FrameView. */
  viewChecks: number;
  /** Everything below must be 0. */
  throws: number;
  unreportedBad: number;
  falseErrors: number;
  tickMismatches: number;
  viewMismatches: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

export interface DecoderFuzzOptions {
  frames: number;
  seed: number;
  /** Share of inputs that are mutated (the rest are valid frames or heartbeats). Default 0.8. */
  mutatedShare?: number;
  /** Every n-th frame is also read through FrameView. Default 4. */
  viewEvery?: number;
}

function hex(bytes: Uint8Array | ArrayBuffer): string {
  const b = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  return Buffer.from(b.buffer, b.byteOffset, Math.min(b.byteLength, 96)).toString('hex');
}

/** Random and mutated frames through decodeFrame (and FrameView): nothing throws, every bad frame is reported. */
export function runDecoderFuzz(options: DecoderFuzzOptions): DecoderFuzzResult {
  const rng = createRng(options.seed);
  const mutatedShare = options.mutatedShare ?? 0.8;
  const viewEvery = options.viewEvery ?? 4;
  const result: DecoderFuzzResult = {
    frames: 0,
    validFrames: 0,
    badFrames: 0,
    heartbeats: 0,
    reportedBad: 0,
    ticks: 0,
    errorsByKind: {},
    mutations: {},
    viewChecks: 0,
    throws: 0,
    unreportedBad: 0,
    falseErrors: 0,
    tickMismatches: 0,
    viewMismatches: 0,
    failures: [],
    elapsedMs: 0,
  };
  const fail = (index: number, what: string, input: Uint8Array | ArrayBuffer): void => {
    if (result.failures.length < 10) result.failures.push({ index, what, input: hex(input) });
  };
  // One handler for the whole run (no closure per frame): it counts into `errorsThisFrame`.
  let errorsThisFrame = 0;
  let badKindThisFrame = false;
  const onError = (info: ProtocolErrorInfo): void => {
    errorsThisFrame++;
    result.errorsByKind[info.kind] = (result.errorsByKind[info.kind] ?? 0) + 1;
    if (!ERROR_KINDS.has(info.kind) || typeof info.detail !== 'string') badKindThisFrame = true;
  };
  const view = new FrameView();
  const started = performance.now();

  for (let i = 0; i < options.frames; i++) {
    let bytes: Uint8Array;
    let mutation: MutationKind | 'none' | 'heartbeat' = 'none';
    if (rng.chance(0.01)) {
      bytes = rng.chance(0.5) ? new Uint8Array([rng.int(256)]) : new Uint8Array(0);
      mutation = 'heartbeat';
    } else {
      bytes = randomValidFrame(rng, rng.chance(0.05) ? 200 : 12);
      if (rng.chance(mutatedShare)) {
        mutation = rng.pick(MUTATIONS);
        bytes = mutate(rng, bytes, mutation);
      }
    }
    result.mutations[mutation] = (result.mutations[mutation] ?? 0) + 1;
    const audit = auditFrame(bytes);
    const input = presentation(rng, bytes);
    result.frames++;
    if (audit.heartbeat) result.heartbeats++;
    else if (audit.valid) result.validFrames++;
    else result.badFrames++;

    errorsThisFrame = 0;
    badKindThisFrame = false;
    let ticks: ReturnType<typeof decodeFrame>;
    try {
      ticks = decodeFrame(input, onError);
    } catch (error) {
      result.throws++;
      fail(i, `decodeFrame threw ${String(error)}`, input);
      continue;
    }
    result.ticks += ticks.length;
    if (badKindThisFrame) fail(i, 'onError got an unknown kind or no detail', input);

    if (audit.heartbeat || audit.valid) {
      if (errorsThisFrame > 0) {
        result.falseErrors++;
        fail(i, `a sound frame reported ${errorsThisFrame} error(s)`, input);
      }
      let same = ticks.length === audit.tokens.length;
      for (let t = 0; same && t < ticks.length; t++) same = ticks[t]!.instrument_token === audit.tokens[t];
      if (!same) {
        result.tickMismatches++;
        fail(i, `sound frame: ${ticks.length} ticks decoded, ${audit.tokens.length} packets sent`, input);
      }
    } else {
      if (errorsThisFrame > 0) result.reportedBad++;
      else {
        result.unreportedBad++;
        fail(i, `bad frame (${audit.problems.join(',')}) decoded without onError`, input);
      }
      // A decoder may drop more than the reference walk keeps, never invent packets.
      if (ticks.length > audit.tokens.length) {
        result.tickMismatches++;
        fail(i, `bad frame: ${ticks.length} ticks from ${audit.tokens.length} complete packets`, input);
      }
    }
    for (const tick of ticks) {
      if (!Number.isFinite(tick.last_price)) {
        result.tickMismatches++;
        fail(i, 'a tick with a non-finite last_price', input);
        break;
      }
    }

    if (i % viewEvery === 0) {
      result.viewChecks++;
      try {
        view.reset(input);
        let same = view.count === ticks.length;
        for (let t = 0; same && t < view.count; t++) {
          same =
            view.token(t) === ticks[t]!.instrument_token &&
            view.lastPrice(t) === ticks[t]!.last_price &&
            view.mode(t) === ticks[t]!.mode &&
            view.tick(t).instrument_token === ticks[t]!.instrument_token;
        }
        if (!same) {
          result.viewMismatches++;
          fail(i, `FrameView disagrees with decodeFrame (${view.count} vs ${ticks.length})`, input);
        }
      } catch (error) {
        result.throws++;
        fail(i, `FrameView threw ${String(error)}`, input);
      }
    }
  }
  result.elapsedMs = performance.now() - started;
  return result;
}

export interface TextFuzzResult {
  messages: number;
  accepted: number;
  rejected: number;
  commandsAccepted: number;
  commandsRejected: number;
  errorsByKind: Record<string, number>;
  /** Everything below must be 0. */
  throws: number;
  /** Rejected (undefined) without an onError call. */
  unreported: number;
  /** A returned message or command of the wrong shape, or a valid JSON text mis-classified. */
  malformed: number;
  /** Object.prototype changed by a `__proto__` key. */
  pollution: number;
  failures: FuzzFailure[];
  elapsedMs: number;
}

const SERVER_SEEDS = [
  JSON.stringify({ type: 'order', data: POSTBACK }),
  JSON.stringify({ type: 'error', data: 'max tokens exceeded' }),
  JSON.stringify({ type: 'message', data: { text: 'hello' } }),
  JSON.stringify({ type: 'message', data: 'plain' }),
  // A prototype-pollution attempt must stay an own key of the parsed data.
  '{"type":"order","data":{"__proto__":{"polluted":1},"order_id":"1","status":"OPEN"}}',
];

const COMMAND_SEEDS = [
  '{"a":"subscribe","v":[408065,884737]}',
  '{"a":"unsubscribe","v":[884737]}',
  '{"a":"mode","v":["full",[408065]]}',
  '{"a":"mode","v":["ltp",[256265,265]]}',
];

const ODD_VALUES: readonly unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  4294967296,
  Number.MAX_SAFE_INTEGER,
  '',
  'x',
  '408065',
  [],
  {},
  [1, 'a'],
];

function randomText(rng: Rng): string {
  const length = rng.int(80);
  let out = '';
  const alphabet = '{}[]":,0123456789-.eE ntrufalsypdorm\\\u0000\u00e9\ud83d';
  for (let i = 0; i < length; i++) out += alphabet[rng.int(alphabet.length)];
  return out;
}

function mutateText(rng: Rng, text: string): string {
  switch (rng.int(7)) {
    case 0:
      return text.slice(0, rng.int(text.length));
    case 1: {
      const at = rng.int(text.length);
      return text.slice(0, at) + randomText(rng).slice(0, rng.range(1, 4)) + text.slice(at + 1);
    }
    case 2:
      return text + randomText(rng).slice(0, rng.range(1, 8));
    case 3:
      return randomText(rng);
    case 4: {
      // Well-formed JSON, odd shape: swap the type/action or the payload for something unexpected.
      const parsed = JSON.parse(text) as Record<string, unknown>;
      const keys = Object.keys(parsed);
      const key = rng.pick(keys);
      parsed[key] = rng.pick(ODD_VALUES);
      return JSON.stringify(parsed);
    }
    case 5:
      return '['.repeat(rng.range(1, 600)) + ']'.repeat(rng.range(0, 600));
    default:
      return JSON.stringify(rng.pick(ODD_VALUES));
  }
}

function isValidToken(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** Mutated and random server text frames and client commands through the two text parsers. */
export function runTextFuzz(options: { messages: number; seed: number }): TextFuzzResult {
  const rng = createRng(options.seed);
  const result: TextFuzzResult = {
    messages: 0,
    accepted: 0,
    rejected: 0,
    commandsAccepted: 0,
    commandsRejected: 0,
    errorsByKind: {},
    throws: 0,
    unreported: 0,
    malformed: 0,
    pollution: 0,
    failures: [],
    elapsedMs: 0,
  };
  const fail = (index: number, what: string, input: string): void => {
    if (result.failures.length < 10) result.failures.push({ index, what, input: input.slice(0, 200) });
  };
  let errorsThisMessage = 0;
  const onError = (info: ProtocolErrorInfo): void => {
    errorsThisMessage++;
    result.errorsByKind[info.kind] = (result.errorsByKind[info.kind] ?? 0) + 1;
  };
  const started = performance.now();
  for (let i = 0; i < options.messages; i++) {
    result.messages++;
    const serverSide = rng.chance(0.5);
    const seed = rng.pick(serverSide ? SERVER_SEEDS : COMMAND_SEEDS);
    const text = rng.chance(0.9) ? mutateText(rng, seed) : seed;
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(text);
    } catch {
      isJson = false;
    }
    if (serverSide) {
      errorsThisMessage = 0;
      try {
        const message = parseTextMessage(text, onError);
        if (message === undefined) {
          result.rejected++;
          if (errorsThisMessage === 0) {
            result.unreported++;
            fail(i, 'rejected without onError', text);
          }
        } else {
          result.accepted++;
          const shapeOk =
            isJson &&
            (message.type === 'order'
              ? typeof message.data === 'object' && message.data !== null
              : message.type === 'error'
                ? typeof message.data === 'string'
                : message.type === 'message');
          if (!shapeOk || (json as { type?: unknown }).type !== message.type) {
            result.malformed++;
            fail(i, `accepted as ${message.type} with a wrong shape`, text);
          }
        }
      } catch (error) {
        result.throws++;
        fail(i, `parseTextMessage threw ${String(error)}`, text);
      }
    } else {
      try {
        const parsed = parseClientCommand(text);
        if (parsed.ok) {
          result.commandsAccepted++;
          const { command } = parsed;
          const raw = json as { a?: unknown } | undefined;
          const shapeOk =
            isJson &&
            raw?.a === command.action &&
            Array.isArray(command.tokens) &&
            command.tokens.every(isValidToken) &&
            (command.action !== 'mode' || ['ltp', 'quote', 'full'].includes(command.mode));
          if (!shapeOk) {
            result.malformed++;
            fail(i, 'parseClientCommand accepted a malformed command', text);
          }
        } else {
          result.commandsRejected++;
          if (typeof parsed.error !== 'string' || parsed.error.length === 0) {
            result.unreported++;
            fail(i, 'parseClientCommand rejected without a reason', text);
          }
        }
      } catch (error) {
        result.throws++;
        fail(i, `parseClientCommand threw ${String(error)}`, text);
      }
    }
    if ((Object.prototype as Record<string, unknown>).polluted !== undefined) {
      result.pollution++;
      delete (Object.prototype as Record<string, unknown>).polluted;
      fail(i, 'Object.prototype was polluted', text);
    }
  }
  result.elapsedMs = performance.now() - started;
  return result;
}
