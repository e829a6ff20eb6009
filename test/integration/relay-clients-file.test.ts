import { chmodSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseClientsFile } from '../../src/relay/clients.js';
import { clientsFileWarning } from '../../src/relay/clients-file.js';
import { connect, type Rig, startRig, type TestClient, waitFor } from './relay-helpers.js';

let rig: Rig | undefined;
let dir: string | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await rig?.stop();
  rig = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const defaults = { maxInstruments: 100, maxSockets: 5 };
const SECRET = 'sEcReT-client-token-42';

/** Writes the file as an editor or `mv` does: a new file renamed over the old one. */
function write(path: string, value: unknown): void {
  writeFileSync(`${path}.tmp`, typeof value === 'string' ? value : JSON.stringify(value), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

describe('relay clients file', () => {
  it('relay clients - a bad file is refused with the entry named and no token quoted', () => {
    const bad = (v: unknown) => () => parseClientsFile(JSON.stringify(v), 'clients.json', defaults);
    const cases: Array<[unknown, RegExp]> = [
      [[{ id: 'a', accessToken: SECRET, maxSockets: 0 }], /entry 0 \("a"\): maxSockets must be/],
      [[{ id: 'a', accessToken: SECRET, modes: ['turbo'] }], /modes must be/],
      [
        [
          { id: 'a', accessToken: SECRET },
          { id: 'a', accessToken: SECRET },
        ],
        /appears twice/,
      ],
      [[{ id: 'a', accessToken: `${SECRET} x` }], /accessToken must be/],
      [[{ accessToken: SECRET }], /entry 0 needs an "id"/],
      [[], /non-empty JSON array/],
    ];
    for (const [value, message] of cases) {
      expect(bad(value)).toThrow(InvalidArgumentError);
      expect(bad(value)).toThrow(message);
      try {
        bad(value)();
      } catch (e) {
        expect(String((e as Error).message)).not.toContain(SECRET);
      }
    }
    expect(() => parseClientsFile(`[{"id":"a","accessToken":"${SECRET}",}]`, 'c.json', defaults)).toThrow(
      /^c\.json: not valid JSON$/,
    );
  });

  it('relay clients - the file is watched: a new client can connect, a removed one is disconnected, a malformed one changes nothing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-clients-'));
    const file = join(dir, 'clients.json');
    write(file, [{ id: 'one', accessToken: SECRET }]);
    chmodSync(file, 0o644);
    expect(clientsFileWarning(file)).toMatch(/holds relay client tokens .* run: chmod 600 /);
    const warnings: string[] = [];
    rig = await startRig({}, { clients: undefined, clientsFile: file });
    rig.relay.on('warning', (w) => warnings.push(w));
    const one = await connect(rig.relay.url, 'one', SECRET);
    clients.push(one);
    await expect(connect(rig.relay.url, 'two', 'two-token-2')).rejects.toThrow('HTTP 403');

    write(file, [
      { id: 'one', accessToken: SECRET },
      { id: 'two', accessToken: 'two-token-2' },
    ]);
    await waitFor(() => rig!.relay.stats().knownClients === 2, 5000, 'reload');
    clients.push(await connect(rig.relay.url, 'two', 'two-token-2'));

    write(file, '[{"id": "one", "accessToken": ');
    await waitFor(() => warnings.some((w) => w.includes('not valid JSON')), 5000, 'warning');
    expect(rig.relay.stats().knownClients).toBe(2);

    write(file, [{ id: 'two', accessToken: 'two-token-2' }]);
    const closed = await one.closed;
    expect(closed).toEqual({ code: 1008, reason: 'client credentials changed' });
    expect(rig.relay.stats().clients.map((c) => c.clientId)).toEqual(['two']);
    for (const w of warnings) expect(w).not.toContain(SECRET);
  });

  it('relay clients - an id both in the clients option and the file is refused', async () => {
    dir = mkdtempSync(join(tmpdir(), 'relay-clients-'));
    const file = join(dir, 'clients.json');
    write(file, [{ id: 'one', accessToken: SECRET }]);
    const { KiteRelay } = await import('../../src/relay/relay.js');
    expect(
      () =>
        new KiteRelay({
          clients: [{ id: 'one', accessToken: 'other-token-1' }],
          clientsFile: file,
          upstream: { apiKeys: [{ id: 'k', apiKey: 'k', accessToken: 't' }] },
        }),
    ).toThrow(/client id "one" is given twice/);
  });

  it('relay clients - tokens never show in inspect, stats or errors', async () => {
    rig = await startRig({}, { clients: [{ id: 'one', accessToken: SECRET }] });
    const c = await connect(rig.relay.url, 'one', SECRET);
    clients.push(c);
    const text = [
      inspect(rig.relay, { depth: 10, showHidden: true }),
      JSON.stringify(rig.relay.stats()),
    ].join('\n');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('sim_token_1');
  });
});
