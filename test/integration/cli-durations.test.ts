/**
 * A duration flag past what a Node timer holds used to be accepted and then fire after 1 ms
 * (`stream --duration 2500000` stopped after 10 ms). Every command's --duration goes through the one
 * validation module: refused as a usage error (exit 2) before anything starts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveReplayConfig } from '../../src/cli/commands/replay.js';
import { resolveSimulateConfig } from '../../src/cli/commands/simulate.js';
import { resolveSubscribeConfig } from '../../src/cli/commands/subscribe.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { resolveStreamConfig } from '../../src/cli/stream-config.js';
import { killAll, runCli } from './cli-helpers.js';

afterEach(() => killAll());

const TOO_LONG =
  /--duration: expected a number of seconds from 0\.001 to 2147483, got "2500000" \(a timer holds at most 2147483 s, about 24\.8 days\)/;

describe('cli durations', () => {
  it('cli durations - stream --duration 2500000 is a usage error: exit 2, nothing streamed', async () => {
    const started = Date.now();
    const { code, stdout, stderr } = await runCli(['stream', '--duration', '2500000', '--format', 'ndjson']);
    expect(stderr).toMatch(new RegExp(`^kiteticker: error: ${TOO_LONG.source}`));
    expect(code).toBe(2);
    expect(stdout).toBe('');
    // Refused while parsing flags, not after connecting.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('cli durations - every command refuses it; the largest timer-sized value passes', () => {
    const refusals = [
      () => resolveStreamConfig([], { duration: '2500000' }, {}, false),
      () => resolveSimulateConfig({ duration: '2500000' }),
      () => resolveSubscribeConfig({ duration: '2500000' }),
      () => resolveReplayConfig('x.ktrec', { serve: true, duration: '2500000' }, false),
    ];
    for (const refuse of refusals) {
      expect(refuse).toThrow(UsageError);
      expect(refuse).toThrow(TOO_LONG);
    }
    expect(resolveSimulateConfig({ duration: '2147483' }).durationMs).toBe(2_147_483_000);
    expect(resolveSimulateConfig({ duration: '0.25' }).durationMs).toBe(250);
    expect(() => resolveSimulateConfig({ duration: '0' })).toThrow(UsageError);
  });
});
