/** Commander wiring of `kiteticker instruments` and `kiteticker instruments search` (kept out of program.ts). */
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import {
  type RawInstrumentsOptions,
  type RawSearchOptions,
  runInstruments,
  runInstrumentsSearch,
} from './instruments.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `stream`/`record` flags about instruments: chains, watchlists, where the list comes from. */
export function addChainOptions(cmd: Command): Command {
  return cmd
    .option(
      '--chain <spec>',
      'an option chain: UNDERLYING[:EXPIRY][:N], e.g. NIFTY, BANKNIFTY:next:5 (EXPIRY nearest|next|monthly|YYYY-MM-DD, N strikes each side, default 10; repeatable)',
      collect,
    )
    .option('--follow', 'with --chain: re-centre the chain as the underlying moves')
    .option(
      '--recenter-strikes <n>',
      'with --follow: re-centre after a move of more than N strikes (default: 2)',
    )
    .option('--watchlist <file>', 'instruments to stream, one symbol or token per line (# comments)')
    .option(
      '--api-url <url>',
      'Kite REST root for the daily instruments list (default: https://api.kite.trade)',
    );
}

export function registerInstrumentsCommand(
  program: Command,
  io: CliIo,
  setExit: (code: number) => void,
): void {
  const cmd = program
    .command('instruments')
    .description('download or refresh the daily instruments list (cached), and print rows per exchange')
    .option(
      '--api-url <url>',
      'Kite REST root (default: https://api.kite.trade; a simulator serves /instruments too)',
    )
    .option('-o, --out <file>', 'also write the list (Kite CSV) to this file')
    .option('-e, --exchange <list>', 'only these exchanges, comma-separated (NSE,NFO); one cached file each')
    .option(
      '--cache-dir <dir>',
      'cache directory (default: $XDG_CACHE_HOME/kiteticker or ~/.cache/kiteticker)',
    )
    .option('--force', 'revalidate even when the cached copy is from today')
    .option('--publish-at <HH:MM>', "the list's daily publication time, Asia/Kolkata (default: 08:30)")
    .option('--keys-file <file>', 'JSON file of API keys (the first one authenticates the download)')
    .addHelpText(
      'after',
      '\nCredentials (optional for the download): KITE_API_KEY + KITE_ACCESS_TOKEN, or --keys-file.\nExamples:\n  kiteticker instruments\n  kiteticker instruments --exchange NSE,NFO --out today.csv\n  kiteticker instruments search NIFTY --type CE --exchange NFO',
    )
    .action(async (opts: RawInstrumentsOptions) => {
      setExit(await runInstruments(opts, io));
    });
  cmd
    .command('search')
    .description('search the instruments list by symbol or name prefix; prints a table')
    .argument('<text...>', 'symbol or name (prefix); words are joined with spaces')
    .option('-e, --exchange <list>', 'only these exchanges (NSE,NFO)')
    .option('-t, --type <list>', 'only these types: CE, PE, FUT, EQ (comma-separated)')
    .option('-l, --limit <n>', 'at most this many rows (default: 50)')
    .option('-i, --instruments <file>', 'search this Kite instruments CSV instead of the cache')
    .option('--api-url <url>', 'Kite REST root to refresh a stale cache from')
    .option('--cache-dir <dir>', 'cache directory')
    .option('--keys-file <file>', 'JSON file of API keys')
    .action(async (words: string[], _opts: RawSearchOptions, search: Command) => {
      // Options both commands define (--exchange, --api-url...) may land on either: merge them.
      setExit(await runInstrumentsSearch(words.join(' '), search.optsWithGlobals<RawSearchOptions>(), io));
    });
}
