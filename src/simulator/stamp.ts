/**
 * Benchmark-only send-time stamp (`SimulatorOptions.stampSendTime`). Latency benchmarks need the moment a
 * frame left the simulator, carried inside the frame itself; a full packet has two uint32 fields a
 * benchmark can spare: `last_trade_time` gets the whole seconds and `oi` the nanoseconds of the
 * monotonic clock (`process.hrtime()`, CLOCK_MONOTONIC: one clock for every process of the machine, so a
 * client in another process can subtract its own reading). Other packet lengths are left alone.
 */
import { PacketLength } from '../protocol/constants.js';

/** Byte offsets inside a full (184-byte) packet, after its 2-byte length prefix. */
const LAST_TRADE_TIME = 44;
const OI = 48;

/**
 * Writes `seconds` / `nanos` into every full packet of `frame`, in place. Stops at the first length
 * prefix that runs past the end (a deliberately corrupted frame), so it never throws.
 */
export function stampFrame(frame: Uint8Array, seconds: number, nanos: number): void {
  if (frame.byteLength < 2) return; // heartbeat
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const count = view.getUint16(0);
  let pos = 2;
  for (let i = 0; i < count && pos + 2 <= frame.byteLength; i++) {
    const length = view.getUint16(pos);
    pos += 2;
    if (pos + length > frame.byteLength) return;
    if (length === PacketLength.Full) {
      view.setUint32(pos + LAST_TRADE_TIME, seconds >>> 0);
      view.setUint32(pos + OI, nanos >>> 0);
    }
    pos += length;
  }
}

/** Stamps `frame` with the current monotonic time. */
export function stampSendTime(frame: Uint8Array): void {
  const [seconds, nanos] = process.hrtime();
  stampFrame(frame, seconds, nanos);
}

/**
 * The send time in ms of the monotonic clock, from a stamped packet's `last_trade_time` (seconds) and
 * `oi` (nanoseconds) fields; compare with `monotonicMs()` in the receiving process.
 */
export function stampedMs(lastTradeTimeSeconds: number, oi: number): number {
  return lastTradeTimeSeconds * 1000 + oi / 1e6;
}

/** Now, in ms of the same monotonic clock the stamp uses. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
