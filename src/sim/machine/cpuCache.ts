import { type AddressSpace } from './addressSpace';
import { type Mdl } from './mdl';
import { PAGE_SIZE, type PhysicalMemory } from './physicalMemory';

// The CPU's path to memory, by virtual address: what RtlCopyMemory, RtlZeroMemory and the
// driver's reads and writes of memory go through. DMA never comes this way; it reads and
// writes PhysicalMemory directly. KeFlushIoBuffers follows reference/wdk/ddi/
// nf-wdm-keflushiobuffers.md and kernel/flushing-cached-data-during-dma-operations.md.
//
// 'coherent' (x86): every access goes straight to memory, as if the cache snooped DMA, and
// KeFlushIoBuffers does nothing. 'non-coherent': a physically tagged, write-back,
// write-allocate data cache of 64-byte lines that DMA does not snoop. CPU writes stay in
// dirty lines until written back (by a flush or by eviction, at a moment the driver does
// not choose), and CPU reads hit lines cached before a device DMA'd new data into memory,
// the failure the cache-coherency pages describe. Eviction is LRU within a set, so a
// given run evicts the same lines every time.
//
// An access to an unmapped address is the CPU's page fault: nothing is read or written,
// a read answers 0xFF (null for bulk reads), and onPageFault is called so the kernel can
// bug-check (0x50). Nothing here throws.

export type CacheProfile = 'coherent' | 'non-coherent';

export const CACHE_LINE_SIZE = 64;
const LINE_SHIFT = 6;

export interface CacheGeometry {
  /** A power of two. */
  sets: number;
  ways: number;
}

/** 512 sets × 8 ways × 64 bytes = 256 KiB. */
export const DEFAULT_CACHE_GEOMETRY: CacheGeometry = { sets: 512, ways: 8 };

export interface CacheStats {
  profile: CacheProfile;
  lineSize: number;
  /** Lines the cache can hold (0 when coherent: nothing is modelled). */
  capacityLines: number;
  validLines: number;
  dirtyLines: number;
  hits: number;
  misses: number;
  /** Dirty lines written to memory, by flushes and by evictions. */
  writeBacks: number;
  /** Valid lines pushed out to make room. */
  evictions: number;
}

export type LineState = 'uncached' | 'clean' | 'dirty';

/** What a flush did, for the trace. */
export interface CacheFlushResult {
  linesWrittenBack: number;
  linesInvalidated: number;
  /** MDL pages skipped because their PFN array entry was never built. */
  pagesSkipped: number;
}

export interface PageFault {
  va: number;
  write: boolean;
}

const INVALID = -1;

export class CpuMemory {
  /** Called on every access to an unmapped address (the kernel turns it into a bug check). */
  onPageFault: ((va: number, write: boolean) => void) | null = null;
  /** Called once per CPU access (once per bulk call), for a verifier watching buffers. */
  onAccess: ((va: number, length: number, write: boolean) => void) | null = null;
  pageFaults = 0;
  lastFault: PageFault | null = null;

  private readonly sets: number;
  private readonly ways: number;
  /** Physical line number (pa >> 6) held by each slot, or −1. Slot = set × ways + way. */
  private readonly tags: Int32Array;
  private readonly dirty: Uint8Array;
  /** Last use of each slot, for LRU; a Float64Array so the counter never wraps. */
  private readonly lastUse: Float64Array;
  private readonly data: Uint8Array;
  private useClock = 0;
  private valid = 0;
  private dirtyCount = 0;
  private hits = 0;
  private misses = 0;
  private writeBacks = 0;
  private evictions = 0;

  constructor(
    readonly memory: PhysicalMemory,
    readonly space: AddressSpace,
    readonly profile: CacheProfile,
    geometry: CacheGeometry = DEFAULT_CACHE_GEOMETRY,
  ) {
    const { sets, ways } = geometry;
    if (!Number.isInteger(sets) || sets < 1 || (sets & (sets - 1)) !== 0 || !Number.isInteger(ways) || ways < 1) {
      throw new RangeError(`cache geometry needs a power-of-two number of sets and at least one way, got ${sets}×${ways}`);
    }
    const slots = profile === 'non-coherent' ? sets * ways : 0;
    this.sets = sets;
    this.ways = ways;
    this.tags = new Int32Array(slots).fill(INVALID);
    this.dirty = new Uint8Array(slots);
    this.lastUse = new Float64Array(slots);
    this.data = new Uint8Array(slots * CACHE_LINE_SIZE);
  }

