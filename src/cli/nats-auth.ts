/**
 * NATS credentials for `stream --nats` and `subscribe`, from (in this order, one source only):
 * userinfo in the URL (`nats://user:pass@host`, handled by the sink/subscriber, see src/sinks/auth.ts),
 * `--nats-creds FILE` (a NATS .creds file: JWT and nkey seed, used through the client's own creds
 * authenticator), or NATS_USER / NATS_PASSWORD in the environment. The values are secrets: errors name
 * the flag, variable or file, never the content.
 */
import { readFileSync } from 'node:fs';
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { splitServerUrl } from '../sinks/auth.js';
import { UsageError } from './exit-codes.js';

/** Secret values that may show up in NATS error text (for redaction); empty when there are none. */
export function natsSecrets(env: NodeJS.ProcessEnv, servers: readonly string[]): string[] {
  const out: string[] = [];
  if (env.NATS_PASSWORD) out.push(env.NATS_PASSWORD);
  for (const server of servers) {
    const c = splitServerUrl(server).credentials;
    if (c?.pass) out.push(c.pass);
    if (c?.token) out.push(c.token);
  }
  return out;
}

/** Connect options carrying the credentials not given in the URL (the URL's own go through as is). */
export async function natsAuthOptions(
  servers: readonly string[],
  credsFile: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<Partial<NodeConnectionOptions>> {
  const inUrl = servers.some((s) => splitServerUrl(s).credentials !== undefined);
  if (credsFile !== undefined) {
    if (inUrl) throw new UsageError('--nats-creds: the --nats URL already has credentials; give them once');
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(credsFile);
    } catch (error) {
      throw new UsageError(
        `--nats-creds: cannot read ${credsFile}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
    const { credsAuthenticator } = await import('@nats-io/transport-node');
    return { authenticator: credsAuthenticator(bytes) };
  }
  if (inUrl) return {};
  const user = env.NATS_USER || undefined;
  const pass = env.NATS_PASSWORD || undefined;
  if (user === undefined && pass === undefined) return {};
  if (user === undefined) throw new UsageError('NATS_PASSWORD is set but NATS_USER is not');
  if (pass === undefined) throw new UsageError('NATS_USER is set but NATS_PASSWORD is not');
  return { user, pass };
}
