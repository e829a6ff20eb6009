/**
 * Step 1: whose keys stream, and from where. Real credentials as loaded by the config; without any,
 * the built-in simulator (created here, started with the manager) and its test keys. The instruments
 * file is read here too: the simulator plays that list when one is given.
 */
import type { Instrument } from '../../instruments/types.js';
import { type ApiKeyCredential, secretsOf } from '../credentials.js';
import { loadInstrumentsFile } from '../instruments-file.js';
import type { SelectableInstrument } from '../selection.js';
import { createSimHost, type SimHost } from '../sim-host.js';
import type { StreamContext } from './context.js';

export interface StreamCredentials {
  keys: readonly ApiKeyCredential[];
  /** The in-process simulator when no credentials were given (created, not started). */
  sim: SimHost | undefined;
  /** The --instruments list, else the simulator's universe; undefined for real Kite without a file. */
  universe: readonly SelectableInstrument[] | undefined;
}

export async function resolveCredentials(ctx: StreamContext): Promise<StreamCredentials> {
  const { config } = ctx;
  for (const warning of config.credentials.warnings ?? []) ctx.say(`kiteticker: ${warning}`);
  const file =
    config.instrumentsFile !== undefined ? await loadInstrumentsFile(config.instrumentsFile) : undefined;
  if (!config.simulator) return { keys: config.credentials.keys, sim: undefined, universe: file };
  const sim = createSimHost({
    keys: config.simKeys,
    seed: config.simSeed,
    rate: config.simRate,
    ...(file ? { instruments: file as readonly Instrument[] } : {}),
    // Generating the synthetic universe costs time in proportion to its size: a default set only
    // needs a few times its own size, named symbols get the full universe to be found in.
    ...(file === undefined &&
    config.instrumentSpecs.length === 0 &&
    config.chain.chains.length === 0 &&
    config.chain.watchlist === undefined
      ? { universeSize: Math.min(30_000, Math.max(5_000, config.instrumentsCount * 2)) }
      : {}),
  });
  ctx.keys = sim.keys;
  ctx.secrets.push(...secretsOf(sim.keys));
  return { keys: sim.keys, sim, universe: file ?? sim.simulator.instruments() };
}
