import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KiteSimulator } from '../../src/simulator/server.js';
import { killAll, runCli, startCli } from './cli-helpers.js';
import { connect, type TestClient, waitFor } from './relay-helpers.js';

let sim: KiteSimulator | undefined;
let dir: string | undefined;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  killAll();
  await sim?.stop();
  sim = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('kiteticker relay', () => {
  it('cli relay - serves Kite clients from the upstream, prints its port and a one-time client token, stops on SIGTERM', async () => {
    sim = new KiteSimulator({ universeSize: 500, seed: 3, ticksPerSecond: 5, batchIntervalMs: 50 });
    await sim.start();
    const run = startCli(['relay', '--port', '0', '--url', sim.url, '--linger', '0.2', '--verbose'], {
      KITE_API_KEY: 'sim_key_1',
      KITE_ACCESS_TOKEN: 'sim_token_1',
    });
    const [, url] = await run.waitFor('stdout', /relay listening on (ws:\/\/127\.0\.0\.1:\d+)/, 15_000);
    const [, id, token] = await run.waitFor('stderr', /api_key=(\S+) access_token=(\S+)/);
    expect(url).not.toMatch(/:0$/);
    await expect(connect(url!, id!, 'wrong')).rejects.toThrow('HTTP 403');
    const c = await connect(url!, id!, token!);
    clients.push(c);
    const t = sim.instruments()[5]!.instrument_token;
    c.send({ a: 'subscribe', v: [t] });
    c.send({ a: 'mode', v: ['ltp', [t]] });
    await waitFor(() => c.ticks.some((x) => x.mode === 'ltp'), 10_000, 'ticks through the CLI relay');
    expect(sim.connections().flatMap((x) => [...x.subscriptions.keys()])).toEqual([t]);

    const started = Date.now();
    run.child.kill('SIGTERM');
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(done.stderr).toMatch(/relay stopped \(SIGTERM\)/);
    // --verbose logs the client's connection (by its id) and the upstream's.
    expect(done.stderr).toMatch(/connection opened .*"apiKey":"relay"/);
    // The generated token once; the upstream token never.
    expect(done.stderr.split(token!).length - 1).toBe(1);
    expect(done.stdout).not.toContain(token!);
    expect(done.stdout + done.stderr).not.toContain('sim_token_1');
  }, 30_000);

  it('cli relay - a clients file is used (no token generated), its permissions checked; exposure warns without TLS', async () => {
    dir = mkdtempSync(join(tmpdir(), 'cli-relay-'));
    const file = join(dir, 'clients.json');
    writeFileSync(file, JSON.stringify([{ id: 'scanner', accessToken: 'scan-token-1' }]), { mode: 0o644 });
    const run = startCli(['relay', '--port', '0', '--host', '0.0.0.0', '--clients-file', file, '-d', '1']);
    const done = await run.done;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/relay listening on ws:\/\/0\.0\.0\.0:\d+/);
    expect(done.stdout).toMatch(/upstream: the built-in simulator/);
    expect(done.stderr).toMatch(/without TLS/);
    expect(done.stderr).toMatch(/chmod 600/);
    expect(done.stderr).not.toMatch(/access_token=/);
    expect(done.stderr + done.stdout).not.toContain('scan-token-1');
  }, 30_000);

  it('cli relay - bad flags are usage errors', async () => {
    const a = await runCli(['relay', '--tls-cert', 'x.pem']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--tls-cert and --tls-key go together/);
    const b = await runCli(['relay', '--port', '70000']);
    expect(b.code).toBe(2);
    const c = await runCli(['relay', '--service']);
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/--service needs --clients-file/);
    const d = await runCli(['relay', '--metrics-host', '127.0.0.1']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/--metrics-host needs --metrics-port/);
    const e = await runCli(['relay', '--nats-creds', 'x.creds']);
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/--nats-creds needs --nats/);
  }, 30_000);
});
