/**
 * Keeps NATS credentials (user:pass@ in URLs, password, token options) out of log lines and errors.
 * Thin wrappers over the library's one redaction routine (src/redact.ts).
 */
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { redact, redactUrl } from '../redact.js';

export { redactUrl };

export function redactNatsText(text: string, options?: Partial<NodeConnectionOptions>): string {
  const secrets = [options?.pass, options?.token].filter((s): s is string => typeof s === 'string');
  return redact(text, secrets);
}
