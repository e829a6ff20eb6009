/**
 * NATS with a password: a real nats-server started with --user/--pass. The NATS client ignores
 * credentials in a URL, so these runs fail (Authorization Violation) unless the userinfo is passed on
 * as connect options; the password (with an unencoded `@`) must never be printed.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNatsSink, subscribeTicks } from '../../src/sinks/index.js';
import type { TickSubscription } from '../../src/sinks/types.js';
import { type NatsServerHandle, startNatsServer } from '../helpers/nats-server.js';
import { killAll, parseLines, runCli, startCli } from './cli-helpers.js';

const USER = 'kite';
const PASS = 'p@ss-W0rd!x';
const NEEDLES = [PASS, 'W0rd', encodeURIComponent(PASS)];

let nats: NatsServerHandle;
const subs: TickSubscription[] = [];
beforeAll(async () => {
  nats = await startNatsServer({ user: USER, pass: PASS });
});
afterEach(async () => {
  killAll();
  while (subs.length > 0) await subs.pop()!.close();
});
afterAll(async () => {
  await nats?.dispose();
});

function expectNoPassword(label: string, text: string): void {
  for (const needle of NEEDLES) expect(text.includes(needle), `${label} contains ${needle}`).toBe(false);
}

describe('nats auth', () => {
  it('nats auth - stream --nats user:pass@ (unencoded @) publishes; env and URL subscribers receive; nothing prints the password', async () => {
    const host = `127.0.0.1:${nats.port}`;
    // The library subscriber, with the password percent-encoded in the URL.
    const sub = await subscribeTicks(`nats://${USER}:${encodeURIComponent(PASS)}@${host}`);
    subs.push(sub);
    expectNoPassword('util.inspect(subscription)', inspect(sub, { depth: 8 }));
    const received = (async () => {
      for await (const message of sub) return message;
      return undefined;
    })();
    // The CLI subscriber, logging in from NATS_USER / NATS_PASSWORD.
    const cliSub = startCli(['subscribe', '--nats', `nats://${host}`, '--count', '3'], {
      NATS_USER: USER,
      NATS_PASSWORD: PASS,
    });
    await cliSub.waitFor('stderr', /kiteticker: subscribed to/, 12_000);

    const stream = await runCli([
      'stream',
      '--nats',
      `nats://${USER}:${PASS}@${host}`,
      '--duration',
      '3',
      '--format',
      'none',
      '--rate',
      '2',
      '-v',
      '256265',
      '408065',
    ]);
    expect(stream.code, stream.stderr).toBe(0);
    expect(stream.stderr).toMatch(/nats drops\s+0/);
    expect(stream.stderr).not.toMatch(/Authorization/i);

    // A library sink logged in from the URL: its connection holds the password, inspect must not show it.
    const sink = await createNatsSink({ servers: `nats://${USER}:${PASS}@${host}` });
    expectNoPassword('util.inspect(connected sink)', inspect(sink, { depth: 8 }));
    expectNoPassword('JSON.stringify(connected sink)', JSON.stringify(sink));
    await sink.close();

    const first = await received;
    expect([256265, 408065]).toContain(first?.tick.instrument_token);
    const s = await cliSub.done;
    expect(s.code, s.stderr).toBe(0);
    expect(parseLines(s.stdout)).toHaveLength(3);

    for (const [label, text] of [
      ['stream stdout', stream.stdout],
      ['stream stderr', stream.stderr],
      ['subscribe stdout', s.stdout],
      ['subscribe stderr', s.stderr],
    ] as const) {
      expectNoPassword(label, text);
    }
  }, 40_000);

  it('nats auth - a wrong password is refused (exit 1) and not printed; no password at all is refused too', async () => {
    const host = `127.0.0.1:${nats.port}`;
    const [wrong, none] = await Promise.all([
      runCli(['subscribe', '--nats', `nats://${USER}:wrong-secret-pass@${host}`, '--count', '1']),
      runCli(['subscribe', '--nats', `nats://${host}`, '--count', '1']),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot connect to NATS at nats:\/\/(\*\*\*@)?127\.0\.0\.1:\d+/);
    expect(wrong.stderr).not.toContain('wrong-secret-pass');
    expect(none.code).toBe(1);
  }, 30_000);
});