  // ---- Single accesses ----

  readByte(va: number): number {
    return this.readScalar(va, 1);
  }

  readWord(va: number): number {
    return this.readScalar(va, 2);
  }

  readDword(va: number): number {
    return this.readScalar(va, 4);
  }

  /** Returns false on a page fault (nothing written). */
  writeByte(va: number, value: number): boolean {
    return this.writeScalar(va, value, 1);
  }

  writeWord(va: number, value: number): boolean {
    return this.writeScalar(va, value, 2);
  }

  writeDword(va: number, value: number): boolean {
    return this.writeScalar(va, value, 4);
  }

  // ---- Bulk accesses (RtlCopyMemory and friends) ----

  /** A copy of [va, va + length), or null on a page fault. */
  readBytes(va: number, length: number): Uint8Array | null {
    if (!this.check(va, length, false)) return null;
    return this.readRange(va, length);
  }

  /** Returns false on a page fault (nothing written). */
  writeBytes(va: number, data: Uint8Array): boolean {
    if (!this.check(va, data.length, true)) return false;
    this.writeRange(va, data);
    return true;
  }

  /** RtlMoveMemory: overlapping ranges copy as if through a temporary buffer. False on a page fault. */
  copy(dstVa: number, srcVa: number, length: number): boolean {
    if (!this.check(srcVa, length, false) || !this.check(dstVa, length, true)) return false;
    if (length === 0) return true;
    if (this.profile === 'coherent') {
      const src = this.singleRun(srcVa, length);
      const dst = this.singleRun(dstVa, length);
      if (src !== null && dst !== null) {
        this.memory.bytes.copyWithin(dst, src, src + length);
        return true;
      }
    }
    this.writeRange(dstVa, this.readRange(srcVa, length));
    return true;
  }

  /** RtlFillMemory / RtlZeroMemory. False on a page fault (nothing written). */
  fill(va: number, length: number, value: number): boolean {
    if (!this.check(va, length, true)) return false;
    this.space.forEachRun(va, length, (pa, run) => {
      if (this.profile === 'coherent') this.memory.bytes.fill(value, pa, pa + run);
      else this.cachedAccess(pa, run, (slotByte, n) => this.data.fill(value, slotByte, slotByte + n), true);
    });
    return true;
  }

  // ---- Cache maintenance ----

  /**
   * KeFlushIoBuffers for the lines holding the MDL's bytes. ReadOperation FALSE (the device
   * will read memory): write the dirty lines back so DMA sees the CPU's data. ReadOperation
   * TRUE (the device will write memory): write back and invalidate, so the CPU's next reads
   * miss and see what DMA brought. PIO (DmaOperation FALSE) is treated the same way. On the
   * coherent profile it does nothing.
   */
  KeFlushIoBuffers(Mdl: Mdl, ReadOperation: boolean, _DmaOperation: boolean): CacheFlushResult {
    const result: CacheFlushResult = { linesWrittenBack: 0, linesInvalidated: 0, pagesSkipped: 0 };
    if (this.profile === 'coherent') return result;
    let offset = Mdl.ByteOffset;
    let remaining = Mdl.ByteCount;
    for (let i = 0; remaining > 0 && i < Mdl.PfnArray.length; i++) {
      const run = Math.min(remaining, PAGE_SIZE - offset);
      const pfn = Mdl.PfnArray[i]!;
      if (pfn >= 0) this.flushRange(pfn * PAGE_SIZE + offset, run, ReadOperation, result);
      else result.pagesSkipped++;
      remaining -= run;
      offset = 0;
    }
    return result;
  }

