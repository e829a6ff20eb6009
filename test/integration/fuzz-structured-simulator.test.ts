/**
 * The structured fuzzer's simulator target in CI (issue 13): hostile commands, binary, oversized and
 * invalid-UTF-8 frames, malformed upgrade requests and a connection storm, over real sockets on
 * 127.0.0.1 port 0. The server must answer every bad command, stay up for every other client and
 * leak no connection slot.
 */
import { describe, expect, it } from 'vitest';
import { CI_LIMITS, runSimulatorTarget } from '../soak/fuzz-structured.js';
import { COMMAND_TARGETS, HOSTILE_KINDS } from '../soak/hostile.js';

describe('fuzz structured simulator', () => {
  it('fuzz structured - simulator: 300 hostile commands and every upgrade attack; nothing kills it, every bad command is answered, no slot leaks', async () => {
    const r = await runSimulatorTarget({ commands: 300, seed: 0x13, limits: CI_LIMITS });
    expect(r.failures).toEqual([]);
    expect(r.uncaught).toBe(0);
    expect(r.deadServer).toBe(0);
    expect(r.misjudged).toBe(0);
    expect(r.badReplies).toBe(0);
    expect(r.slotLeaks).toBe(0);
    expect(r.commands).toBe(300);
    expect(r.errorReplies + r.applied).toBe(300);
    expect(r.errorReplies).toBeGreaterThan(250);
    expect(Object.keys(r.byTarget).sort()).toEqual([...COMMAND_TARGETS, 'binary'].sort());
    expect(Object.keys(r.byKind).sort()).toEqual([...HOSTILE_KINDS].sort());
    expect(r.protocolCloses).toEqual({ 'oversized:1009': 3, 'invalid_utf8:1007': 3 });
    expect(r.junkUpgrades['no Sec-WebSocket-Key']).toMatch(/^HTTP\/1\.1 400/);
    expect(r.storm).toEqual({ opened: 1, refused: { 403: 5, 429: 19 } });
  });
});
