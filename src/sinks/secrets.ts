/**
 * Keeps NATS credentials (user:pass@ in URLs, password, token options) out of log lines and errors.
 */
import type { NodeConnectionOptions } from '@nats-io/transport-node';
import { redact } from '../errors.js';

/** `nats://user:secret@host:4222` -> `nats://***@host:4222`. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@\s]*@/g, '//***@');
}

export function redactNatsText(text: string, options?: Partial<NodeConnectionOptions>): string {
  const secrets = [options?.pass, options?.token].filter((s): s is string => typeof s === 'string');
  return redactUrl(redact(text, secrets));
}
