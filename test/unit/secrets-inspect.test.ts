/**
 * Objects that hold an access token or a NATS password must not show it when a user logs them:
 * util.inspect (console.log), JSON.stringify, object spread and Object.keys.
 */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { KiteTicker as CompatTicker } from '../../src/compat/index.js';
import { KiteTicker, KiteTickerManager, MultiApiKiteTickerManagerBuilder } from '../../src/index.js';
import { NatsTickSink } from '../../src/sinks/index.js';

const TOKEN = 'INSPECT-TOKEN-55x';
const PASS = 'nats-PASSWORD-99y';

function views(value: object): Record<string, string> {
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch (error) {
    json = String(error);
  }
  return {
    inspect: inspect(value, { depth: 8 }),
    inspectHidden: inspect(value, { depth: 8, showHidden: true }),
    json,
    spread: inspect({ ...value }, { depth: 8 }),
    keys: Object.keys(value).join(','),
  };
}

function expectNoSecret(name: string, value: object): void {
  for (const [how, text] of Object.entries(views(value))) {
    expect(text.includes(TOKEN), `${name} via ${how}`).toBe(false);
    expect(text.includes(PASS), `${name} via ${how}`).toBe(false);
  }
}

describe('secrets in objects', () => {
  it('secrets - the compat ticker keeps access_token readable and writable but never shows it', () => {
    const t = new CompatTicker({ api_key: 'key1', access_token: TOKEN });
    expectNoSecret('compat KiteTicker', t);
    expect(t.access_token).toBe(TOKEN);
    expect('access_token' in t).toBe(true);
    t.access_token = `${TOKEN}-2`;
    expect(t.access_token).toBe(`${TOKEN}-2`);
    expectNoSecret('compat KiteTicker after assignment', t);
    expect(t.api_key).toBe('key1');
    expect(Object.keys(t)).toContain('api_key');
  });

  it('secrets - the compat ticker hides access_token even from showHidden + getters inspection', () => {
    const t = new CompatTicker({ api_key: 'key1', access_token: TOKEN });
    const text = inspect(t, { showHidden: true, getters: true, depth: 10 });
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('key1');
    expect(inspect({ nested: [t] }, { showHidden: true, getters: true, depth: 10 })).not.toContain(TOKEN);
    expect(t.access_token).toBe(TOKEN);
  });

  it('secrets - connection, managers and builder never show the token', async () => {
    expectNoSecret('KiteTicker', new KiteTicker({ apiKey: 'k', accessToken: TOKEN }));
    const manager = new KiteTickerManager('k', TOKEN);
    expectNoSecret('KiteTickerManager', manager);
    const builder = new MultiApiKiteTickerManagerBuilder().addApiKey('a', 'k', TOKEN);
    expectNoSecret('builder', builder);
    const multi = builder.build();
    expectNoSecret('MultiApiKiteTickerManager', multi);
    await multi.stop();
    await manager.stop();
  });

  it('secrets - NatsTickSink never shows NATS credentials', () => {
    const sink = new NatsTickSink({
      servers: `nats://u:${PASS}@127.0.0.1:1`,
      connectOptions: { user: 'u', pass: PASS, token: PASS },
    });
    expectNoSecret('NatsTickSink', sink);
  });
});
