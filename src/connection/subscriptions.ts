/**
 * The desired subscription state (token -> mode) and the commands that converge the server to it.
 * Pure: no socket here. The connection updates this state on every call and replays it after every
 * (re)connect, so the server always ends up holding exactly these tokens in exactly these modes.
 */
import { MODES, Mode } from '../protocol/constants.js';
import { encodeMode, encodeSubscribe, encodeUnsubscribe } from '../protocol/index.js';

/** What one state change requires on the wire. */
export interface SubscriptionDelta {
  /** Tokens that the server has not been asked for yet. */
  subscribe: number[];
  /** Tokens to unsubscribe. */
  unsubscribe: number[];
  /** mode -> tokens whose mode must be set (new tokens in a non-default mode, or a changed mode). */
  modes: Map<Mode, number[]>;
}

/**
 * Tokens grouped by mode, each group in the order given: one subscribe or mode command per group.
 * Shared by the replay here, the managers and the compat layer.
 */
export function groupByMode(entries: Iterable<readonly [token: number, mode: Mode]>): Map<Mode, number[]> {
  const groups = new Map<Mode, number[]>();
  for (const [token, mode] of entries) {
    let group = groups.get(mode);
    if (!group) groups.set(mode, (group = []));
    group.push(token);
  }
  return groups;
}

/** The server's mode for a token subscribed without a mode message. */
export const SERVER_DEFAULT_MODE: Mode = Mode.Quote;

export class SubscriptionState {
  readonly #modes = new Map<number, Mode>();

  get size(): number {
    return this.#modes.size;
  }

  has(token: number): boolean {
    return this.#modes.has(token);
  }

  get(token: number): Mode | undefined {
    return this.#modes.get(token);
  }

  /** A live read-only view (no copy). */
  view(): ReadonlyMap<number, Mode> {
    return this.#modes;
  }

  /** A snapshot copy. */
  snapshot(): Map<number, Mode> {
    return new Map(this.#modes);
  }

  /**
   * Adds `tokens` in `mode`. Tokens already held in the same mode need nothing; tokens held in another
   * mode need only a mode message; new tokens need a subscribe, plus a mode message unless `mode` is
   * the server's default.
   */
  subscribe(tokens: readonly number[], mode: Mode): SubscriptionDelta {
    const delta = emptyDelta();
    const modeTokens: number[] = [];
    for (const token of tokens) {
      const current = this.#modes.get(token);
      if (current === mode) continue;
      if (current === undefined) {
        delta.subscribe.push(token);
        if (mode !== SERVER_DEFAULT_MODE) modeTokens.push(token);
      } else {
        modeTokens.push(token);
      }
      this.#modes.set(token, mode);
    }
    if (modeTokens.length > 0) delta.modes.set(mode, modeTokens);
    return delta;
  }

  /** Removes `tokens`; only those actually held are sent. */
  unsubscribe(tokens: readonly number[]): SubscriptionDelta {
    const delta = emptyDelta();
    for (const token of tokens) {
      if (this.#modes.delete(token)) delta.unsubscribe.push(token);
    }
    return delta;
  }

  /**
   * Changes the mode of held tokens. Tokens not subscribed are ignored (Kite's behaviour for a mode
   * message on an unsubscribed token is undocumented, and the state never holds a token that was not
   * subscribed); they are returned in `ignored`.
   */
  setMode(mode: Mode, tokens: readonly number[]): SubscriptionDelta & { ignored: number[] } {
    const delta = { ...emptyDelta(), ignored: [] as number[] };
    const modeTokens: number[] = [];
    for (const token of tokens) {
      const current = this.#modes.get(token);
      if (current === undefined) delta.ignored.push(token);
      else if (current !== mode) {
        this.#modes.set(token, mode);
        modeTokens.push(token);
      }
    }
    if (modeTokens.length > 0) delta.modes.set(mode, modeTokens);
    return delta;
  }

  clear(): void {
    this.#modes.clear();
  }
}

function emptyDelta(): SubscriptionDelta {
  return { subscribe: [], unsubscribe: [], modes: new Map() };
}

/** Wire messages for a delta: unsubscribes first, then subscribes, then mode messages (in ltp, quote, full order). */
export function deltaCommands(delta: SubscriptionDelta, maxPerMessage: number): string[] {
  const out: string[] = [];
  if (delta.unsubscribe.length > 0) out.push(...encodeUnsubscribe(delta.unsubscribe, maxPerMessage));
  if (delta.subscribe.length > 0) out.push(...encodeSubscribe(delta.subscribe, maxPerMessage));
  for (const mode of MODES) {
    const tokens = delta.modes.get(mode);
    if (tokens && tokens.length > 0) out.push(...encodeMode(mode, tokens, maxPerMessage));
  }
  return out;
}

/**
 * The replay after a (re)connect: every token subscribed (chunked), then one mode message per mode
 * group (chunked), quote included, so the result never depends on the server's default mode.
 */
export function replayCommands(state: ReadonlyMap<number, Mode>, maxPerMessage: number): string[] {
  if (state.size === 0) return [];
  const groups = groupByMode(state);
  const out = encodeSubscribe([...state.keys()], maxPerMessage);
  for (const mode of MODES) {
    const tokens = groups.get(mode);
    if (tokens) out.push(...encodeMode(mode, tokens, maxPerMessage));
  }
  return out;
}
