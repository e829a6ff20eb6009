/** The `--verbose` logger: one redacted line per entry on stderr. */
import type { Logger } from '../logger.js';
import { terminalLine } from './terminal-text.js';

interface KeyName {
  id: string;
  apiKey: string;
}

/**
 * @param keys the keys in use (read at each entry: the built-in simulator's are known later). Each
 *   key's pool logs its `apiKey`, but the user knows the key by the id they gave it, as everything
 *   else the CLI prints does, so entries show the id instead.
 */
export function createStderrLogger(
  write: (line: string) => void,
  secrets: readonly string[],
  keys: () => readonly KeyName[] = () => [],
): Logger {
  const log =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      const known = keys();
      const detail = typeof obj === 'string' ? obj : safeJson(withIds(obj, known));
      const text = msg === undefined ? detail : `${msg} ${detail}`;
      write(`${new Date().toISOString()} ${level} ${terminalLine(namesForKeys(text, known), secrets)}\n`);
    };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** `{apiKey: "abc", ...}` becomes `{apiKeyId: "primary", ...}`. */
export function withIds(obj: object, keys: readonly KeyName[]): object {
  if (obj instanceof Error || Array.isArray(obj)) return obj;
  const fields = obj as Record<string, unknown>;
  const apiKey = fields.apiKey;
  const id = typeof apiKey === 'string' ? keys.find((k) => k.apiKey === apiKey)?.id : undefined;
  if (id === undefined) return obj;
  const out: Record<string, unknown> = { apiKeyId: id };
  for (const [k, v] of Object.entries(fields)) if (k !== 'apiKey') out[k] = v;
  return out;
}

/** Library messages say "for api_key abc": the CLI says which of the user's keys that is. */
function namesForKeys(text: string, keys: readonly KeyName[]): string {
  let out = text;
  for (const k of keys) {
    if (out.includes(`api_key ${k.apiKey}`)) out = out.split(`api_key ${k.apiKey}`).join(`API key ${k.id}`);
  }
  return out;
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
