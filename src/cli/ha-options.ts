/**
 * `stream --ha GROUP [--ha-instance ID] [--ha-ttl MS]`: the flags, checked into one config before
 * anything starts. Kept apart from stream-config.ts so the HA mode is one optional field there.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { defaultInstanceId, validateGroup, validateInstance } from '../ha/names.js';
import { MAX_TTL_MS, MIN_TTL_MS, resolveTimings } from '../ha/timings.js';
import { UsageError } from './exit-codes.js';
import { parseInteger } from './parse.js';

export interface RawHaOptions {
  ha?: string;
  haInstance?: string;
  haTtl?: string;
  haReplicas?: string;
}

export interface HaCliConfig {
  group: string;
  instance: string;
  ttlMs: number;
  /** Replicas of the group's bucket when this instance creates it (an existing bucket is used as it is). */
  replicas: number;
}

export function addHaOptions(cmd: Command): Command {
  return cmd
    .option(
      '--ha <group>',
      'with --nats: high availability: hold the keys of this group only while holding their leases in NATS (docs/high-availability.md)',
    )
    .option(
      '--ha-instance <id>',
      'with --ha: this instance id, unique in the group (default: <hostname>-<pid>)',
    )
    .option('--ha-ttl <ms>', 'with --ha: lease TTL in milliseconds (default: 2000)')
    .option(
      '--ha-replicas <n>',
      'with --ha: replicas of the group bucket when it is created here: 1, 3 or 5 (default: 1; use 3 on a 3-node cluster)',
    );
}

/** Undefined without --ha. Throws UsageError for a bad value or a flag without what it needs. */
export function resolveHaOptions(
  raw: RawHaOptions & { nats?: string; chain?: string[] },
  simulator: boolean,
): HaCliConfig | undefined {
  if (raw.ha === undefined) {
    if (raw.haInstance !== undefined) throw new UsageError('--ha-instance needs --ha');
    if (raw.haTtl !== undefined) throw new UsageError('--ha-ttl needs --ha');
    if (raw.haReplicas !== undefined) throw new UsageError('--ha-replicas needs --ha');
    return undefined;
  }
  if (raw.nats === undefined) throw new UsageError('--ha needs --nats (the leases live in NATS)');
  if (simulator) {
    throw new UsageError(
      '--ha needs credentials (KITE_API_KEY/KITE_ACCESS_TOKEN or --keys-file): instances of a group share the same keys; against a simulator, run `kiteticker simulate` and pass --url',
    );
  }
  if (raw.chain !== undefined && raw.chain.length > 0) {
    throw new UsageError('--ha does not take --chain: give the instruments by token or symbol');
  }
  try {
    const group = validateGroup(raw.ha);
    const instance = validateInstance(raw.haInstance ?? defaultInstanceId());
    const ttlMs =
      raw.haTtl === undefined
        ? resolveTimings().ttlMs
        : parseInteger('--ha-ttl', raw.haTtl, MIN_TTL_MS, MAX_TTL_MS);
    resolveTimings({ ttlMs });
    const replicas = raw.haReplicas === undefined ? 1 : parseInteger('--ha-replicas', raw.haReplicas, 1, 5);
    if (replicas !== 1 && replicas !== 3 && replicas !== 5) {
      throw new UsageError(`--ha-replicas: expected 1, 3 or 5, got ${replicas}`);
    }
    return { group, instance, ttlMs, replicas };
  } catch (error) {
    if (error instanceof InvalidArgumentError && !(error instanceof UsageError)) {
      throw new UsageError(
        error.message.replace(
          /^ha (group|instance)/,
          (_m, w: string) => `--ha${w === 'instance' ? '-instance' : ''}`,
        ),
      );
    }
    throw error;
  }
}
