import { describe, expect, it } from 'vitest';
import { ErrorCode, MalformedEnvelopeError } from '../../src/errors.js';
import { decodeFrame } from '../../src/protocol/decode.js';
import { encodeTick } from '../../src/protocol/encode.js';
import {
  apiKeyIdBytes,
  decodeEnvelope,
  EnvelopeWriter,
  encodeJsonEnvelope,
  frameOffset,
} from '../../src/sinks/envelope.js';
import { GapTracker } from '../../src/sinks/gap-tracker.js';
import { Outbox } from '../../src/sinks/outbox.js';
import { redactUrl } from '../../src/sinks/secrets.js';
import { filterSubject, parseTickFilter, statusSubject } from '../../src/sinks/subjects.js';
import { INFY, NIFTY_50, sampleTicks, USDINR } from '../helpers/nats-ticks.js';

describe('nats envelope', () => {
  it('nats - binary header is laid out byte by byte as documented, and the tail is a Kite frame', () => {
    const [tick] = sampleTicks(1);
    const receivedAt = 1_700_000_123_456;
    const payload = new EnvelopeWriter().writeV1(
      tick!,
      apiKeyIdBytes('ké'),
      0xdeadbeef,
      0x01020304,
      receivedAt,
    );
    const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    expect(v.getUint8(0)).toBe(1); // version
    expect(v.getUint8(1)).toBe(3); // 'ké' is 3 UTF-8 bytes
    expect(v.getUint32(2)).toBe(0xdeadbeef);
    expect(v.getUint32(6)).toBe(0x01020304);
    expect(v.getUint32(10) * 2 ** 32 + v.getUint32(14)).toBe(receivedAt);
    expect(new TextDecoder().decode(payload.subarray(18, 21))).toBe('ké');
    expect(v.getUint16(21)).toBe(1); // N
    expect(v.getUint16(23)).toBe(184); // L
    expect(payload.subarray(25)).toEqual(encodeTick(tick!));
    expect(payload.byteLength).toBe(25 + 184);
    expect(decodeFrame(payload.subarray(21))).toEqual([tick]);
  });

  it('nats - version 2 header is laid out byte by byte as documented, and the tail is a Kite frame', () => {
    const [, tick] = sampleTicks(2);
    const receivedAt = 1_700_000_123_456;
    const fields = { publisherId: 0xdeadbeef, sequence: 0x01020304, keySequence: 0x0a0b0c0d, receivedAt };
    const payload = new EnvelopeWriter().write(tick!, apiKeyIdBytes('ké'), apiKeyIdBytes('host:1'), fields);
    const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    expect(v.getUint8(0)).toBe(2); // version
    expect(v.getUint8(1)).toBe(3); // 'ké' is 3 UTF-8 bytes
    expect(v.getUint8(2)).toBe(6); // 'host:1'
    expect(v.getUint8(3)).toBe(0); // reserved
    expect(v.getUint32(4)).toBe(0xdeadbeef);
    expect(v.getUint32(8)).toBe(0x01020304);
    expect(v.getUint32(12)).toBe(0x0a0b0c0d);
    expect(v.getUint32(16) * 2 ** 32 + v.getUint32(20)).toBe(receivedAt);
    expect(new TextDecoder().decode(payload.subarray(24, 27))).toBe('ké');
    expect(new TextDecoder().decode(payload.subarray(27, 33))).toBe('host:1');
    expect(v.getUint16(33)).toBe(1); // N
    expect(v.getUint16(35)).toBe(44); // L: a quote packet
    expect(payload.subarray(37)).toEqual(encodeTick(tick!));
    expect(payload.byteLength).toBe(37 + 44);
    expect(frameOffset(payload)).toBe(33);
    expect(decodeFrame(payload.subarray(frameOffset(payload)))).toEqual([tick]);
    expect(decodeEnvelope(payload)).toEqual({
      tick,
      apiKeyId: 'ké',
      instanceId: 'host:1',
      publisherId: 0xdeadbeef,
      sequence: 0x01020304,
      keySequence: 0x0a0b0c0d,
      receivedAt,
    });
  });

  it('nats - binary and JSON envelopes of both versions decode to the same tick and metadata', () => {
    const ticks = sampleTicks(5);
    const writer = new EnvelopeWriter(256); // small slabs: forces several slab switches
    ticks.forEach((tick, i) => {
      const fields = { publisherId: 9, sequence: i + 1, keySequence: 100 + i, receivedAt: 1234 };
      const binary = decodeEnvelope(
        writer.write(tick, apiKeyIdBytes('key'), apiKeyIdBytes('inst-a'), fields),
      );
      const json = decodeEnvelope(
        new TextEncoder().encode(encodeJsonEnvelope(tick, 'key', 'inst-a', fields)),
      );
      const expected = { tick, apiKeyId: 'key', instanceId: 'inst-a', ...fields };
      expect(binary).toEqual(expected);
      expect(json).toEqual(expected);
      // Version 1 (an older publisher): no instance name or key sequence; the publisher id stands in.
      const v1 = decodeEnvelope(writer.writeV1(tick, apiKeyIdBytes('key'), 9, i + 1, 1234));
      const v1Json = decodeEnvelope(
        new TextEncoder().encode(
          JSON.stringify({ v: 1, publisherId: 9, sequence: i + 1, receivedAt: 1234, apiKeyId: 'key', tick }),
        ),
      );
      const expectedV1 = { ...expected, instanceId: 'v1:00000009', keySequence: 0 };
      expect(v1).toEqual(expectedV1);
      expect(v1Json).toEqual(expectedV1);
    });
  });

  it('nats - a bad tick leaves the writer unchanged; malformed payloads are rejected', () => {
    const writer = new EnvelopeWriter();
    const [tick] = sampleTicks(1);
    expect(() => writer.writeV1({ ...tick!, last_price: Number.NaN }, apiKeyIdBytes('k'), 1, 1, 0)).toThrow();
    const ok = writer.writeV1(tick!, apiKeyIdBytes('k'), 1, 1, 0);
    expect(ok.byteOffset).toBe(0);
    expect(() => decodeEnvelope(new Uint8Array(0))).toThrow(/empty/);
    expect(() => decodeEnvelope(ok.subarray(0, 30))).toThrow(/bad packet/);
    const wrongVersion = ok.slice();
    wrongVersion[0] = 3;
    expect(() => decodeEnvelope(wrongVersion)).toThrow(/version 3/);
  });

  it('nats - every malformed payload is a MalformedEnvelopeError (ERR_MALFORMED_ENVELOPE) naming the reason', () => {
    const writer = new EnvelopeWriter();
    const [tick] = sampleTicks(1);
    const ok = writer.writeV1(tick!, apiKeyIdBytes('k'), 1, 1, 0).slice();
    const frameStart = 18 + 1;
    const twoPackets = ok.slice();
    twoPackets[frameStart + 1] = 2; // N = 2 in a frame of one
    const badLength = ok.slice();
    badLength[frameStart + 3] = 9; // L = 9: no Kite packet has 9 bytes
    const trailing = new Uint8Array(ok.byteLength + 3);
    trailing.set(ok);
    const fields = { publisherId: 1, sequence: 1, keySequence: 1, receivedAt: 0 };
    const v2 = writer.write(tick!, apiKeyIdBytes('k'), apiKeyIdBytes('i'), fields).slice();
    const v2BadInstance = v2.slice();
    v2BadInstance[2] = 40; // I claims 40 bytes: the frame header is read from inside the packet
    const v2LongInstance = v2.slice();
    v2LongInstance[2] = 255; // I claims more bytes than the payload has
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /empty payload/],
      [ok.subarray(0, 10), /too short/],
      [ok.subarray(0, 30), /bad packet: packet length/],
      [twoPackets, /bad packet: 2 packets, expected 1/],
      [badLength, /bad packet: unknown packet length 9/],
      [trailing, /bad packet: packet length \d+ but \d+ bytes follow/],
      [new TextEncoder().encode('{"v":1,'), /does not parse/],
      [new TextEncoder().encode('{"v":1}'), /lacks tick/],
      [new TextEncoder().encode('{"v":7}'), /version 7/],
      [v2BadInstance, /bad packet: \d+ packets, expected 1/],
      [v2LongInstance, /shorter than its header/],
      [v2.subarray(0, 20), /too short/],
      [
        new TextEncoder().encode(
          JSON.stringify({ v: 2, publisherId: 1, sequence: 1, receivedAt: 0, apiKeyId: 'k', tick }),
        ),
        /lacks instanceId or keySequence/,
      ],
    ];
    for (const [payload, reason] of cases) {
      let caught: unknown;
      try {
        decodeEnvelope(payload);
      } catch (error) {
        caught = error;
      }
      expect(caught, String(reason)).toBeInstanceOf(MalformedEnvelopeError);
      expect((caught as MalformedEnvelopeError).code).toBe(ErrorCode.MalformedEnvelope);
      expect((caught as Error).message).toMatch(reason);
    }
    // A bad payload leaves nothing behind: the next good one decodes (no state between calls).
    expect(decodeEnvelope(ok).tick.instrument_token).toBe(tick!.instrument_token);
  });
});

