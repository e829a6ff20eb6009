/**
 * Structured hostile inputs for the structured fuzzer (fuzz-structured.ts): JSON *text* built by string
 * concatenation (a 20,000-deep value cannot go through JSON.stringify, which is exactly the point), put
 * into every field of the server's order/error/message frames and of the client's commands.
 */
import type { Rng } from './rng.js';

export interface HostileLimits {
  /** Nesting depth of the deep kinds is drawn from [minDepth, maxDepth]. */
  minDepth: number;
  maxDepth: number;
  /** Length of the huge strings is drawn from [maxString / 2, maxString]. */
  maxString: number;
}

export const HOSTILE_KINDS = [
  'deep_array',
  'deep_object',
  'deep_mixed',
  'huge_string',
  'odd_primitive',
  'number_edge',
  'to_primitive_trap',
  'proto_key',
  'odd_string',
  'small_nested',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

const ODD_PRIMITIVES = ['null', 'true', 'false', '0', '-0', '1', '-1', '1.5', '""', '[]', '{}'];
const NUMBER_EDGES = [
  '1e400', // parses to Infinity
  '-1e400',
  '1e-400', // parses to 0
  '9007199254740993',
  '123456789012345678901234567890',
  '4294967296',
  '-4294967297',
  '5e-324',
];
const TRAPS = [
  '{"toString":1}',
  '{"valueOf":1}',
  '{"toString":1,"valueOf":1}',
  '{"toString":{"valueOf":2},"valueOf":"x"}',
  '{"toJSON":1}',
  '{"toJSON":{"a":1},"toString":null}',
  '[{"toString":1}]',
  '{"constructor":1}',
  '{"hasOwnProperty":1,"toString":[]}',
  '{"length":-1,"0":1}',
];
const PROTO_KEYS = [
  '{"__proto__":{"polluted":1}}',
  '{"constructor":{"prototype":{"polluted":1}}}',
  '{"__proto__":null}',
  '{"__proto__":[{"polluted":1}]}',
  '{"__proto__":{"toString":1}}',
];
const ODD_STRINGS = [
  '"\\u0000"',
  '"\\u001b[2J\\u001b[H"', // clear screen
  '"\\u001b]52;c;SGVsbG8=\\u0007"', // OSC 52: write the clipboard
  '"\\ud800"', // lone surrogate
  '"\\udfff\\ud800"',
  '"a\\nb\\r\\tc"',
  '"\\"quoted\\""',
  '"|"',
  '"||||"',
];
const HUGE_CHARS = ['x', '\u00e9', '\ud83d\ude00', '\\n', '\\u0000', '|'];

function deep(rng: Rng, limits: HostileLimits, open: string, leaf: string, close: string): string {
  const depth = rng.range(limits.minDepth, limits.maxDepth);
  return open.repeat(depth) + leaf + close.repeat(depth);
}

/** The JSON text of one hostile value of `kind`. */
export function hostileValue(rng: Rng, kind: HostileKind, limits: HostileLimits): string {
  switch (kind) {
    case 'deep_array':
      return deep(rng, limits, '[', rng.chance(0.5) ? '1' : '', ']');
    case 'deep_object':
      return deep(rng, limits, '{"k":', 'null', '}');
    case 'deep_mixed':
      return deep(rng, limits, '[{"toString":', '1', '}]');
    case 'huge_string': {
      const n = rng.range(Math.floor(limits.maxString / 2), limits.maxString);
      const unit = rng.pick(HUGE_CHARS);
      return `"${unit.repeat(Math.max(1, Math.floor(n / unit.length)))}"`;
    }
    case 'odd_primitive':
      return rng.pick(ODD_PRIMITIVES);
    case 'number_edge':
      return rng.pick(NUMBER_EDGES);
    case 'to_primitive_trap':
      return rng.pick(TRAPS);
    case 'proto_key':
      return rng.pick(PROTO_KEYS);
    case 'odd_string':
      return rng.pick(ODD_STRINGS);
    case 'small_nested':
      return `{"a":[${rng.pick(TRAPS)},${rng.pick(PROTO_KEYS)},${rng.pick(NUMBER_EDGES)}],"b":${rng.pick(ODD_STRINGS)}}`;
  }
}

/** A Kite order postback (kite-protocol.md 5) whose fields the fuzzer replaces one by one. */
export const POSTBACK: Readonly<Record<string, unknown>> = {
  order_id: '220303000308932',
  exchange_order_id: '1000000001482421',
  parent_order_id: null,
  status: 'COMPLETE',
  status_message: null,
  status_message_raw: null,
  order_timestamp: '2022-03-03 09:24:25',
  exchange_update_timestamp: '2022-03-03 09:24:25',
  exchange_timestamp: '2022-03-03 09:24:25',
  variety: 'regular',
  exchange: 'NSE',
  tradingsymbol: 'SBIN',
  instrument_token: 779521,
  order_type: 'MARKET',
  transaction_type: 'BUY',
  validity: 'DAY',
  product: 'CNC',
  quantity: 1,
  disclosed_quantity: 0,
  price: 0,
  trigger_price: 0,
  average_price: 470,
  filled_quantity: 1,
  pending_quantity: 0,
  cancelled_quantity: 0,
  meta: {},
  tag: null,
  guid: 'abc',
  checksum: '',
};
const POSTBACK_FIELDS = Object.keys(POSTBACK);

/** Where in a server text frame the hostile value goes. */
export const FRAME_TARGETS = [
  'order_field',
  'order_all_fields',
  'order_data',
  'error_data',
  'message_data',
  'type',
  'whole_frame',
] as const;
export type FrameTarget = (typeof FRAME_TARGETS)[number];

const HOLE_JSON = JSON.stringify('\u0000HOSTILE\u0000');

function orderWith(fields: readonly string[], value: () => string): string {
  const data: Record<string, unknown> = { ...POSTBACK };
  for (const f of fields) data[f] = '\u0000HOSTILE\u0000';
  // Each hole gets its own value (split/join would give them all the same one).
  const parts = JSON.stringify({ type: 'order', data }).split(HOLE_JSON);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i++) out += value() + parts[i]!;
  return out;
}

