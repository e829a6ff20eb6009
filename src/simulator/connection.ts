/**
 * The market's state of one simulator socket (the front end keeps the rest, see
 * src/kite-server/connection.ts): its subscriptions by schedule phase, the snapshots due at the next
 * step, its staggered frame, and blast mode's cursor. The per-connection callbacks are bound once here
 * so the send loop creates no closure per frame.
 */
import type { KiteServerConnection } from '../kite-server/connection.js';
import type { Mode } from '../protocol/constants.js';

export class FeedConnection {
  readonly conn: KiteServerConnection;
  /** Per schedule phase: instrument index -> mode, for subscribed tokens that exist in the universe. */
  readonly buckets: Map<number, Mode>[];
  /** Instruments subscribed or re-moded since the last step: sent as a snapshot at the next step. */
  readonly pending = new Map<number, Mode>();

  /** Fixed offset (ms) of this connection's tick frames within each batch interval (see stagger.ts). */
  readonly staggerMs: number;
  /** The last step's frames while they wait for `staggerMs` (at most one step's worth). */
  deferred: Buffer[] = [];
  deferredPackets = 0;
  deferTimer: NodeJS.Timeout | undefined;
  readonly onDeferredDue: () => void;

  // Blast mode.
  blastFrames: Buffer[] | undefined;
  blastPackets: number[] = [];
  blastNext = 0;
  blastInflight = 0;
  blastScheduled = false;
  readonly onBlastWritten: () => void;
  readonly onBlastResume: () => void;

  constructor(
    conn: KiteServerConnection,
    phases: number,
    staggerMs: number,
    pump: (fc: FeedConnection) => void,
    flushDeferred: (fc: FeedConnection) => void,
  ) {
    this.conn = conn;
    this.buckets = Array.from({ length: phases }, () => new Map<number, Mode>());
    this.staggerMs = staggerMs;
    this.onDeferredDue = () => {
      this.deferTimer = undefined;
      flushDeferred(this);
    };
    this.onBlastResume = () => {
      this.blastScheduled = false;
      pump(this);
    };
    this.onBlastWritten = () => {
      this.blastInflight--;
      if (!this.blastScheduled) {
        this.blastScheduled = true;
        setImmediate(this.onBlastResume);
      }
    };
  }

  /** Forgets what is queued for the socket (it closed). */
  clear(): void {
    this.pending.clear();
    this.blastFrames = undefined;
    if (this.deferTimer) clearTimeout(this.deferTimer);
    this.deferTimer = undefined;
    this.deferred = [];
    this.deferredPackets = 0;
  }
}
