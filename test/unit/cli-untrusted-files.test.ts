/**
 * Files others write (a shared `.ktrec` recording, an instruments CSV from a hostile --api-url) are
 * untrusted: their text is shown escaped, and a recording's metadata of the wrong shape is a usage
 * error naming the file and the field.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { table } from '../../src/cli/commands/instruments.js';
import { resolveReplayConfig, runReplay } from '../../src/cli/commands/replay.js';
import { runCli } from '../../src/cli/program.js';
import { encodeFileHeader, type RecordingMetadata, RecordKind } from '../../src/cli/recording.js';
import { escapeControls, escapeJsonControls, terminalLine } from '../../src/cli/terminal-text.js';
import { renderView } from '../../src/cli/view.js';
import { InvalidArgumentError } from '../../src/errors.js';
import { parseInstrumentsCsv } from '../../src/instruments/parse.js';
import { RecordingWriter } from '../../src/sinks/recorder/writer.js';
import { memoryIo } from '../helpers/memory-io.js';

const OSC52 = '\x1b]52;c;SEFDSw==\x07';
const CLEAR = '\x1b[2J';
const TITLE = '\x1b]0;pwned\x07';
const RLO = '\u202e';

/**
 * True when `text` holds a character a terminal would obey rather than show. With `allowAnsi`, the
 * live view's own cursor control (ESC [ ... letter) is allowed: the tests then also look for the
 * escaped form of what was injected, which is there only if it was escaped.
 */
function hasRawControl(text: string, allowAnsi = false): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the view's own ANSI sequences.
  const rest = allowAnsi ? text.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '') : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  return /[\x00-\x08\x0b-\x1f\x7f-\x9f\p{Cf}\u2028\u2029]/u.test(rest);
}

/** One LTP packet (token, price in paise) as a Kite frame. */
function ltpFrame(token: number, paise: number): Uint8Array {
  const frame = Buffer.alloc(12);
  frame.writeUInt16BE(1, 0);
  frame.writeUInt16BE(8, 2);
  frame.writeUInt32BE(token, 4);
  frame.writeInt32BE(paise, 8);
  return frame;
}

const hostileMeta: RecordingMetadata = {
  createdAt: `2026-01-01${CLEAR}`,
  tool: 'kiteticker',
  endpoint: `ws://evil${OSC52}`,
  mode: `quote${TITLE}`,
  sources: [`key${OSC52}${RLO}1`],
  instruments: 1,
  quoteSymbols: [{ token: 256265, symbol: `NSE:NIFTY${OSC52} 50${RLO}` }],
};

let dir: string;
let hostileFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-untrusted-'));
  hostileFile = join(dir, 'hostile.ktrec');
  const writer = await RecordingWriter.open(hostileFile, structuredClone(hostileMeta));
  writer.write(1000, RecordKind.Binary, hostileMeta.sources[0], 0, ltpFrame(256265, 2_400_000));
  await writer.close();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeRecording(name: string, metadata: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, encodeFileHeader(metadata as RecordingMetadata));
  return path;
}

