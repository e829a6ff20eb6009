/**
 * Server-side state of one simulator socket. Plain data plus the few per-connection callbacks blast
 * mode needs, bound once here so the send loop creates no closure per frame.
 */
import type { WebSocket } from 'ws';
import type { Mode } from '../protocol/constants.js';

export class SimConnection {
  readonly id: number;
  readonly apiKey: string;
  readonly ws: WebSocket;
  readonly openedAt: number;
  /** token -> mode, every subscribed token (known to the universe or not). */
  readonly subscriptions = new Map<number, Mode>();
  /** Per schedule phase: instrument index -> mode, for subscribed tokens that exist in the universe. */
  readonly buckets: Map<number, Mode>[];
  /** Instruments subscribed or re-moded since the last step: sent as a snapshot at the next step. */
  readonly pending = new Map<number, Mode>();
  open = true;
  framesSent = 0;
  ticksSent = 0;
  heartbeatsSent = 0;
  /** Epoch ms of the last frame of any kind handed to the socket. */
  lastSentAt: number;
  /** Epoch ms until which nothing is sent (Infinity: until the socket closes). */
  stalledUntil = 0;

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
    id: number,
    apiKey: string,
    ws: WebSocket,
    now: number,
    phases: number,
    pump: (conn: SimConnection) => void,
    staggerMs = 0,
    flushDeferred: (conn: SimConnection) => void = () => {},
  ) {
    this.id = id;
    this.apiKey = apiKey;
    this.ws = ws;
    this.openedAt = now;
    this.lastSentAt = now;
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

  isStalled(now: number): boolean {
    return now < this.stalledUntil;
  }
}
