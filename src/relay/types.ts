/** The relay's stats shapes (KiteRelay.stats()). */

/** One client socket. */
export interface RelayClientStats {
  connectionId: number;
  /** The relay client id (its `api_key`); never its token. */
  clientId: string;
  /** Instruments this socket subscribes. */
  subscriptions: number;
  /** How many of them in each mode. */
  modes: { ltp: number; quote: number; full: number };
  framesSent: number;
  /** Packets sent (each frame carries one or more). */
  ticksSent: number;
  heartbeatsSent: number;
  /** Tick frames dropped because the client read too slowly (the oldest first). */
  droppedFrames: number;
  droppedTicks: number;
  /** Commands refused with an error frame by the relay (limits, modes, upstream capacity). */
  refusedCommands: number;
  /** Frames waiting in the relay for the socket to drain. */
  queuedFrames: number;
  /** Bytes waiting in the relay's queue for this client (bounded by `sendBufferBytes`, plus one frame). */
  queuedBytes: number;
  /** Bytes handed to the socket and not yet written to the network (ws `bufferedAmount`). */
  socketBufferedBytes: number;
  /** Age of the oldest waiting frame, ms (0: nothing waits). */
  lagMs: number;
  /** Epoch ms. */
  openedAt: number;
}

export interface RelayStats {
  /** Client sockets open. */
  connections: number;
  /** Entries in the client table. */
  knownClients: number;
  /** Tokens at least one client wants. */
  wantedTokens: number;
  /** Tokens held upstream (including those lingering). */
  upstreamTokens: number;
  /** Tokens (or modes) waiting for the linger before they are dropped upstream. */
  lingeringTokens: number;
  /** Upstream calls that failed for another reason than capacity. */
  upstreamFailures: number;
  /** Upstream tick frames dispatched. */
  framesIn: number;
  packetsIn: number;
  malformedFrames: number;
  /** Tick frames dropped for slow clients (every client, including closed ones). */
  droppedFrames: number;
  /** Clients disconnected for being too slow. */
  slowDisconnects: number;
  /** Client upgrades accepted (sockets opened since start). */
  accepted: number;
  /** Client upgrades refused, by HTTP status (403: wrong id/token, 429: too many sockets, 400...). */
  refused: Record<number, number>;
  clients: RelayClientStats[];
}
