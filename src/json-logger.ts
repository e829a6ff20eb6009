/**
 * A JSON-lines logger for services: one line per entry, with pino's fields (`level` as pino's numbers,
 * `time` in epoch ms, `pid`, `hostname`, `msg`) so log shippers that read pino read these too. It fits
 * the `Logger` interface (pino's own logger fits it as well), so the CLI, the relay and HA share it.
 * Every line goes through `redact` with the secrets known at write time; nothing here throws.
 */
import { hostname } from 'node:os';
import type { Logger } from './logger.js';
import { redact } from './redact.js';

/** pino's numeric levels. */
export const LOG_LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
export type LogLevelName = keyof typeof LOG_LEVELS;

export interface JsonLoggerOptions {
  /** Receives each line, newline included. */
  write(line: string): void;
  /** Secrets to remove from every line, read at each entry (the list may grow). */
  secrets?: () => readonly string[];
  /** Entries below this level are dropped. Default 'info'. */
  level?: LogLevelName;
  /** Rewrites an entry's fields before writing (the CLI names keys by id). */
  fields?: (obj: Record<string, unknown>) => Record<string, unknown>;
  /** Default Date.now (tests pin it). */
  now?: () => number;
}

/** Longest line written; a longer one keeps its level, time and message and drops its fields. */
const MAX_LINE = 16 * 1024;

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const min = LOG_LEVELS[options.level ?? 'info'];
  const base = { pid: process.pid, hostname: hostname() };
  const now = options.now ?? Date.now;
  const log =
    (name: LogLevelName) =>
    (obj: object | string, msg?: string): void => {
      const level = LOG_LEVELS[name];
      if (level < min) return;
      try {
        const fields = typeof obj === 'string' ? {} : toFields(obj);
        const text = typeof obj === 'string' ? (msg === undefined ? obj : `${msg} ${obj}`) : (msg ?? '');
        const shaped = options.fields ? options.fields(fields) : fields;
        const entry = { level, time: now(), ...base, ...shaped, msg: text };
        let line = redact(JSON.stringify(entry, replacer), options.secrets?.() ?? []);
        if (line.length > MAX_LINE) {
          line = redact(
            JSON.stringify({ level, time: entry.time, ...base, msg: text.slice(0, 1024) }),
            options.secrets?.() ?? [],
          );
        }
        options.write(`${line}\n`);
      } catch {
        // A hostile getter or a closed stream: a log line is never worth an exception.
      }
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function toFields(obj: object): Record<string, unknown> {
  if (obj instanceof Error) return { err: errorFields(obj) };
  if (Array.isArray(obj)) return { value: obj };
  return { ...(obj as Record<string, unknown>) };
}

function errorFields(error: Error): { type: string; message: string } {
  return { type: error.name, message: error.message };
}

function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return errorFields(value);
  if (typeof value === 'bigint') return value.toString();
  return value;
}
