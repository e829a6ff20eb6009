/**
 * `kiteticker ha status --nats URL --ha GROUP [--json]`: who holds which key of a group, since when,
 * how old each lease is, and the members. Reads the group's bucket once and prints a table (or one
 * JSON document). The NATS client is an optional peer dependency, loaded only here.
 */
import type { Command } from 'commander';
import type { HaStatus } from '../../ha/status.js';
import { redactNatsText } from '../../sinks/secrets.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import type { CliIo } from '../io.js';
import { natsAuthOptions, natsSecrets } from '../nats-auth.js';
import { terminalLine } from '../terminal-text.js';

export const DEFAULT_HA_NATS_URL = 'nats://127.0.0.1:4222';

interface RawHaStatusOptions {
  nats?: string;
  natsCreds?: string;
  ha?: string;
  json?: boolean;
}

export function registerHaCommand(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const ha = program.command('ha').description('high availability: inspect a `stream --ha` group');
  ha.command('status')
    .description('who holds which API key of a group, since when, lease ages, and the members')
    .requiredOption('--ha <group>', 'the group (as given to stream --ha)')
    .option('--nats <url>', `NATS server URL(s), comma-separated (default: ${DEFAULT_HA_NATS_URL})`)
    .option('--nats-creds <file>', 'NATS credentials file (.creds); or set NATS_USER/NATS_PASSWORD')
    .option('--json', 'print one JSON document instead of a table')
    .action(async (opts: RawHaStatusOptions) => {
      setExit(await runHaStatus(opts, io));
    });
}

async function runHaStatus(opts: RawHaStatusOptions, io: CliIo): Promise<number> {
  const { validateGroup } = await import('../../ha/names.js');
  let group: string;
  try {
    group = validateGroup(opts.ha);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^ha group/, '--ha'));
  }
  const servers = (opts.nats ?? DEFAULT_HA_NATS_URL)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const secrets = natsSecrets(io.env, servers);
  const connectOptions = await natsAuthOptions(servers, opts.natsCreds, io.env);
  const [{ dialNats }, { readHaStatus }] = await Promise.all([
    import('../../sinks/nats-connection.js'),
    import('../../ha/status.js'),
  ]).catch((error: unknown) => {
    throw new UsageError(
      `ha status needs the optional packages @nats-io/transport-node, @nats-io/jetstream and @nats-io/kv: ${(error as Error).message}`,
    );
  });
  const nc = await dialNats({ servers, connectOptions, connectTimeoutMs: 5_000 });
  try {
    const status = await readHaStatus(nc, group);
    io.stdout.write(opts.json ? `${JSON.stringify(status)}\n` : renderTable(status));
    return ExitCode.Ok;
  } catch (error) {
    io.stderr.write(
      `kiteticker: error: ${terminalLine(redactNatsText((error as Error).message, connectOptions), secrets)}\n`,
    );
    return ExitCode.Runtime;
  } finally {
    await nc.close().catch(() => undefined);
  }
}

function renderTable(status: HaStatus): string {
  const now = Date.now();
  const rows = [['KEY', 'HOLDER', 'SINCE', 'LEASE AGE', 'TTL']];
  for (const l of status.leases) {
    rows.push([
      l.apiKeyId,
      l.holder,
      `${new Date(l.since).toISOString()} (${seconds(now - l.since)} ago)`,
      `${seconds(l.ageMs)}${l.ageMs > l.ttlMs ? ' (lapsed)' : ''}`,
      seconds(l.ttlMs),
    ]);
  }
  const lines = [`group ${status.group} (bucket ${status.bucket})`, ...columns(rows), ''];
  const members = [['MEMBER', 'STARTED', 'LAST SEEN']];
  for (const m of status.members) {
    members.push([
      m.instance,
      new Date(m.startedAt).toISOString(),
      `${seconds(m.ageMs)} ago${m.stale ? ' (stale)' : ''}`,
    ]);
  }
  lines.push(...columns(members));
  if (status.unreadable.length > 0) lines.push('', `unreadable entries: ${status.unreadable.join(', ')}`);
  // Every field came from the bucket, which anyone with access can write: made safe for a terminal.
  return `${lines.map((l) => terminalLine(l, [])).join('\n')}\n`;
}

function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd(),
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
