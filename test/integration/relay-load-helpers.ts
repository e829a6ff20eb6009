/**
 * Light clients for the relay's scale and fault tests: hundreds of sockets, so each one keeps only the
 * set of tokens it saw, its tick count and (for stamped simulator frames) a latency histogram, read
 * straight off the frame's packet table without decoding ticks. Plus a raw-TCP WebSocket client that
 * can stop reading or vanish in the middle of a frame, which `ws` never does on purpose.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { LatencyHistogram } from '../../bench/lib/histogram.js';
import { monotonicMs, stampedMs } from '../../src/simulator/stamp.js';

export interface LiteClient {
  ws: WebSocket;
  /** Tokens of every packet received. */
  seen: Set<number>;
  /** Packet lengths received (184 full, 44 quote, 8 ltp; 32/28/8 for indices). */
  lengths: Set<number>;
  ticks: number;
  /** Send-to-receive latency of stamped full packets (simulator `stampSendTime`); may be shared. */
  latency: LatencyHistogram;
  /** ms from the connect call to the WebSocket being open. */
  openMs: number;
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens a light client; rejects with `HTTP <status>` for a refused upgrade. */
export function connectLite(
  url: string,
  id: string,
  token: string,
  latency: LatencyHistogram = new LatencyHistogram(),
): Promise<LiteClient> {
  const t0 = performance.now();
  const ws = new WebSocket(
    `${url}/?api_key=${encodeURIComponent(id)}&access_token=${encodeURIComponent(token)}`,
    { perMessageDeflate: false },
  );
  const c: LiteClient = {
    ws,
    seen: new Set(),
    lengths: new Set(),
    ticks: 0,
    latency,
    openMs: 0,
    closed: new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    ),
  };
  ws.on('message', (data: Buffer, isBinary) => {
    if (!isBinary || data.length < 2) return;
    const now = monotonicMs();
    const n = data.readUInt16BE(0);
    let pos = 2;
    for (let i = 0; i < n && pos + 2 <= data.length; i++) {
      const len = data.readUInt16BE(pos);
      pos += 2;
      c.seen.add(data.readUInt32BE(pos));
      c.lengths.add(len);
      if (len === 184)
        c.latency.record(now - stampedMs(data.readUInt32BE(pos + 44), data.readUInt32BE(pos + 48)));
      pos += len;
    }
    c.ticks += n;
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      c.openMs = performance.now() - t0;
      resolve(c);
    });
    ws.once('unexpected-response', (_req, res) => {
      reject(new Error(`HTTP ${res.statusCode}`));
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Subscribes `tokens` in `mode` (Kite's two commands). */
export function subscribe(ws: WebSocket, tokens: readonly number[], mode: 'ltp' | 'quote' | 'full'): void {
  ws.send(JSON.stringify({ a: 'subscribe', v: tokens }));
  ws.send(JSON.stringify({ a: 'mode', v: [mode, tokens] }));
}

/** A masked client frame (RFC 6455 5.2), text by default. */
export function clientFrame(payload: Buffer, opcode = 0x1): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x80 | opcode, 0x80 | len])
      : len < 65536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigLength(len)]);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i & 3]!;
  return Buffer.concat([head, mask, body]);
}

function bigLength(len: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(len));
  return b;
}

/**
 * A WebSocket client on a bare TCP socket: resolves once the relay answered 101. Its bytes received are
 * counted, never parsed; `socket.pause()` makes it a client that never reads.
 */
export function rawClient(
  port: number,
  id: string,
  token: string,
): Promise<{ socket: net.Socket; received: () => number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = 0;
    let head = '';
    let upgraded = false;
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (upgraded) return;
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      upgraded = true;
      if (head.startsWith('HTTP/1.1 101')) resolve({ socket, received: () => received });
      else {
        socket.destroy();
        reject(new Error(head.split('\r\n')[0]));
      }
    });
    socket.write(
      [
        `GET /?api_key=${encodeURIComponent(id)}&access_token=${encodeURIComponent(token)} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
  });
}

/** Percentile of a list of numbers (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