describe('cli untrusted files', () => {
  it('terminal text - bidi and other format characters are shown as \\u escapes', () => {
    const format = [0x200b, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069, 0xfeff, 0x2028, 0x2029];
    for (const code of format) {
      const char = String.fromCharCode(code);
      expect(escapeControls(`a${char}b`)).toBe(`a\\u${code.toString(16).padStart(4, '0')}b`);
      expect(JSON.parse(escapeJsonControls(JSON.stringify(`a${char}b`)))).toBe(`a${char}b`);
      expect(hasRawControl(escapeJsonControls(JSON.stringify(char)))).toBe(false);
    }
    // Beyond the BMP (tag characters are Cf too): one escape for the code point, a pair in JSON.
    expect(escapeControls('x\u{e0001}y')).toBe('x\\u{e0001}y');
    expect(escapeJsonControls(JSON.stringify('\u{e0001}'))).toBe('"\\udb40\\udc01"');
    expect(terminalLine(`server error: file${RLO}txt.exe`)).toBe('server error: file\\u202etxt.exe');
    // Escaping twice changes nothing: the view escapes cells and lines both.
    const once = escapeControls(`${OSC52}${RLO}\n`);
    expect(escapeControls(once)).toBe(once);
    expect(escapeControls('NIFTY 50 · ₹ 日本')).toBe('NIFTY 50 · ₹ 日本');
  });

  it('cli view - every text from outside is shown escaped, columns still aligned', () => {
    const snapshot = {
      at: 10_000,
      uptimeMs: 5000,
      apiKeys: [
        {
          apiKeyId: `key${OSC52}`,
          state: `ok${CLEAR}`,
          drops: 0,
          connections: [
            {
              index: 0,
              status: `connected${RLO}`,
              connected: true,
              symbols: 1,
              frames: 1,
              ticks: 1,
              bytes: 12,
              reconnects: 0,
              protocolErrors: 0,
              lastFrameAgeMs: 5,
            },
          ],
        },
      ],
    };
    const lines = renderView(
      {
        title: `kiteticker replay · recorded ${CLEAR} from ${OSC52}`,
        snapshot,
        rates: { rate: () => 0, totalRate: () => 0 },
        quotes: [
          { token: 1, symbol: `NSE:EVIL${TITLE}`, tick: undefined, receivedAt: undefined },
          { token: 2, symbol: 'NSE:INFY', tick: undefined, receivedAt: undefined },
        ],
        notice: `server said ${RLO}gnp.exe`,
      },
      { columns: 200, rows: 40 },
    );
    const screen = lines.join('\n');
    expect(hasRawControl(screen)).toBe(false);
    expect(screen).toContain('recorded \\x1b[2J from \\x1b]52;c;SEFDSw==\\x07');
    expect(screen).toContain('key\\x1b]52;c;SEFDSw==\\x07');
    expect(screen).toContain('connected\\u202e');
    expect(screen).toContain('server said \\u202egnp.exe');
    const evil = lines.find((l) => l.startsWith('NSE:EVIL'))!;
    const infy = lines.find((l) => l.startsWith('NSE:INFY'))!;
    expect(evil).toContain('NSE:EVIL\\x1b]0;pwned\\x07');
    // The LTP column starts at the same place on both rows: widths were measured on the escaped text.
    expect(evil.indexOf(' -')).toBe(infy.indexOf(' -'));
  });

  it('cli replay - a recording metadata escape never reaches the terminal: view header, key and symbol', async () => {
    const t = memoryIo();
    // A wide terminal, so the whole title is drawn (the file's path is long).
    Object.assign(t.io.stdout, { columns: 400, rows: 40 });
    const config = resolveReplayConfig(hostileFile, { format: 'view', speed: '0' }, true);
    expect(await runReplay(config, t.io)).toBe(0);
    const out = t.out();
    expect(hasRawControl(out, true)).toBe(false);
    expect(out).not.toContain('\x1b]');
    expect(out).toContain('recorded 2026-01-01\\x1b[2J from ws://evil\\x1b]52;c;SEFDSw==\\x07');
    expect(out).toContain('mode quote\\x1b]0;pwned\\x07');
    expect(out).toContain('key\\x1b]52;c;SEFDSw==\\x07\\u202e1');
    expect(out).toContain('NSE:NIFTY\\x1b]52;c;SEFDSw==\\x07 50\\u202e');
    expect(hasRawControl(t.err())).toBe(false);
  });

  it('cli replay - ndjson escapes a hostile key id as JSON, the value unchanged', async () => {
    const t = memoryIo();
    expect(await runCli(['replay', hostileFile, '--format', 'ndjson', '--no-summary'], t.io)).toBe(0);
    const line = t.out().trim();
    expect(hasRawControl(line)).toBe(false);
    expect(JSON.parse(line)).toMatchObject({ instrument_token: 256265, apiKeyId: hostileMeta.sources[0] });
  });

  it('cli replay - --serve prints the recording line escaped', async () => {
    const t = memoryIo();
    expect(await runCli(['replay', hostileFile, '--serve', '--duration', '0.1'], t.io)).toBe(0);
    const recordingLine = t
      .out()
      .split('\n')
      .find((l) => l.includes('recording:'))!;
    expect(recordingLine).toContain(
      '(recorded 2026-01-01\\x1b[2J from ws://evil\\x1b]52;c;SEFDSw==\\x07, mode quote\\x1b]0;pwned\\x07, 1 instrument)',
    );
    expect(hasRawControl(t.out())).toBe(false);
    expect(hasRawControl(t.err())).toBe(false);
  });

  it('cli replay - wrongly typed metadata is a usage error naming the file and the field', async () => {
    const base = { createdAt: 'x', tool: 't', endpoint: 'simulator', mode: 'quote', sources: ['a'] };
    const cases: [unknown, string][] = [
      [{ ...base, quoteSymbols: [{ token: { toString: 1 }, symbol: { a: 1 } }] }, 'quoteSymbols[0].token'],
      [{ ...base, quoteSymbols: [{ token: 1, symbol: { a: 1 } }] }, 'quoteSymbols[0].symbol'],
      [{ ...base, quoteSymbols: [{ token: -1, symbol: 's' }] }, 'quoteSymbols[0].token'],
      [{ ...base, quoteSymbols: 'NSE:INFY' }, 'quoteSymbols'],
      [{ ...base, quoteSymbols: [null] }, 'quoteSymbols[0]'],
      [{ ...base, createdAt: { toString: 1 } }, 'createdAt'],
      [{ ...base, endpoint: 'x'.repeat(5000) }, 'endpoint'],
      [{ ...base, mode: 7 }, 'mode'],
      [{ ...base, sources: [{}] }, 'sources[0]'],
      [{ ...base, sources: 'a' }, 'sources'],
      [{ ...base, instruments: '3' }, 'instruments'],
      [{ ...base, tool: undefined }, 'tool'],
    ];
    for (const [i, [metadata, field]] of cases.entries()) {
      const path = await writeRecording(`bad-${i}.ktrec`, metadata);
      for (const args of [
        ['--format', 'view'],
        ['--format', 'ndjson'],
        ['--serve', '--duration', '0.1'],
      ]) {
        const t = memoryIo();
        const code = await runCli(['replay', path, ...args], t.io);
        expect(code, `${field} ${args.join(' ')}: ${t.err()}`).toBe(2);
        expect(t.err()).toContain(`${path}: bad recording metadata: ${field} must be`);
        expect(t.err()).not.toMatch(/is not a function|Cannot convert|TypeError/);
      }
    }
    // Too large to be a header: refused before parsing.
    const huge = await writeRecording('huge.ktrec', { ...base, pad: 'x'.repeat(1024 * 1024) });
    const t = memoryIo();
    expect(await runCli(['replay', huge, '--format', 'ndjson'], t.io)).toBe(2);
    expect(t.err()).toContain(`${huge}: corrupt recording header (metadata of`);
  });

  it('cli instruments - the search table shows a hostile trading symbol escaped, columns aligned', () => {
    const text = table(
      ['token', 'symbol', 'exchange'],
      [
        ['256265', `NIFTY${OSC52} 50${RLO}`, `NSE${CLEAR}`],
        ['408065', 'INFY', 'NSE'],
      ],
      [true, false, false],
    );
    expect(hasRawControl(text.replaceAll('\n', ''))).toBe(false);
    const [, evil, infy] = text.split('\n');
    expect(evil).toBe('256265  NIFTY\\x1b]52;c;SEFDSw==\\x07 50\\u202e  NSE\\x1b[2J');
    expect(infy!.indexOf('NSE')).toBe(evil!.indexOf('NSE\\x1b'));
  });

  it('instruments csv - a control or format character in a field is refused, naming the line', async () => {
    const header =
      'instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange';
    const good = '408065,1594,INFY,INFOSYS,0,,0,0.05,1,EQ,NSE,NSE';
    for (const [i, evil] of [OSC52, CLEAR, RLO, '\u200b', '\u0085', '\x7f'].entries()) {
      const text = [header, good, `256265,1001,"NIFTY${evil} 50",NIFTY,0,,0,0.05,1,EQ,INDICES,NSE`].join(
        '\r\n',
      );
      expect(() => parseInstrumentsCsv(text)).toThrow(InvalidArgumentError);
      expect(() => parseInstrumentsCsv(text)).toThrow(
        /^instruments CSV line 3: holds the control or format character U\+/,
      );
      const csv = join(dir, `evil-${i}.csv`);
      await writeFile(csv, text);
      const t = memoryIo();
      expect(await runCli(['instruments', 'search', 'NIFTY', '-i', csv], t.io)).toBe(2);
      expect(t.err()).toContain(`${csv}: instruments CSV line 3: holds the control or format character`);
      expect(hasRawControl(t.out() + t.err().replaceAll('\n', ''))).toBe(false);
    }
    // A byte-order mark before the header, tabs and CRLF line ends are what real files have: accepted.
    expect(parseInstrumentsCsv(`\ufeff${header}\r\n${good.replace('INFOSYS', 'INFOSYS\tLTD')}`)).toHaveLength(
      1,
    );
  });
});
