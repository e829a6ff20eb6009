/**
 * The drop-in contract (issue 19): a handler written for the official kiteconnect client must see the
 * same ticks from us, whichever way it looks at them. Both our decoded ticks and the ticks the
 * latest-quote table rebuilds from its stored values are compared with the official parser's ticks on
 * the same frame: property access, JSON.stringify, object spread, Object.keys (in order, nested objects
 * too: the official order is fixed by its object literals), `instanceof Date`, structuredClone and
 * postMessage to a worker thread. Our only differences are two additions at the end: net_change, exchange.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { LatestQuoteTable } from '../../src/delivery/latest-quotes.js';
import { decodeFrame, encodeTicks } from '../../src/protocol/index.js';
import type { Tick } from '../../src/protocol/types.js';
import { contractTicks } from './contract-ticks.js';

const require = createRequire(import.meta.url);
const { KiteTicker } = require('kiteconnect') as {
  KiteTicker: new (p: {
    api_key: string;
    access_token: string;
  }) => { parseBinary(b: ArrayBuffer): unknown[] };
};
// Constructing a KiteTicker opens no socket; parseBinary is the official client's own parser.
const official = new KiteTicker({ api_key: 'test', access_token: 'test' });

type Loose = Record<string, unknown>;
/** Our additions, always last; LTP ticks have no change, so no net_change either. */
const additionsOf = (tick: Tick): string[] =>
  tick.mode === 'ltp' ? ['exchange'] : ['net_change', 'exchange'];

const bytes = encodeTicks(contractTicks());
const theirs = official.parseBinary(bytes.slice().buffer) as Loose[];

function decoded(): Tick[] {
  return decodeFrame(bytes);
}

function fromTable(): Tick[] {
  const table = new LatestQuoteTable();
  const ticks = decodeFrame(bytes);
  table.update(ticks);
  return ticks.map((t) => table.get(t.instrument_token)!);
}

function withoutAdditions(tick: Tick): Loose {
  const { exchange: _e, net_change: _n, ...rest } = tick as Tick & { net_change?: number };
  return rest;
}

/** Every own key, in order, of the object and of the objects nested in it (arrays by index). */
function keyPaths(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Date) return [];
  const out: string[] = [];
  for (const key of Object.keys(value)) {
    const p = `${path}.${key}`;
    out.push(p, ...keyPaths((value as Loose)[key], p));
  }
  return out;
}

const DATE_FIELDS = ['last_trade_time', 'exchange_timestamp'] as const;

describe.each([
  ['decodeFrame', decoded],
  ['latest-quote table', fromTable],
])('drop-in contract (%s vs official kiteconnect)', (_name, source) => {
  it('contract - same frame, same number of ticks, every kind present', () => {
    const ours = source();
    expect(ours).toHaveLength(theirs.length);
    expect(new Set(ours.map((t) => `${t.mode}/${t.tradable}`)).size).toBe(5);
  });

  it('contract - property access gives the official values; the only extra keys are our additions', () => {
    const ours = source();
    ours.forEach((tick, i) => {
      const mine = tick as unknown as Loose;
      for (const key of Object.keys(theirs[i]!)) expect(mine[key], key).toEqual(theirs[i]![key]);
      expect(Object.keys(mine).filter((k) => !(k in theirs[i]!))).toEqual(additionsOf(tick));
    });
  });

  it('contract - Object.keys order matches the official one, nested objects included', () => {
    source().forEach((tick, i) => {
      const expected = [...keyPaths(theirs[i]), ...additionsOf(tick).map((k) => `.${k}`)];
      expect(keyPaths(tick)).toEqual(expected);
    });
  });

  it('contract - JSON.stringify gives the official text plus our additions', () => {
    source().forEach((tick, i) => {
      expect(JSON.stringify(withoutAdditions(tick))).toBe(JSON.stringify(theirs[i]));
    });
  });

  it('contract - object spread copies the same fields, Dates included', () => {
    source().forEach((tick, i) => {
      const spread = { ...tick } as Loose;
      const theirSpread = { ...theirs[i] };
      for (const key of Object.keys(theirSpread)) expect(spread[key], key).toEqual(theirSpread[key]);
      expect(Object.keys(spread)).toEqual([...Object.keys(theirSpread), ...additionsOf(tick)]);
    });
  });

  it('contract - the two timestamps are Dates (or null) exactly where the official ones are', () => {
    let dates = 0;
    source().forEach((tick, i) => {
      for (const field of DATE_FIELDS) {
        const mine = (tick as unknown as Loose)[field];
        const their = theirs[i]![field];
        if (their instanceof Date) {
          dates++;
          expect(mine).toBeInstanceOf(Date);
          expect((mine as Date).getTime()).toBe(their.getTime());
        } else expect(mine, field).toBe(their);
      }
    });
    expect(dates).toBe(3);
  });

  it('contract - structuredClone keeps every field, Dates as Dates', () => {
    const ours = source();
    const clones = structuredClone(ours);
    const theirClones = structuredClone(theirs);
    clones.forEach((clone, i) => {
      expect(clone).toEqual(ours[i]);
      expect(keyPaths(clone)).toEqual(keyPaths(ours[i]));
      expect(withoutAdditions(clone)).toEqual(theirClones[i]);
      for (const field of DATE_FIELDS) {
        const value = (clone as unknown as Loose)[field];
        if (value !== null && value !== undefined) expect(value).toBeInstanceOf(Date);
      }
    });
  });

  it('contract - postMessage to a worker thread delivers the same ticks as the official ones', async () => {
    const ours = source();
    // The worker checks `instanceof Date` on its side (its own realm) and echoes the ticks back.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.once('message', ({ ours, theirs }) => {
         const dates = (ticks) => ticks.map((t) =>
           [t.last_trade_time instanceof Date, t.exchange_timestamp instanceof Date]);
         parentPort.postMessage({ ours, theirs, ourDates: dates(ours), theirDates: dates(theirs) });
       });`,
      { eval: true },
    );
    try {
      const reply = await new Promise<{
        ours: Tick[];
        theirs: Loose[];
        ourDates: boolean[][];
        theirDates: boolean[][];
      }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ ours, theirs });
      });
      expect(reply.ourDates).toEqual(reply.theirDates);
      expect(reply.ourDates.flat().filter(Boolean)).toHaveLength(3);
      expect(reply.ours).toEqual(ours);
      reply.ours.forEach((tick, i) => {
        expect(keyPaths(tick)).toEqual(keyPaths(ours[i]));
        expect(withoutAdditions(tick)).toEqual(reply.theirs[i]);
        expect(JSON.stringify(withoutAdditions(tick))).toBe(JSON.stringify(theirs[i]));
      });
    } finally {
      await worker.terminate();
    }
  });
});
