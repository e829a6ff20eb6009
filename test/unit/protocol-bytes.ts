/**
 * Test helper: writes big-endian bytes by hand (shifts and masks), independently of the codec under
 * test, so golden packets do not reuse the encoder's logic.
 */
export class Bytes {
  private readonly out: number[] = [];

  /** Unsigned or signed 32-bit value, two's complement, big-endian. */
  i32(value: number): this {
    const v = value < 0 ? value + 2 ** 32 : value;
    this.out.push(
      Math.floor(v / 2 ** 24) & 0xff,
      Math.floor(v / 2 ** 16) & 0xff,
      Math.floor(v / 2 ** 8) & 0xff,
      v & 0xff,
    );
    return this;
  }

  u16(value: number): this {
    this.out.push((value >> 8) & 0xff, value & 0xff);
    return this;
  }

  zeros(n: number): this {
    for (let i = 0; i < n; i++) this.out.push(0);
    return this;
  }

  raw(bytes: ArrayLike<number>): this {
    for (let i = 0; i < bytes.length; i++) this.out.push(bytes[i]!);
    return this;
  }

  get length(): number {
    return this.out.length;
  }

  build(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** Frame of bare packets: uint16 N, then (uint16 length, body)*. */
export function frame(...packets: Uint8Array[]): Uint8Array {
  const b = new Bytes().u16(packets.length);
  for (const p of packets) b.u16(p.length).raw(p);
  return b.build();
}

/** Copies `bytes` into the middle of a larger Buffer and returns the view (as `ws` hands frames over). */
export function offsetView(bytes: Uint8Array, before = 13, after = 7): Buffer {
  const chunk = Buffer.alloc(before + bytes.length + after, 0xee);
  chunk.set(bytes, before);
  return chunk.subarray(before, before + bytes.length);
}
