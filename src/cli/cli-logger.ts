/** The `--verbose` logger: one redacted line per entry on stderr. */
import type { Logger } from '../logger.js';
import { terminalLine } from './terminal-text.js';

export function createStderrLogger(write: (line: string) => void, secrets: readonly string[]): Logger {
  const log =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      const detail = typeof obj === 'string' ? obj : safeJson(obj);
      const text = msg === undefined ? detail : `${msg} ${detail}`;
      write(`${new Date().toISOString()} ${level} ${terminalLine(text, secrets)}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function safeJson(obj: object): string {
  if (obj instanceof Error) return `${obj.name}: ${obj.message}`;
  try {
    return JSON.stringify(obj, (_key, value: unknown) =>
      value instanceof Error ? `${value.name}: ${value.message}` : value,
    );
  } catch {
    return String(obj);
  }
}
