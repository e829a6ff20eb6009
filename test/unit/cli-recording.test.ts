import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/exit-codes.js';
import {
  encodeFileHeader,
  encodeRecord,
  RECORD_HEADER_LENGTH,
  type RecordingEvent,
  type RecordingMetadata,
  RecordingParser,
  RecordKind,
  readRecording,
  UNKNOWN_CONNECTION,
  UNKNOWN_SOURCE,
} from '../../src/cli/recording.js';
import { RecordingWriter } from '../../src/sinks/recorder/writer.js';

const meta: RecordingMetadata = {
  createdAt: '2026-01-01T00:00:00.000Z',
  tool: 'kiteticker',
  endpoint: 'simulator',
  mode: 'quote',
  sources: ['a', 'b'],
};

function concat(parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts);
}

function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(data.subarray(prev, p));
    prev = p;
  }
  out.push(data.subarray(prev));
  return out;
}

describe('cli recording format', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kt-rec-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('cli recording - header is the documented magic, version and JSON metadata', () => {
    const h = encodeFileHeader(meta);
    expect(Buffer.from(h.subarray(0, 8)).toString('latin1')).toBe('KTRECORD');
    const view = new DataView(h.buffer, h.byteOffset);
    expect(view.getUint16(8)).toBe(1);
    const len = view.getUint32(10);
    expect(h.length).toBe(14 + len);
    expect(JSON.parse(Buffer.from(h.subarray(14)).toString('utf8'))).toEqual(meta);
  });

  it('cli recording - record layout is f64 time, u32 length, u8 kind, u8 source, u16 connection, payload', () => {
    const r = encodeRecord(1234.5, RecordKind.Text, 1, 2, new Uint8Array([7, 8, 9]));
    const view = new DataView(r.buffer, r.byteOffset);
    expect(RECORD_HEADER_LENGTH).toBe(16);
    expect(view.getFloat64(0)).toBe(1234.5);
    expect(view.getUint32(8)).toBe(3);
    expect(view.getUint8(12)).toBe(1);
    expect(view.getUint8(13)).toBe(1);
    expect(view.getUint16(14)).toBe(2);
    expect([...r.subarray(16)]).toEqual([7, 8, 9]);
  });

  it('cli recording - the parser yields the same records however the bytes are chunked', () => {
    const records = fc.array(
      fc.record({
        time: fc.double({ min: 0, max: 2e12, noNaN: true }),
        kind: fc.constantFrom(RecordKind.Binary, RecordKind.Text),
        source: fc.integer({ min: 0, max: 255 }),
        connection: fc.integer({ min: 0, max: 0xffff }),
        payload: fc.uint8Array({ maxLength: 64 }),
      }),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(records, fc.array(fc.nat(), { maxLength: 8 }), (recs, cuts) => {
        const file = concat([
          encodeFileHeader(meta),
          ...recs.map((r) => encodeRecord(r.time, r.kind, r.source, r.connection, r.payload)),
        ]);
        const parser = new RecordingParser();
        const got: { time: number; kind: number; source: number; connection: number; payload: number[] }[] =
          [];
        for (const chunk of splitAt(file, cuts)) {
          for (const e of parser.push(chunk)) got.push({ ...e, payload: [...e.payload] });
        }
        expect(parser.metadata).toEqual(meta);
        expect(parser.leftoverBytes).toBe(0);
        expect(got).toEqual(recs.map((r) => ({ ...r, payload: [...r.payload] })));
      }),
      { numRuns: 200 },
    );
  });

  it('cli recording - a truncated tail is ignored and reported, earlier records survive', () => {
    const full = concat([
      encodeFileHeader(meta),
      encodeRecord(1, RecordKind.Binary, 0, 0, new Uint8Array([1, 2, 3])),
      encodeRecord(2, RecordKind.Binary, 1, 0, new Uint8Array(50)),
    ]);
    const cut = full.subarray(0, full.length - 10);
    const parser = new RecordingParser();
    const got = parser.push(cut);
    expect(got).toHaveLength(1);
    expect(got[0]!.time).toBe(1);
    expect(parser.leftoverBytes).toBe(16 + 50 - 10);
  });

  it('cli recording - an impossible kind stops parsing at a reported offset', () => {
    const header = encodeFileHeader(meta);
    const good = encodeRecord(1, RecordKind.Binary, 0, 0, new Uint8Array([1]));
    const bad = encodeRecord(2, RecordKind.Binary, 0, 0, new Uint8Array([2]));
    bad[12] = 9;
    const parser = new RecordingParser();
    const got = parser.push(concat([header, good, bad, good]));
    expect(got).toHaveLength(1);
    expect(parser.corruptOffset).toBe(header.length + good.length);
  });

  it('cli recording - rejects a file that is not a recording', () => {
    expect(() => new RecordingParser().push(new TextEncoder().encode('{"name":"x"}'))).toThrow(UsageError);
    expect(() => new RecordingParser().push(new TextEncoder().encode('KTREC'))).not.toThrow();
  });

  it('cli recording - writer output reads back through readRecording, truncated tail included', async () => {
    const path = join(dir, 'a.ktrec');
    const writer = await RecordingWriter.open(path, { ...meta });
    writer.write(10, RecordKind.Binary, 'b', 2, new Uint8Array([1, 2]));
    writer.write(11, RecordKind.Text, 'zzz', undefined, new TextEncoder().encode('{"type":"order"}'));
    await writer.close();
    expect(writer.records).toBe(2);
    const bytes = await readFile(path);
    await writeFile(path, Buffer.concat([bytes, Buffer.from([0, 1, 2])]));
    const events: RecordingEvent[] = [];
    for await (const e of readRecording(path))
      events.push(e.type === 'record' ? { ...e, payload: new Uint8Array(e.payload) } : e);
    expect(events[0]).toEqual({ type: 'header', metadata: meta });
    expect(events[1]).toMatchObject({ type: 'record', time: 10, kind: 0, source: 1, connection: 2 });
    expect(events[2]).toMatchObject({
      type: 'record',
      time: 11,
      kind: 1,
      source: UNKNOWN_SOURCE,
      connection: UNKNOWN_CONNECTION,
    });
    expect(events[3]).toEqual({ type: 'end', records: 2, truncatedBytes: 3, corruptOffset: undefined });
  });

  it('cli recording - readRecording turns a missing file into a usage error', async () => {
    const read = async () => {
      for await (const _ of readRecording(join(dir, 'missing.ktrec'))) {
        // drain
      }
    };
    await expect(read()).rejects.toThrow(/cannot read recording .*ENOENT/);
  });
});
