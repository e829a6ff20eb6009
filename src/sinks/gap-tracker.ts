/**
 * Consumer-side sequence tracking: one expected sequence per (subject, publisher). A jump forward is a
 * gap (messages lost on the bus, dropped by the publisher's buffer, or missed while reconnecting); a new
 * publisher id means the publisher restarted, which is not a gap; an old or repeated sequence is not one
 * either (it is reported as 0 and does not move the tracker back).
 */

const HALF_RANGE = 0x8000_0000;

interface SubjectState {
  publisherId: number;
  last: number;
}

export class GapTracker {
  private readonly bySubject = new Map<string, SubjectState>();

  /** Returns how many messages are missing just before this one on this subject. */
  observe(subject: string, publisherId: number, sequence: number): number {
    const state = this.bySubject.get(subject);
    if (state === undefined) {
      this.bySubject.set(subject, { publisherId, last: sequence });
      return 0;
    }
    if (state.publisherId !== publisherId) {
      // A restarted publisher (or a second one taking over the subject): start afresh.
      state.publisherId = publisherId;
      state.last = sequence;
      return 0;
    }
    // Sequences are uint32 and wrap: compare modulo 2^32.
    const ahead = (sequence - state.last) >>> 0;
    if (ahead === 0 || ahead >= HALF_RANGE) return 0;
    state.last = sequence;
    return ahead - 1;
  }

  /** Subjects seen so far. */
  get size(): number {
    return this.bySubject.size;
  }
}
