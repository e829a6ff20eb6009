/**
 * What the relay command's steps share: the config, the process, the secrets every log line is
 * scrubbed of, the logger (JSON lines as a service; text on stderr otherwise), the stop request and
 * the disposer stack. Shaped so stream's shared pieces (keys-file watch, NATS sink) accept it.
 */
import { createJsonLogger } from '../../json-logger.js';
import type { Logger } from '../../logger.js';
import { createStderrLogger, withIds } from '../cli-logger.js';
import type { ApiKeyCredential } from '../credentials.js';
import { type CliIo, StopRequest } from '../io.js';
import { serviceLine } from '../stream/context.js';
import { DisposerStack } from '../stream/disposers.js';
import { terminalLine } from '../terminal-text.js';
import type { RelayConfig } from './config.js';

export interface RelayContext {
  readonly config: RelayConfig;
  readonly io: CliIo;
  /** Upstream tokens (and NATS passwords) to redact; grows as they are learnt, read on every write. */
  readonly secrets: string[];
  /** The upstream keys in use: the logger names keys by their ids. */
  keys: readonly ApiKeyCredential[];
  readonly logger: Logger;
  readonly stop: StopRequest;
  readonly disposers: DisposerStack;
  /** What ended a running service (its upstream failed to start): the exit code comes from it. */
  failure: unknown;
  /** One `kiteticker: ...` line on stderr; a JSON entry as a service. */
  say(line: string): void;
}

export function createRelayContext(
  config: RelayConfig,
  io: CliIo,
  keys: readonly ApiKeyCredential[],
): RelayContext {
  const secrets = keys.map((k) => k.accessToken);
  const json = config.service
    ? createJsonLogger({
        write: (l) => io.stderr.write(l),
        secrets: () => secrets,
        level: config.verbose ? 'debug' : 'info',
        fields: (obj) => withIds(obj, ctx.keys) as Record<string, unknown>,
      })
    : undefined;
  const text = createStderrLogger(
    (l) => io.stderr.write(l),
    secrets,
    () => ctx.keys,
  );
  const ctx: RelayContext = {
    config,
    io,
    secrets,
    keys,
    // Warnings (a slow client disconnected, an upstream call failed) always; the rest with --verbose.
    logger:
      json ??
      (config.verbose ? text : { debug: () => {}, info: () => {}, warn: text.warn, error: text.error }),
    stop: new StopRequest(),
    disposers: new DisposerStack(),
    failure: undefined,
    say(line) {
      const safe = terminalLine(`kiteticker: ${line}`, secrets);
      if (json) serviceLine(json, safe);
      else io.stderr.write(`${safe}\n`);
    },
  };
  return ctx;
}
