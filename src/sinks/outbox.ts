/**
 * The sink's bounded buffer of messages not yet handed to NATS (while disconnected or while too many
 * bytes await the server's confirmation). Drop-oldest: during an outage the freshest market state is
 * what a consumer wants when the bus returns. A fixed circular array, so buffering allocates nothing.
 */

import type { MsgHdrs } from '@nats-io/transport-node';

export type OutboxPayload = Uint8Array | string;

export class Outbox {
  private readonly subjects: (string | undefined)[];
  private readonly payloads: (OutboxPayload | undefined)[];
  /** Headers (the JetStream de-duplication id) of the messages that have them. */
  private readonly headers: (MsgHdrs | undefined)[];
  private head = 0;
  private count = 0;
  /** Messages pushed out by newer ones since construction. */
  overflowed = 0;

  constructor(readonly capacity: number) {
    this.subjects = new Array(capacity);
    this.payloads = new Array(capacity);
    this.headers = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Adds a message; returns false when the oldest one was dropped to make room. */
  push(subject: string, payload: OutboxPayload, headers?: MsgHdrs): boolean {
    const cap = this.capacity;
    if (cap === 0) {
      this.overflowed++;
      return false;
    }
    let kept = true;
    if (this.count === cap) {
      this.head = (this.head + 1) % cap;
      this.count--;
      this.overflowed++;
      kept = false;
    }
    const at = (this.head + this.count) % cap;
    this.subjects[at] = subject;
    this.payloads[at] = payload;
    this.headers[at] = headers;
    this.count++;
    return kept;
  }

  /**
   * Hands messages, oldest first, to `send` while it returns true (it returns false to stop, e.g. when
   * the pending-bytes bound is reached); the refused message stays at the head.
   */
  drain(send: (subject: string, payload: OutboxPayload, headers: MsgHdrs | undefined) => boolean): number {
    let sent = 0;
    const cap = this.capacity;
    while (this.count > 0) {
      const at = this.head;
      if (!send(this.subjects[at]!, this.payloads[at]!, this.headers[at])) break;
      this.subjects[at] = undefined;
      this.payloads[at] = undefined;
      this.headers[at] = undefined;
      this.head = (at + 1) % cap;
      this.count--;
      sent++;
    }
    return sent;
  }

  clear(): number {
    const n = this.count;
    this.subjects.fill(undefined);
    this.payloads.fill(undefined);
    this.headers.fill(undefined);
    this.head = 0;
    this.count = 0;
    return n;
  }
}
