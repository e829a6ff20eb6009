/**
 * Server -> client text frames (kite-protocol.md 5): `{"type":"order"|"error"|"message","data":...}`.
 * Never throws: invalid JSON, a missing/unknown type or a malformed order is reported through `onError`
 * and gives `undefined`.
 */
import type { OrderUpdate, ProtocolErrorHandler, TextMessage } from './types.js';

const MAX_SNIPPET = 80;

/** Parses one text frame. Returns undefined (and reports why) when it is not a known message. */
export function parseTextMessage(text: string, onError?: ProtocolErrorHandler): TextMessage | undefined {
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
      // Kite sends a string; anything else is rendered rather than lost (Go's client panics here).
      return { type: 'error', data: typeof data === 'string' ? data : String(JSON.stringify(data)) };
    case 'message':
      return { type: 'message', data };
    case undefined:
      onError?.({ kind: 'invalid_text_message', detail: `text message without "type": ${snippet(text)}` });
      return undefined;
    default:
      onError?.({
        kind: 'unknown_text_type',
        detail: `unknown text message type ${snippet(JSON.stringify(type) ?? String(type))}`,
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