  /**
   * Writes back the dirty lines overlapping physical [pa, pa + length), and invalidates
   * them too when `invalidate` is set.
   */
  flushRange(pa: number, length: number, invalidate: boolean, result: CacheFlushResult = { linesWrittenBack: 0, linesInvalidated: 0, pagesSkipped: 0 }): CacheFlushResult {
    if (this.profile === 'coherent' || length <= 0) return result;
    const first = Math.floor(pa / CACHE_LINE_SIZE);
    const last = Math.floor((pa + length - 1) / CACHE_LINE_SIZE);
    for (let line = first; line <= last; line++) {
      const slot = this.lookup(line);
      if (slot === INVALID) continue;
      if (this.dirty[slot]) {
        this.writeBack(slot);
        result.linesWrittenBack++;
      }
      if (invalidate) {
        this.invalidate(slot);
        result.linesInvalidated++;
      }
    }
    return result;
  }

  /** Writes back every dirty line and invalidates the whole cache (x86 WBINVD). */
  flushAll(): CacheFlushResult {
    const result: CacheFlushResult = { linesWrittenBack: 0, linesInvalidated: 0, pagesSkipped: 0 };
    for (let slot = 0; slot < this.tags.length; slot++) {
      if (this.tags[slot] === INVALID) continue;
      if (this.dirty[slot]) {
        this.writeBack(slot);
        result.linesWrittenBack++;
      }
      this.invalidate(slot);
      result.linesInvalidated++;
    }
    return result;
  }

  stats(): CacheStats {
    return {
      profile: this.profile,
      lineSize: CACHE_LINE_SIZE,
      capacityLines: this.tags.length,
      validLines: this.valid,
      dirtyLines: this.dirtyCount,
      hits: this.hits,
      misses: this.misses,
      writeBacks: this.writeBacks,
      evictions: this.evictions,
    };
  }

  /** The state of the line holding physical address `pa`, for the memory panel. */
  lineState(pa: number): LineState {
    if (this.profile === 'coherent') return 'uncached';
    const slot = this.lookup(Math.floor(pa / CACHE_LINE_SIZE));
    if (slot === INVALID) return 'uncached';
    return this.dirty[slot] ? 'dirty' : 'clean';
  }

  // ---- Internals ----

  /** Reports the access; on an unmapped byte, reports the fault and answers false. */
  private check(va: number, length: number, write: boolean): boolean {
    const bad = Number.isSafeInteger(length) && length >= 0 ? this.space.firstUnmapped(va, length) : va;
    if (bad !== null) {
      this.pageFaults++;
      this.lastFault = { va: bad, write };
      this.onPageFault?.(bad, write);
      return false;
    }
    this.onAccess?.(va, length, write);
    return true;
  }

  private readScalar(va: number, width: number): number {
    if (!this.check(va, width, false)) return width === 4 ? 0xffff_ffff : (1 << (8 * width)) - 1;
    let value = 0;
    for (let i = 0; i < width; i++) value += this.readPhysByte(this.space.translate(va + i)!) * 2 ** (8 * i);
    return value;
  }

  private writeScalar(va: number, value: number, width: number): boolean {
    if (!this.check(va, width, true)) return false;
    for (let i = 0; i < width; i++) this.writePhysByte(this.space.translate(va + i)!, (value >>> (8 * i)) & 0xff);
    return true;
  }

  private readPhysByte(pa: number): number {
    if (this.profile === 'coherent') return this.memory.bytes[pa]!;
    const slot = this.fetch(pa >>> LINE_SHIFT);
    return this.data[slot * CACHE_LINE_SIZE + (pa & (CACHE_LINE_SIZE - 1))]!;
  }

  private writePhysByte(pa: number, value: number): void {
    if (this.profile === 'coherent') {
      this.memory.bytes[pa] = value;
      return;
    }
    const slot = this.fetch(pa >>> LINE_SHIFT);
    this.data[slot * CACHE_LINE_SIZE + (pa & (CACHE_LINE_SIZE - 1))] = value;
    this.markDirty(slot);
  }