describe('nats subjects', () => {
  it('nats - filters map to subjects; tokens find their exchange from the segment byte', () => {
    expect(filterSubject('kite', {})).toBe('kite.tick.>');
    expect(filterSubject('kite', { exchange: 'NFO' })).toBe('kite.tick.NFO.*');
    expect(filterSubject('kite', { token: INFY })).toBe(`kite.tick.NSE.${INFY}`);
    expect(filterSubject('kite', { token: USDINR })).toBe(`kite.tick.CDS.${USDINR}`);
    expect(filterSubject('kite', { token: NIFTY_50 })).toBe(`kite.tick.INDICES.${NIFTY_50}`);
    expect(() => filterSubject('kite', { token: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOKEN' }),
    );
    expect(statusSubject('kite', 'a.b c*')).toBe('kite.status.a_b_c_');
  });

  it('nats - command-line filters parse', () => {
    expect(parseTickFilter('all')).toEqual({});
    expect(parseTickFilter('nse')).toEqual({ exchange: 'NSE' });
    expect(parseTickFilter('408065')).toEqual({ token: 408065 });
    expect(parseTickFilter('NFO:123')).toEqual({ exchange: 'NFO', token: 123 });
    expect(parseTickFilter('kite.tick.*.408065')).toBe('kite.tick.*.408065');
    expect(() => parseTickFilter('what?')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('nats - credentials in server URLs are redacted', () => {
    expect(redactUrl('nats://alice:s3cret@10.0.0.5:4222')).toBe('nats://***@10.0.0.5:4222');
  });
});

describe('nats outbox and gaps', () => {
  it('nats - the outbox drops the oldest beyond its bound and drains in order', () => {
    const box = new Outbox(3);
    for (let i = 1; i <= 5; i++) box.push(`s${i}`, `p${i}`);
    expect(box.size).toBe(3);
    expect(box.overflowed).toBe(2);
    const out: string[] = [];
    let budget = 2;
    const sent = box.drain((subject) => {
      if (budget-- === 0) return false; // refused: stays at the head
      out.push(subject);
      return true;
    });
    expect(sent).toBe(2);
    expect(out).toEqual(['s3', 's4']);
    expect(box.size).toBe(1);
    expect(box.clear()).toBe(1);
  });

  it('nats - gaps are computed modulo 2^32 per subject; old or repeated sequences are not gaps', () => {
    const g = new GapTracker();
    expect(g.observe('a', 1, 0xffff_fffe)).toBe(0);
    expect(g.observe('a', 1, 1)).toBe(2); // ...fffe -> ffff -> 0 -> 1: two missing
    expect(g.observe('a', 1, 1)).toBe(0);
    expect(g.observe('a', 1, 0)).toBe(0);
    expect(g.observe('b', 1, 5)).toBe(0);
    expect(g.observe('a', 1, 2)).toBe(0);
  });
});
