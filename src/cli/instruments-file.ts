/** Loads `--instruments FILE` (a Kite instruments CSV); every failure is a usage error naming the file. */
import { loadInstrumentsCsv } from '../instruments/index.js';
import type { Instrument } from '../instruments/types.js';
import { UsageError } from './exit-codes.js';

export async function loadInstrumentsFile(path: string, flag = '--instruments'): Promise<Instrument[]> {
  try {
    const list = await loadInstrumentsCsv(path);
    if (list.length === 0) throw new UsageError(`${flag}: ${path} lists no instruments`);
    return list;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('E') && !code.startsWith('ERR_')) {
      throw new UsageError(`${flag}: cannot read ${path}: ${code}`, { cause: error });
    }
    throw new UsageError(`${flag}: ${path}: ${(error as Error).message}`, { cause: error });
  }
}