  /** Reads a mapped range (already checked). */
  private readRange(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.space.forEachRun(va, length, (pa, run, offset) => {
      if (this.profile === 'coherent') {
        out.set(this.memory.bytes.subarray(pa, pa + run), offset);
        return;
      }
      let at = offset;
      this.cachedAccess(pa, run, (slotByte, n) => {
        out.set(this.data.subarray(slotByte, slotByte + n), at);
        at += n;
      }, false);
    });
    return out;
  }

  /** Writes a mapped range (already checked). */
  private writeRange(va: number, data: Uint8Array): void {
    this.space.forEachRun(va, data.length, (pa, run, offset) => {
      if (this.profile === 'coherent') {
        this.memory.bytes.set(data.subarray(offset, offset + run), pa);
        return;
      }
      let at = offset;
      this.cachedAccess(pa, run, (slotByte, n) => {
        this.data.set(data.subarray(at, at + n), slotByte);
        at += n;
      }, true);
    });
  }

  /** Visits [pa, pa + length) line by line through the cache: `use(offset into data, bytes)`. */
  private cachedAccess(pa: number, length: number, use: (slotByte: number, n: number) => void, write: boolean): void {
    let at = pa;
    const end = pa + length;
    while (at < end) {
      const inLine = at & (CACHE_LINE_SIZE - 1);
      const n = Math.min(CACHE_LINE_SIZE - inLine, end - at);
      const slot = this.fetch(at >>> LINE_SHIFT);
      use(slot * CACHE_LINE_SIZE + inLine, n);
      if (write) this.markDirty(slot);
      at += n;
    }
  }

  /** The slot holding `line`, filling it from memory on a miss (write-allocate too). */
  private fetch(line: number): number {
    const hit = this.lookup(line);
    this.useClock++;
    if (hit !== INVALID) {
      this.hits++;
      this.lastUse[hit] = this.useClock;
      return hit;
    }
    this.misses++;
    const slot = this.victim(line);
    if (this.tags[slot] !== INVALID) {
      this.evictions++;
      if (this.dirty[slot]) this.writeBack(slot);
      this.invalidate(slot);
    }
    const pa = line * CACHE_LINE_SIZE;
    this.data.set(this.memory.bytes.subarray(pa, pa + CACHE_LINE_SIZE), slot * CACHE_LINE_SIZE);
    this.tags[slot] = line;
    this.valid++;
    this.lastUse[slot] = this.useClock;
    return slot;
  }

  private lookup(line: number): number {
    if (this.tags.length === 0) return INVALID;
    const base = (line & (this.sets - 1)) * this.ways;
    for (let w = 0; w < this.ways; w++) if (this.tags[base + w] === line) return base + w;
    return INVALID;
  }

  /** An empty way of the line's set, else the least recently used. */
  private victim(line: number): number {
    const base = (line & (this.sets - 1)) * this.ways;
    let oldest = base;
    for (let w = 0; w < this.ways; w++) {
      const slot = base + w;
      if (this.tags[slot] === INVALID) return slot;
      if (this.lastUse[slot]! < this.lastUse[oldest]!) oldest = slot;
    }
    return oldest;
  }

  private markDirty(slot: number): void {
    if (this.dirty[slot]) return;
    this.dirty[slot] = 1;
    this.dirtyCount++;
  }

  private writeBack(slot: number): void {
    const pa = this.tags[slot]! * CACHE_LINE_SIZE;
    this.memory.bytes.set(this.data.subarray(slot * CACHE_LINE_SIZE, (slot + 1) * CACHE_LINE_SIZE), pa);
    this.dirty[slot] = 0;
    this.dirtyCount--;
    this.writeBacks++;
  }

  private invalidate(slot: number): void {
    if (this.dirty[slot]) {
      this.dirty[slot] = 0;
      this.dirtyCount--;
    }
    this.tags[slot] = INVALID;
    this.valid--;
  }

  /** The physical address of [va, va + length) when it is one contiguous run, else null. */
  private singleRun(va: number, length: number): number | null {
    let start: number | null = null;
    let runs = 0;
    this.space.forEachRun(va, length, (pa) => {
      runs++;
      start ??= pa;
    });
    return runs === 1 ? start : null;
  }
}
