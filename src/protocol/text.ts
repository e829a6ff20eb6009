/**
 * Server -> client text frames (kite-protocol.md 5): `{"type":"order"|"error"|"message","data":...}`.
 * Never throws: invalid JSON, a missing/unknown type, a malformed order or nesting deeper than
 * `MAX_TEXT_NESTING` is reported through `onError` and gives `undefined`. Whatever it passes on can be
 * stringified safely (see text-guard.ts); an `error` message is at most `MAX_RENDERED_TEXT` characters.
 */
import { boundText, MAX_TEXT_NESTING, nestingExceeds, renderBounded } from './text-guard.js';
import type { OrderUpdate, ProtocolErrorHandler, TextMessage } from './types.js';

const MAX_SNIPPET = 80;

/** Parses one text frame. Returns undefined (and reports why) when it is not a known message. */
export function parseTextMessage(text: string, onError?: ProtocolErrorHandler): TextMessage | undefined {
  let inHandler = false;
  const report: ProtocolErrorHandler | undefined =
    onError &&
    ((info) => {
      inHandler = true;
      onError(info);
      inHandler = false;
    });
  try {
    return parse(text, report);
  } catch (error) {
    // The caller's own handler throwing is the caller's business (and must not be reported twice).
    if (inHandler) throw error;
    // Last line: nothing above is known to throw, but a server frame must never escape as an exception.
    onError?.({
      kind: 'invalid_text_message',
      detail: `text frame could not be read (${error instanceof Error ? error.name : 'error'})`,
    });
    return undefined;
  }
}

function parse(text: string, onError: ProtocolErrorHandler | undefined): TextMessage | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    onError?.({ kind: 'invalid_json', detail: `text frame is not JSON: ${snippet(text)}` });
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    onError?.({ kind: 'invalid_text_message', detail: `text frame is not a JSON object: ${snippet(text)}` });
    return undefined;
  }
  if (nestingExceeds(text, MAX_TEXT_NESTING)) {
    onError?.({
      kind: 'invalid_text_message',
      detail: `text frame nests deeper than ${MAX_TEXT_NESTING} levels: ${snippet(text)}`,
    });
    return undefined;
  }
  const { type, data } = msg as { type?: unknown; data?: unknown };
  switch (type) {
    case 'order':
      if (!isOrder(data)) {
        onError?.({
          kind: 'invalid_text_message',
          detail: 'order message without an object "data" carrying a string "order_id"',
        });
        return undefined;
      }
      return { type: 'order', data };
    case 'error':
      // Kite sends a short string; anything else is rendered rather than lost (Go's client panics here).
      return { type: 'error', data: typeof data === 'string' ? boundText(data) : renderBounded(data) };
    case 'message':
      return { type: 'message', data };
    case undefined:
      onError?.({ kind: 'invalid_text_message', detail: `text message without "type": ${snippet(text)}` });
      return undefined;
    default:
      onError?.({
        kind: 'unknown_text_type',
        detail: `unknown text message type ${renderBounded(type, MAX_SNIPPET)}`,
      });
      return undefined;
  }
}

function isOrder(data: unknown): data is OrderUpdate {
  return (
    typeof data === 'object' &&
    data !== null &&
    !Array.isArray(data) &&
    typeof (data as { order_id?: unknown }).order_id === 'string'
  );
}

/** Short excerpt for error details (postbacks carry no credentials, but keep reports small). */
function snippet(text: string): string {
  return text.length > MAX_SNIPPET ? `${text.slice(0, MAX_SNIPPET)}...` : text;
}
