/**
 * Kite's rules for client commands, applied to one connection's subscriptions: a subscribe puts new
 * tokens in `quote` mode up to the per-connection limit (duplicates are harmless and keep their mode;
 * unknown tokens are accepted, as on Kite), an unsubscribe forgets, a mode change applies only to
 * subscribed tokens. Pure: it returns what changed and how many tokens the limit refused.
 */
import type { ClientCommand } from '../protocol/commands.js';
import type { Mode } from '../protocol/constants.js';
import type { SubscriptionChange } from './types.js';

export interface AppliedCommand {
  change: SubscriptionChange;
  /** Tokens a subscribe could not take (the connection was full). */
  refused: number;
}

export function applyCommand(
  subscriptions: Map<number, Mode>,
  command: ClientCommand,
  maxInstruments: number,
): AppliedCommand {
  const changed: number[] = [];
  if (command.action === 'mode') {
    for (const token of command.tokens) {
      if (!subscriptions.has(token)) continue; // mode for an unsubscribed token: ignored
      subscriptions.set(token, command.mode);
      changed.push(token);
    }
    return { change: { action: 'mode', tokens: changed, mode: command.mode }, refused: 0 };
  }
  if (command.action === 'unsubscribe') {
    for (const token of command.tokens) if (subscriptions.delete(token)) changed.push(token);
    return { change: { action: 'unsubscribe', tokens: changed }, refused: 0 };
  }
  let refused = 0;
  for (const token of command.tokens) {
    if (subscriptions.has(token)) continue; // duplicates are harmless and keep their mode
    if (subscriptions.size >= maxInstruments) {
      refused++;
      continue;
    }
    subscriptions.set(token, 'quote');
    changed.push(token);
  }
  return { change: { action: 'subscribe', tokens: changed, mode: 'quote' }, refused };
}

/** The Kite error text of a subscribe past the limit. */
export function maxTokensMessage(refused: number, maxInstruments: number): string {
  return `max tokens exceeded: ${refused} token(s) not subscribed, a connection can subscribe at most ${maxInstruments} instruments`;
}
