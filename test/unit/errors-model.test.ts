/**
 * The error model: each ErrorCode has exactly one class in src/errors.ts whose instances carry it,
 * docs/errors.md lists every code with its class, and no other source file constructs the base class,
 * a plain Error, or declares an error class of its own (except the CLI's documented UsageError).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/errors.js';
import { ErrorCode, KiteTickerError } from '../../src/errors.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One instance per class, built with the arguments its constructor takes. */
const samples: Record<string, () => KiteTickerError> = {
  InvalidArgumentError: () => new errors.InvalidArgumentError('x'),
  InvalidTokenError: () => new errors.InvalidTokenError('x'),
  CapacityError: () => new errors.CapacityError(2, 1, 'key a'),
  ApiKeyNotFoundError: () => new errors.ApiKeyNotFoundError('a'),
  DuplicateApiKeyError: () => new errors.DuplicateApiKeyError('a', 'b'),
  ManualDistributionError: () => new errors.ManualDistributionError(),
  AuthFailedError: () => new errors.AuthFailedError(403),
  ConnectionError: () => new errors.ConnectionError('x'),
  ConnectTimeoutError: () => new errors.ConnectTimeoutError('x'),
  ReconnectExhaustedError: () => new errors.ReconnectExhaustedError('x'),
  AbortedError: () => new errors.AbortedError(),
  ClosedError: () => new errors.ClosedError('x'),
  NotStartedError: () => new errors.NotStartedError('x'),
  UnknownInstrumentError: () => new errors.UnknownInstrumentError('NSE:X', []),
  ExpiredInstrumentError: () => new errors.ExpiredInstrumentError('NFO:X', '2020-01-01', '2020-01-02'),
  InstrumentsDownloadError: () => new errors.InstrumentsDownloadError('x'),
  MalformedEnvelopeError: () => new errors.MalformedEnvelopeError('x'),
  UnexpectedError: () => new errors.UnexpectedError('x'),
  TokenProviderError: () => new errors.TokenProviderError('x'),
  LoginError: () => new errors.LoginError('x'),
  HaEntryError: () => new errors.HaEntryError('x'),
};

/** Every class exported by src/errors.ts that extends KiteTickerError (the base itself excluded). */
function errorClasses(): string[] {
  return Object.entries(errors)
    .filter(
      ([name, value]) =>
        typeof value === 'function' &&
        value.prototype instanceof KiteTickerError &&
        name !== 'KiteTickerError',
    )
    .map(([name]) => name)
    .sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('errors model', () => {
  it('errors - every class exported by errors.ts has a sample here (a new class must be added)', () => {
    expect(errorClasses()).toEqual(Object.keys(samples).sort());
  });

  it('errors - every ErrorCode has exactly one class whose instances carry it, named as the class', () => {
    const classByCode = new Map<string, string[]>();
    for (const [name, make] of Object.entries(samples)) {
      const error = make();
      expect(error).toBeInstanceOf(KiteTickerError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      classByCode.set(error.code, [...(classByCode.get(error.code) ?? []), name]);
    }
    for (const code of Object.values(ErrorCode)) {
      expect(classByCode.get(code), code).toHaveLength(1);
    }
    expect([...classByCode.keys()].sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it('errors - the closed/aborted helpers make the ClosedError and AbortedError classes', () => {
    expect(errors.closedError('KiteTicker')).toBeInstanceOf(errors.ClosedError);
    expect(errors.closedError('KiteTicker').message).toBe('KiteTicker is closed');
    const reason = new Error('user');
    const aborted = errors.abortedError(reason);
    expect(aborted).toBeInstanceOf(errors.AbortedError);
    expect(aborted.cause).toBe(reason);
  });

  it('errors - DuplicateApiKeyError words an id added twice and one apiKey under two ids differently', () => {
    expect(new errors.DuplicateApiKeyError('a', 'a').message).toMatch(/duplicate API key id "a"/);
    expect(new errors.DuplicateApiKeyError('a', 'b').message).toMatch(/"a" and "b" have the same apiKey/);
  });

  it('errors - docs/errors.md has one table row per code, naming its class', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const rows = new Map<string, string>();
    for (const line of doc.split('\n')) {
      const m = /^\| `(ERR_[A-Z_]+)` \| `([A-Za-z]+)` \|/.exec(line);
      if (m) {
        expect(rows.has(m[1]!), `${m[1]} listed twice`).toBe(false);
        rows.set(m[1]!, m[2]!);
      }
    }
    const expected = new Map(Object.entries(samples).map(([name, make]) => [make().code as string, name]));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(expected));
  });

  it('errors - no source file but errors.ts constructs KiteTickerError or a plain Error, or declares an error class', () => {
    const offenders: string[] = [];
    for (const file of sourceFiles(join(ROOT, 'src'))) {
      const rel = file.slice(ROOT.length);
      if (rel === 'src/errors.ts') continue;
      const text = readFileSync(file, 'utf8');
      for (const [i, line] of text.split('\n').entries()) {
        if (/new (KiteTickerError|Error|TypeError|RangeError)\(/.test(line))
          offenders.push(`${rel}:${i + 1}`);
        // The CLI's UsageError is the one documented exception (docs/errors.md, Notes).
        if (
          /class \w+ extends \w*Error\b/.test(line) &&
          !line.includes('class UsageError extends InvalidArgumentError')
        )
          offenders.push(`${rel}:${i + 1}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
