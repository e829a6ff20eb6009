/**
 * `ws` quotes the whole address in some of its errors (`Invalid URL: wss://...&access_token=...`).
 * This file replaces ws with a constructor that throws exactly that error, and checks that what the
 * ticker reports (rejection, 'error' events, logs) has the token masked, long or short.
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('ws', () => {
  class ThrowingWebSocket {
    constructor(address: string) {
      throw new SyntaxError(`Invalid URL: ${address}`);
    }
  }
  return { default: ThrowingWebSocket, WebSocket: ThrowingWebSocket };
});

const { KiteTicker } = await import('../../src/connection/index.js');

async function failures(accessToken: string): Promise<string[]> {
  const seen: string[] = [];
  const ticker = new KiteTicker({
    apiKey: 'k',
    accessToken,
    url: 'ws://127.0.0.1:9/',
    reconnect: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 },
    logger: {
      debug: () => undefined,
      info: () => undefined,
      warn: (obj, msg) => seen.push(`${msg} ${JSON.stringify(obj)}`),
      error: (obj, msg) => seen.push(`${msg} ${JSON.stringify(obj)}`),
    },
  });
  ticker.on('error', (error) => seen.push(`event ${error.message}`));
  try {
    await ticker.connect();
  } catch (error) {
    seen.push(`rejected ${(error as Error).message} ${String((error as Error).cause ?? '')}`);
  }
  await ticker.close();
  return seen;
}

describe('connection ws error secrets', () => {
  it('connection - a ws error quoting the access_token URL is reported with the token masked', async () => {
    const token = 'WS-QUOTED-TOKEN-8843';
    const seen = await failures(token);
    const quoted = seen.filter((s) => s.includes('Invalid URL'));
    expect(quoted.length).toBeGreaterThan(0);
    for (const line of quoted) expect(line).toContain('access_token=***');
    expect(seen.join('\n')).not.toContain(token);
  });

  it('connection - a short token is masked as the parameter value, the rest of the text stays readable', async () => {
    const seen = await failures('tk');
    const quoted = seen.filter((s) => s.includes('Invalid URL'));
    expect(quoted.length).toBeGreaterThan(0);
    for (const line of quoted) {
      expect(line).toContain('Invalid URL: ws://127.0.0.1:9/?api_key=k&access_token=***');
      expect(line).not.toContain('access_token=tk');
    }
  });
});
