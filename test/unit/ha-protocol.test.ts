/**
 * The pure parts of the HA lease protocol: names and the key-id encoding, the record codec (hostile
 * bucket values are reported, never thrown), the timing rules, the revision clock and the share.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode, HaEntryError, InvalidArgumentError } from '../../src/errors.js';
import {
  decodeLease,
  decodeMember,
  decodeWant,
  encodeLease,
  encodeMember,
  encodeWant,
  MAX_RECORD_BYTES,
} from '../../src/ha/codec.js';
import {
  bucketName,
  decodeKeyId,
  encodeKeyId,
  leaseKey,
  memberKey,
  validateGroup,
  wantKey,
} from '../../src/ha/names.js';
import { RevisionClock, shareOf } from '../../src/ha/share.js';
import { resolveTimings } from '../../src/ha/timings.js';
import type { Mode } from '../../src/protocol/constants.js';
import { renderPrometheus } from '../../src/sinks/prometheus/exposition.js';

const enc = (text: string) => new TextEncoder().encode(text);
const lease = {
  v: 1 as const,
  instance: 'host-1',
  apiKeyId: 'main key/é',
  acquiredAt: 1_700_000_000_000,
  renewedAt: 1_700_000_000_500,
  ttlMs: 2_000,
};

describe('ha names', () => {
  it('ha - group and instance names are letters, digits, _ and -, 1 to 64 of them', () => {
    expect(bucketName('prod_1-a')).toBe('KITE_HA_prod_1-a');
    for (const bad of ['', 'a.b', 'a b', 'x'.repeat(65), 'a>', 7, undefined]) {
      expect(() => validateGroup(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => memberKey('a.b')).toThrow(InvalidArgumentError);
    expect(memberKey('host-1')).toBe('member.host-1');
  });

  it('ha - a key id of any characters encodes to base64url (KV-safe, no dots) and back', () => {
    expect(leaseKey('main')).toBe('lease.bWFpbg');
    expect(wantKey('main')).toBe('want.bWFpbg');
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60, unit: 'grapheme' }), (id) => {
        const k = encodeKeyId(id);
        expect(k).toMatch(/^[A-Za-z0-9_-]+$/);
        expect(decodeKeyId(k)).toBe(id);
      }),
    );
    expect(() => encodeKeyId('')).toThrow(InvalidArgumentError);
    expect(() => encodeKeyId('x'.repeat(257))).toThrow(InvalidArgumentError);
    // Not canonical, not UTF-8, not the alphabet: not a key id.
    expect(decodeKeyId('bWFpbg=')).toBeUndefined();
    expect(decodeKeyId('_w')).toBeUndefined();
    expect(decodeKeyId('a.b')).toBeUndefined();
  });
});

describe('ha codec', () => {
  it('ha - lease, member and want records round-trip in the documented JSON', () => {
    const l = encodeLease(lease);
    expect(JSON.parse(new TextDecoder().decode(l))).toEqual(lease);
    expect(decodeLease(l, 'k')).toEqual({ ok: true, value: lease });
    const member = { v: 1 as const, instance: 'h', startedAt: 1, renewedAt: 2, ttlMs: 3 };
    expect(decodeMember(encodeMember(member), 'k')).toEqual({ ok: true, value: member });
    const instruments = new Map<number, Mode>([
      [256265, 'full'],
      [408065, 'quote'],
      [1, 'ltp'],
    ]);
    const want = { v: 1 as const, apiKeyId: 'a', by: 'h', updatedAt: 5, instruments };
    const bytes = encodeWant(want);
    expect(JSON.parse(new TextDecoder().decode(bytes))).toEqual({
      v: 1,
      apiKeyId: 'a',
      by: 'h',
      updatedAt: 5,
      modes: { ltp: [1], quote: [408065], full: [256265] },
    });
    expect(decodeWant(bytes, 'k')).toEqual({ ok: true, value: want });
  });

  it('ha - hostile bucket values give an HaEntryError naming the entry, never a throw', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const hostile: Uint8Array[] = [
      enc(''),
      enc('null'),
      enc('[]'),
      enc('"lease"'),
      enc('{"v":2}'),
      new Uint8Array([0xff, 0xfe, 0x7b]),
      enc(deep),
      enc(`{"v":1,"deep":${'['.repeat(1_000)}${']'.repeat(1_000)}}`),
      enc(JSON.stringify({ ...lease, instance: 'x'.repeat(100_000) })),
      enc(JSON.stringify({ ...lease, instance: 'x'.repeat(300) })),
      enc(JSON.stringify({ ...lease, ttlMs: 0 })),
      enc(JSON.stringify({ ...lease, ttlMs: 2 ** 31 })),
      enc(JSON.stringify({ ...lease, ttlMs: 600_001 })),
      enc(JSON.stringify({ ...lease, ttlMs: '2000' })),
      enc(JSON.stringify({ ...lease, acquiredAt: -1 })),
      enc(JSON.stringify({ ...lease, renewedAt: 1.5 })),
      enc(JSON.stringify({ ...lease, apiKeyId: { toString: 1 } })),
      enc('{"v":1,"__proto__":{"instance":"x"}}'),
    ];
    for (const value of hostile) {
      for (const decode of [decodeLease, decodeMember, decodeWant]) {
        const out = decode(value, 'lease.abc');
        expect(out.ok).toBe(false);
        if (!out.ok) {
          expect(out.error).toBeInstanceOf(HaEntryError);
          expect(out.error.code).toBe(ErrorCode.HaEntry);
          expect(out.error.message).toContain('lease.abc');
          // Never the value itself in the message (it could be anything, of any size).
          expect(out.error.message.length).toBeLessThan(200);
        }
      }
    }
    expect(MAX_RECORD_BYTES).toBeLessThan(deep.length);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        expect(() => decodeLease(bytes, 'k')).not.toThrow();
        expect(() => decodeWant(bytes, 'k')).not.toThrow();
      }),
    );
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const bytes = enc(JSON.stringify({ ...lease, instance: json }));
        expect(() => decodeLease(bytes, 'k')).not.toThrow();
      }),
    );
  });

  it('ha - a want record with bad tokens, a token twice, or too many is refused whole', () => {
    const want = (modes: unknown) =>
      enc(JSON.stringify({ v: 1, apiKeyId: 'a', by: 'h', updatedAt: 1, modes }));
    for (const modes of [
      [],
      null,
      { ltp: 'x' },
      { ltp: [1.5] },
      { ltp: [-1] },
      { ltp: [2 ** 32] },
      { ltp: ['1'] },
      { ltp: [1], full: [1] },
      { full: Array.from({ length: 9_001 }, (_, i) => i) },
    ]) {
      const out = decodeWant(want(modes), 'want.x');
      expect(out.ok, JSON.stringify(modes).slice(0, 40)).toBe(false);
    }
    // Unknown modes are ignored (a later format may add one); known ones are read.
    const ok = decodeWant(want({ ltp: [1], other: [2] }), 'want.x');
    expect(ok.ok && [...ok.value.instruments]).toEqual([[1, 'ltp']]);
  });
});

describe('ha timings', () => {
  it('ha - defaults: ttl 2000, renew 500, fence 1200, poll 250, cleanup 1 h', () => {
    expect(resolveTimings()).toEqual({
      ttlMs: 2_000,
      renewMs: 500,
      fenceMs: 1_200,
      pollMs: 250,
      cleanupMs: 3_600_000,
    });
    expect(resolveTimings({ ttlMs: 10_000 })).toMatchObject({ renewMs: 2_500, fenceMs: 6_000 });
  });

  it('ha - renew < fence < ttl, poll < ttl, and every value fits a timer, or a typed error says why', () => {
    const bad = [
      { ttlMs: 1_000, fenceMs: 1_000 },
      { ttlMs: 1_000, renewMs: 700, fenceMs: 600 },
      { ttlMs: 1_000, pollMs: 1_000 },
      { ttlMs: 2 ** 31 },
      { ttlMs: 600_001 },
      { ttlMs: 100 },
      { ttlMs: Number.NaN },
      { ttlMs: 2_000, cleanupMs: 7_000 },
      { ttlMs: '2000' as unknown as number },
    ];
    for (const t of bad) expect(() => resolveTimings(t), JSON.stringify(t)).toThrow(InvalidArgumentError);
    expect(() => resolveTimings({ ttlMs: 1_000, fenceMs: 1_000 })).toThrow(/renewMs < fenceMs < ttlMs/);
  });
});

describe('ha share', () => {
  it('ha - a revision counts as still from when this instance first saw it, and restarts when it moves', () => {
    const c = new RevisionClock();
    expect(c.stillFor('lease.a', 100)).toBe(0);
    c.observe('lease.a', 7, 100);
    c.observe('lease.a', 7, 900);
    expect(c.stillFor('lease.a', 1_000)).toBe(900);
    c.observe('lease.a', 8, 1_000);
    expect(c.stillFor('lease.a', 1_500)).toBe(500);
    c.observe('lease.a', undefined, 1_600);
    expect(c.stillFor('lease.a', 2_000)).toBe(0);
    c.observe('member.x', 1, 0);
    c.observe('member.y', 1, 0);
    c.retain(new Set(['member.y']), 'member.');
    expect(c.stillFor('member.x', 10)).toBe(0);
    expect(c.stillFor('member.y', 10)).toBe(10);
  });

  it('ha - the share is ceil(keys / live members): 3 keys on 2 split 2/1, a lone instance takes all', () => {
    expect(shareOf(3, 2)).toBe(2);
    expect(shareOf(3, 1)).toBe(3);
    expect(shareOf(3, 3)).toBe(1);
    expect(shareOf(3, 5)).toBe(1);
    expect(shareOf(0, 2)).toBe(0);
    expect(shareOf(4, 0)).toBe(4);
  });
});

describe('ha metrics', () => {
  it('ha - the exposition has role per key, takeovers, losses and renew latency, only for an HA instance', () => {
    const base = { at: 0, uptimeMs: 1_000, apiKeys: [] };
    expect(renderPrometheus(base)).not.toContain('kiteticker_ha_');
    const text = renderPrometheus({
      ...base,
      ha: {
        group: 'g',
        instance: 'i"1',
        members: 2,
        keys: [
          { apiKeyId: 'a', role: 'active' },
          { apiKeyId: 'b', role: 'standby' },
        ],
        takeovers: 3,
        lost: { fenced: 1, stolen: 0, released: 2, rebalanced: 0 },
        renew: { count: 4, failures: 1, lastMs: 2, maxMs: 9, totalMs: 12 },
      },
    });
    const inst = 'instance="i\\"1",group="g"';
    expect(text).toContain(`kiteticker_ha_active{${inst},api_key_id="a"} 1`);
    expect(text).toContain(`kiteticker_ha_active{${inst},api_key_id="b"} 0`);
    expect(text).toContain(`kiteticker_ha_takeovers_total{${inst}} 3`);
    expect(text).toContain(`kiteticker_ha_lost_total{${inst},reason="fenced"} 1`);
    expect(text).toContain(`kiteticker_ha_renew_seconds_sum{${inst}} 0.012`);
    expect(text).toContain(`kiteticker_ha_renew_seconds_count{${inst}} 4`);
    expect(text).toContain(`kiteticker_ha_renew_seconds_max{${inst}} 0.009`);
    expect(text).toContain(`kiteticker_ha_members{${inst}} 2`);
    expect(text.endsWith('\n')).toBe(true);
  });
});
