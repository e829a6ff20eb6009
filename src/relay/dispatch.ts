/**
 * Turns one upstream frame into each interested client's frame. Per packet: one look-up of who wants
 * its token, one step per interested session. Per session: its packets, each cut to its mode. A session
 * taking every packet of the frame at one mode shares a frame built once per mode per upstream frame
 * (the upstream buffer itself when nothing needs cutting); others get one assembled buffer each.
 */
import { assembleFrame, frameAtRank, PacketIndex } from './frames.js';
import type { Interest } from './interest.js';
import { cutLength } from './modes.js';
import type { RelaySession } from './session.js';

export class Dispatcher {
  readonly #interest: Interest<RelaySession>;
  readonly #deliver: (session: RelaySession, frame: Uint8Array, packets: number) => void;
  readonly #index = new PacketIndex();
  readonly #touched: RelaySession[] = [];
  readonly #perMode: (Uint8Array | undefined)[] = [undefined, undefined, undefined];
  #epoch = 0;
  framesIn = 0;
  packetsIn = 0;
  /** Upstream frames whose packet table ran past their end (never forwarded). */
  malformed = 0;

  constructor(
    interest: Interest<RelaySession>,
    deliver: (session: RelaySession, frame: Uint8Array, packets: number) => void,
  ) {
    this.#interest = interest;
    this.#deliver = deliver;
  }

  onFrame(frame: Uint8Array): void {
    if (frame.byteLength <= 1) return; // a heartbeat: the front end sends clients its own
    const index = this.#index;
    if (!index.read(frame)) {
      this.malformed++;
      return;
    }
    this.framesIn++;
    this.packetsIn += index.count;
    const epoch = ++this.#epoch;
    const touched = this.#touched;
    touched.length = 0;
    const n = index.count;
    for (let i = 0; i < n; i++) {
      const subs = this.#interest.subscribers(index.token[i]!);
      if (!subs) continue;
      const carried = index.rank[i]!;
      const length = index.length[i]!;
      for (const [s, want] of subs) {
        // A packet below the client's mode (upstream still at a lower mode for the moment its raise takes to
        // land) is not what Kite would send that client: skip it, the next packet comes at the new mode.
        if (carried >= 0 && want > carried) continue;
        if (s.epoch !== epoch) {
          s.epoch = epoch;
          s.picked = 0;
          s.bytes = 0;
          s.uniform = want;
          s.reserve(n);
          touched.push(s);
        } else if (s.uniform !== want) {
          s.uniform = -1;
        }
        const rank = carried < 0 || want === carried ? carried : want;
        s.picks[s.picked] = i;
        s.ranks[s.picked] = rank;
        s.picked++;
        s.bytes += 2 + (carried < 0 ? length : cutLength(length, rank));
      }
    }
    const perMode = this.#perMode;
    perMode[0] = perMode[1] = perMode[2] = undefined;
    for (const s of touched) {
      let out: Uint8Array;
      if (s.picked === n && s.uniform >= 0) {
        out = perMode[s.uniform] ??= frameAtRank(frame, index, s.uniform);
      } else {
        out = assembleFrame(frame, index, s.picks, s.ranks, s.picked, s.bytes);
      }
      this.#deliver(s, out, s.picked);
    }
    touched.length = 0;
  }
}
