/**
 * The simulator's options, validated once (bad values throw InvalidArgumentError from the constructor)
 * and resolved to the numbers its pieces use: the front end's limits and timings, the market's
 * schedule, blast and stamping, the logs' bounds.
 */
import { readFileSync } from 'node:fs';
import { MAX_UNIVERSE_SIZE, SIM_PERIOD } from '../config/limits.js';
import { count, duration, finiteNumber } from '../config/validate.js';
import { InvalidArgumentError } from '../errors.js';
import { parseInstrumentsCsv } from '../instruments/parse.js';
import { DEFAULT_COMMAND_LOG_BYTES } from '../kite-server/command-log.js';
import { KITE_LIMITS } from '../protocol/constants.js';
import { parseStagger, type Stagger } from './stagger.js';
import type { SimulatorInstrument, SimulatorOptions } from './types.js';
import { generateUniverse } from './universe.js';

/** The credentials a simulator accepts unless told otherwise. */
export const DEFAULT_SIMULATOR_CREDENTIALS: Readonly<Record<string, string>> = Object.freeze({
  sim_key_1: 'sim_token_1',
  sim_key_2: 'sim_token_2',
  sim_key_3: 'sim_token_3',
});

export interface ResolvedSimulatorOptions {
  seed: number;
  host: string;
  credentials: Readonly<Record<string, string>>;
  maxConnectionsPerKey: number;
  connectionLimitStatus: number;
  maxInstruments: number;
  heartbeatMs: number;
  batchMs: number;
  ticksPerSecond: number;
  commandLogLimit: number;
  commandLogBytes: number;
  faultLogLimit: number;
  /** 0: blast mode off. */
  blastPacketsPerFrame: number;
  stampSendTime: boolean;
  marketTicks: boolean;
  stagger: Stagger;
}

/** Counts and rates of the options: positive, whole when `integer` (durations use `duration`). */
function positiveNumber(name: string, value: number | undefined, fallback: number, integer = false): number {
  return integer
    ? count(value, name, { min: 1, default: fallback })
    : finiteNumber(value, name, { above: 0, default: fallback });
}

/** @throws InvalidArgumentError for a bad option. */
export function resolveOptions(options: SimulatorOptions): ResolvedSimulatorOptions {
  const seed = options.seed ?? 1;
  if (!Number.isInteger(seed)) throw new InvalidArgumentError(`seed must be a whole number, got ${seed}`);
  const resolved: ResolvedSimulatorOptions = {
    seed: seed >>> 0,
    host: options.host ?? '127.0.0.1',
    credentials: options.credentials ?? DEFAULT_SIMULATOR_CREDENTIALS,
    maxConnectionsPerKey: positiveNumber(
      'maxConnectionsPerKey',
      options.maxConnectionsPerKey,
      KITE_LIMITS.maxConnectionsPerApiKey,
      true,
    ),
    connectionLimitStatus: positiveNumber('connectionLimitStatus', options.connectionLimitStatus, 429, true),
    maxInstruments: positiveNumber(
      'maxInstrumentsPerConnection',
      options.maxInstrumentsPerConnection,
      KITE_LIMITS.maxInstrumentsPerConnection,
      true,
    ),
    heartbeatMs: duration(options.heartbeatIntervalMs, 'heartbeatIntervalMs', {
      ...SIM_PERIOD,
      default: 1000,
    }),
    batchMs: duration(options.batchIntervalMs, 'batchIntervalMs', { ...SIM_PERIOD, default: 100 }),
    ticksPerSecond: positiveNumber('ticksPerSecond', options.ticksPerSecond, 1),
    commandLogLimit: positiveNumber('commandLogLimit', options.commandLogLimit, 1000, true),
    commandLogBytes: positiveNumber(
      'commandLogBytes',
      options.commandLogBytes,
      DEFAULT_COMMAND_LOG_BYTES,
      true,
    ),
    faultLogLimit: positiveNumber('faultLogLimit', options.faultLogLimit, 10_000, true),
    blastPacketsPerFrame: options.blast
      ? Math.min(0xffff, positiveNumber('blast.packetsPerFrame', options.blast.packetsPerFrame, 100, true))
      : 0,
    stampSendTime: options.stampSendTime === true,
    marketTicks: options.marketTicks !== false,
    stagger: parseStagger(options.stagger),
  };
  if (options.chaos) positiveNumber('chaos.faultsPerSecond', options.chaos.faultsPerSecond, 1);
  return resolved;
}

/** The instruments: given, read from a CSV file, or generated from the seed. */
export function loadInstruments(options: SimulatorOptions): SimulatorInstrument[] {
  if (options.instruments) return options.instruments;
  if (options.instrumentsCsv) return parseInstrumentsCsv(readFileSync(options.instrumentsCsv, 'utf8'));
  return generateUniverse(
    // Built eagerly (~500 bytes an instrument): bounded like the CLI's --universe-size.
    count(options.universeSize, 'universeSize', { min: 1, max: MAX_UNIVERSE_SIZE, default: 30_000 }),
    options.seed ?? 1,
  );
}
