// The PC's RAM: a flat array of bytes addressed by physical address, in 4 KiB pages.
// Nothing here knows about caches or virtual addresses: the DMA controller copies its
// bursts straight in and out of `bytes`, and the CPU reaches memory through cpuCache.ts.
// An access beyond the end of memory behaves like the bus does: a read floats high
// (0xFF), a write is lost. Neither throws; both are counted so a caller can trace them.

export const PAGE_SIZE = 4096;
export const PAGE_SHIFT = 12;

const FLOATING_BUS = 0xff;

export class PhysicalMemory {
  readonly size: number;
  /** Public on purpose: DMA bursts copy straight in and out of it. */
  readonly bytes: Uint8Array;
  /** Reads that touched at least one byte beyond the end of memory. */
  outOfRangeReads = 0;
  /** Writes that lost at least one byte beyond the end of memory. */
  outOfRangeWrites = 0;

  constructor(sizeBytes: number) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE !== 0 || sizeBytes > 0x1_0000_0000) {
      throw new RangeError(`physical memory must be a whole number of ${PAGE_SIZE}-byte pages up to 4 GiB, got ${sizeBytes}`);
    }
    this.size = sizeBytes;
    this.bytes = new Uint8Array(sizeBytes);
  }

  get pageCount(): number {
    return this.size / PAGE_SIZE;
  }

  /** True when every byte of [pa, pa + length) is memory. */
  contains(pa: number, length = 1): boolean {
    return Number.isSafeInteger(pa) && Number.isSafeInteger(length) && pa >= 0 && length >= 0 && pa + length <= this.size;
  }

  readByte(pa: number): number {
    if (this.contains(pa, 1)) return this.bytes[pa]!;
    this.outOfRangeReads++;
    return FLOATING_BUS;
  }

  readWord(pa: number): number {
    if (this.contains(pa, 2)) return this.bytes[pa]! | (this.bytes[pa + 1]! << 8);
    this.outOfRangeReads++;
    return this.partialRead(pa, 2);
  }

  readDword(pa: number): number {
    if (this.contains(pa, 4)) {
      const b = this.bytes;
      return (b[pa]! | (b[pa + 1]! << 8) | (b[pa + 2]! << 16) | (b[pa + 3]! << 24)) >>> 0;
    }
    this.outOfRangeReads++;
    return this.partialRead(pa, 4);
  }

  /** Returns false when the byte was lost beyond the end of memory. */
  writeByte(pa: number, value: number): boolean {
    if (this.contains(pa, 1)) {
      this.bytes[pa] = value;
      return true;
    }
    this.outOfRangeWrites++;
    return false;
  }

  writeWord(pa: number, value: number): boolean {
    return this.writeLittleEndian(pa, value, 2);
  }

  writeDword(pa: number, value: number): boolean {
    return this.writeLittleEndian(pa, value, 4);
  }

  /** A copy of [pa, pa + length); bytes beyond the end of memory read as 0xFF. */
  read(pa: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, length));
    if (this.contains(pa, length)) {
      out.set(this.bytes.subarray(pa, pa + length));
      return out;
    }
    this.outOfRangeReads++;
    out.fill(FLOATING_BUS);
    const [from, to] = this.clip(pa, length);
    if (to > from) out.set(this.bytes.subarray(from, to), from - pa);
    return out;
  }

  /** Returns false when some bytes were lost beyond the end of memory (the rest still land). */
  write(pa: number, data: Uint8Array): boolean {
    if (this.contains(pa, data.length)) {
      this.bytes.set(data, pa);
      return true;
    }
    this.outOfRangeWrites++;
    const [from, to] = this.clip(pa, data.length);
    if (to > from) this.bytes.set(data.subarray(from - pa, to - pa), from);
    return false;
  }

  /** Sets [pa, pa + length) to `value`; returns false when some bytes were lost. */
  fill(pa: number, length: number, value: number): boolean {
    const [from, to] = this.clip(pa, length);
    if (to > from) this.bytes.fill(value, from, to);
    if (this.contains(pa, length)) return true;
    this.outOfRangeWrites++;
    return false;
  }

  /** The part of [pa, pa + length) that is memory, as [from, to). */
  private clip(pa: number, length: number): [number, number] {
    if (!Number.isFinite(pa) || !Number.isFinite(length)) return [0, 0];
    const from = Math.max(0, Math.floor(pa));
    const to = Math.min(this.size, Math.floor(pa) + Math.floor(length));
    return [from, Math.max(from, to)];
  }

  private partialRead(pa: number, width: number): number {
    let value = 0;
    for (let i = 0; i < width; i++) {
      const byte = this.contains(pa + i, 1) ? this.bytes[pa + i]! : FLOATING_BUS;
      value += byte * 2 ** (8 * i);
    }
    return value;
  }

  private writeLittleEndian(pa: number, value: number, width: number): boolean {
    if (!this.contains(pa, width)) this.outOfRangeWrites++;
    let landed = true;
    for (let i = 0; i < width; i++) {
      const byte = (value >>> (8 * i)) & 0xff;
      if (this.contains(pa + i, 1)) this.bytes[pa + i] = byte;
      else landed = false;
    }
    return landed;
  }
}