/** One hostile server -> client text frame. `field` names the order field for 'order_field'. */
export function hostileFrame(
  rng: Rng,
  target: FrameTarget,
  value: () => string,
): { text: string; field?: string } {
  switch (target) {
    case 'order_field': {
      const field = rng.pick(POSTBACK_FIELDS);
      return { text: orderWith([field], value), field };
    }
    case 'order_all_fields':
      // order_id stays a string so the order passes the parser and reaches the de-duplicator.
      return { text: orderWith(POSTBACK_FIELDS.slice(1), value) };
    case 'order_data':
      return { text: `{"type":"order","data":${value()}}` };
    case 'error_data':
      return { text: `{"type":"error","data":${value()}}` };
    case 'message_data':
      return { text: `{"type":"message","data":${value()}}` };
    case 'type':
      return { text: `{"type":${value()},"data":{"order_id":"1"}}` };
    case 'whole_frame':
      return { text: value() };
  }
}

/** Where in a client command the hostile value goes. */
export const COMMAND_TARGETS = [
  'subscribe_list',
  'subscribe_element',
  'unsubscribe_element',
  'action',
  'mode_name',
  'mode_list',
  'mode_element',
  'mode_value',
  'extra_key',
  'whole_command',
] as const;
export type CommandTarget = (typeof COMMAND_TARGETS)[number];

/** One hostile client -> server command text. */
export function hostileCommand(target: CommandTarget, value: string): string {
  switch (target) {
    case 'subscribe_list':
      return `{"a":"subscribe","v":${value}}`;
    case 'subscribe_element':
      return `{"a":"subscribe","v":[408065,${value}]}`;
    case 'unsubscribe_element':
      return `{"a":"unsubscribe","v":[${value}]}`;
    case 'action':
      return `{"a":${value},"v":[408065]}`;
    case 'mode_name':
      return `{"a":"mode","v":[${value},[408065]]}`;
    case 'mode_list':
      return `{"a":"mode","v":["full",${value}]}`;
    case 'mode_element':
      return `{"a":"mode","v":["ltp",[${value}]]}`;
    case 'mode_value':
      return `{"a":"mode","v":${value}}`;
    case 'extra_key':
      return `{"a":"subscribe","v":[1],"__proto__":${value}}`;
    case 'whole_command':
      return value;
  }
}

function isToken(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/**
 * The oracle for commands, written independently of parseClientCommand: would Kite's documented
 * grammar accept `text`? (Object with exactly the keys a and v; tokens whole numbers 0..2^32-1.)
 * Only shallow checks, so a deep value is looked at without recursion.
 */
export function commandIsValid(text: string): boolean {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return false;
  const keys = Object.keys(msg);
  if (keys.some((k) => k !== 'a' && k !== 'v')) return false;
  const { a, v } = msg as { a?: unknown; v?: unknown };
  const tokens = (list: unknown): boolean => Array.isArray(list) && list.every(isToken);
  if (a === 'subscribe' || a === 'unsubscribe') return tokens(v);
  if (a === 'mode') {
    return (
      Array.isArray(v) &&
      v.length === 2 &&
      (v[0] === 'ltp' || v[0] === 'quote' || v[0] === 'full') &&
      tokens(v[1])
    );
  }
  return false;
}

/** Raw HTTP requests that are not a well-formed WebSocket upgrade, for a valid key. */
export function junkUpgrades(): { name: string; bytes: string }[] {
  const q = '/?api_key=sim_key_1&access_token=sim_token_1';
  const head = (lines: string[], method = 'GET'): string =>
    [`${method} ${q} HTTP/1.1`, 'Host: 127.0.0.1', ...lines, '', ''].join('\r\n');
  const ws = ['Upgrade: websocket', 'Connection: Upgrade'];
  const key = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==';
  return [
    { name: 'no Sec-WebSocket-Key', bytes: head([...ws, 'Sec-WebSocket-Version: 13']) },
    {
      name: 'bad Sec-WebSocket-Key',
      bytes: head([...ws, 'Sec-WebSocket-Key: x', 'Sec-WebSocket-Version: 13']),
    },
    { name: 'bad version', bytes: head([...ws, key, 'Sec-WebSocket-Version: 99']) },
    { name: 'no version', bytes: head([...ws, key]) },
    { name: 'POST upgrade', bytes: head([...ws, key, 'Sec-WebSocket-Version: 13'], 'POST') },
    { name: 'Upgrade: h2c', bytes: head(['Upgrade: h2c', 'Connection: Upgrade', key]) },
    {
      name: 'bad subprotocol',
      bytes: head([...ws, key, 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: ,,']),
    },
    {
      name: 'huge header',
      bytes: head([...ws, key, 'Sec-WebSocket-Version: 13', `X-Junk: ${'j'.repeat(20_000)}`]),
    },
    { name: 'garbage', bytes: '\u0000\u00ff\r\n\r\nGET\r\n\r\n' },
    { name: 'half request', bytes: `GET ${q} HTTP/1.1\r\nHost: 1` },
  ];
}
