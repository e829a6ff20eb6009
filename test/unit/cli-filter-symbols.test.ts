import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveSubscribeConfig } from '../../src/cli/commands/subscribe.js';
import { UsageError } from '../../src/cli/exit-codes.js';
import { resolveSymbolFilters } from '../../src/cli/filter-symbols.js';
import { filterSubject } from '../../src/sinks/subjects.js';
import { derivativesCsv } from '../helpers/instrument-lists.js';

let dir: string;
let file: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kt-filter-'));
  file = join(dir, 'list.csv');
  await writeFile(file, derivativesCsv());
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cli subscribe filter symbols', () => {
  it('cli subscribe filter symbols - EXCHANGE:TRADINGSYMBOL becomes its token subject; other filters pass through', async () => {
    const said: string[] = [];
    const filters = await resolveSymbolFilters(
      ['nse:infy', 'NSE:NIFTY 50', 'NSE:408065', 'NFO', 'kite.tick.NFO.*'],
      {
        instrumentsFile: file,
        env: {},
        say: (l) => said.push(l),
      },
    );
    expect(filters).toEqual(['408065', '256265', 'NSE:408065', 'NFO', 'kite.tick.NFO.*']);
    const config = resolveSubscribeConfig({ filter: filters! });
    expect(config.filters.map((f) => filterSubject('kite', f))).toEqual([
      'kite.tick.NSE.408065',
      'kite.tick.INDICES.256265',
      'kite.tick.NSE.408065',
      'kite.tick.NFO.*',
      'kite.tick.NFO.*',
    ]);
    expect(said).toEqual([]);
  });

  it('cli subscribe filter symbols - no list is read when no filter names a symbol; an unknown symbol is a usage error', async () => {
    // A file that does not exist is never opened when nothing needs it.
    expect(
      await resolveSymbolFilters(['NSE', '408065'], {
        instrumentsFile: join(dir, 'nope.csv'),
        env: {},
        say: () => {},
      }),
    ).toEqual(['NSE', '408065']);
    const err = await resolveSymbolFilters(['NSE:INFYY'], {
      instrumentsFile: file,
      env: {},
      say: () => {},
    }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(
      /--filter: cannot read filter "NSE:INFYY": unknown instrument symbol: "NSE:INFYY"; closest: NSE:INFY \(in .*list\.csv\)/,
    );
  });
});
