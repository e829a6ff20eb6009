/**
 * The relay's accept storm, in its own process: on `{type:'run', url, clients:[{id, token, tokens}]}`
 * it opens every client at the same moment (no pacing), records each one's time from the connect call
 * to open, subscribes its tokens (ltp) and reports `{type:'result', openMs[], refused, servedMs}` once
 * every client has had a tick of each of its tokens (servedMs: from the start to that moment).
 */
import WebSocket from 'ws';
import { fromParent, reportErrors, toParent } from '../lib/child.js';

reportErrors();
const run = (await fromParent('run')) as unknown as {
  url: string;
  clients: { id: string; token: string; tokens: number[] }[];
};
const sockets: WebSocket[] = [];
const openMs: number[] = [];
let refused = 0;
let unserved = run.clients.length;
const t0 = performance.now();
let servedMs = Number.NaN;
const allServed = new Promise<void>((resolve) => {
  if (unserved === 0) resolve();
  for (const c of run.clients) {
    const ws = new WebSocket(
      `${run.url}/?api_key=${encodeURIComponent(c.id)}&access_token=${encodeURIComponent(c.token)}`,
      { perMessageDeflate: false },
    );
    sockets.push(ws);
    const missing = new Set(c.tokens);
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary || data.length < 2 || missing.size === 0) return;
      const n = data.readUInt16BE(0);
      let pos = 2;
      for (let i = 0; i < n && pos + 2 <= data.length; i++) {
        const len = data.readUInt16BE(pos);
        missing.delete(data.readUInt32BE(pos + 2));
        pos += 2 + len;
      }
      if (missing.size === 0 && --unserved === 0) {
        servedMs = performance.now() - t0;
        resolve();
      }
    });
    ws.once('open', () => {
      openMs.push(performance.now() - t0);
      ws.send(JSON.stringify({ a: 'subscribe', v: c.tokens }));
      ws.send(JSON.stringify({ a: 'mode', v: ['ltp', c.tokens] }));
    });
    ws.once('unexpected-response', () => {
      refused++;
      ws.terminate();
    });
    ws.on('error', () => {});
  }
});
await Promise.race([allServed, new Promise((resolve) => setTimeout(resolve, 60_000))]);
toParent({ type: 'result', openMs, refused, servedMs, unserved });
await fromParent('stop');
for (const ws of sockets) ws.terminate();
process.exit(0);
