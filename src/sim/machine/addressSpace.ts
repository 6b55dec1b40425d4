import { PAGE_SIZE } from './physicalMemory';
import { DMA_BOUNDARY_64K, ISA_DMA_LIMIT, type FrameRequest, type PageFrameAllocator } from './pageFrames';

// The system half of a 32-bit x86 virtual address space (kernel addresses from
// MM_SYSTEM_RANGE_START = 0x8000_0000) and its page table, VPN → PFN. A buffer's virtual
// range is always contiguous; its page frames lie where the scenario's placement says,
// which is what an MDL's PFN array then records. An unmapped guard page follows every
// allocation, and freed ranges are not reused at once, so overruns and use after free
// touch unmapped memory instead of someone else's buffer.

export const MM_SYSTEM_RANGE_START = 0x8000_0000;
/** Where buffers start; the system range below it is left to the (unmodelled) kernel image. */
export const SYSTEM_POOL_START = 0x8100_0000;
/** End of the range buffers are placed in (exclusive); above it lie page tables and the HAL on x86. */
export const SYSTEM_POOL_END = 0xf000_0000;

const SYSTEM_VPN_BASE = MM_SYSTEM_RANGE_START / PAGE_SIZE;
const SYSTEM_VPN_COUNT = (0x1_0000_0000 - MM_SYSTEM_RANGE_START) / PAGE_SIZE;
const UNMAPPED = -1;
const GUARD_PAGES = 1;

/**
 * Where a buffer's pages lie in physical memory. Each kind adds one difficulty to the easy
 * case, so a scenario tests one thing at a time:
 * - `contiguous`: one physically contiguous run; placed below 16 MiB and inside one 64 KiB
 *   block when it can be (the case the 8237 handles directly), anywhere otherwise.
 * - `fragmented`: no two frames physically adjacent; below 16 MiB when it can be.
 * - `straddle-64k`: contiguous, crossing a 64 KiB physical boundary (needs ≥ 2 pages); below 16 MiB when it can be.
 * - `above-16m`: contiguous, every frame at or above 16 MiB, out of the 8237's reach.
 * - `below-16m`: contiguous, below 16 MiB, inside one 64 KiB block when it spans ≤ 16 pages:
 *   what a system DMA common buffer or a map register needs. No fallback.
 * `byteOffset` (0–4095) puts the buffer's first byte that far into its first page.
 */
export type PlacementKind = 'contiguous' | 'fragmented' | 'straddle-64k' | 'above-16m' | 'below-16m';

export interface Placement {
  kind: PlacementKind;
  byteOffset?: number;
}

export interface Allocation {
  /** The address allocate() returned: the page-aligned base plus the byte offset. */
  readonly va: number;
  readonly byteCount: number;
  readonly byteOffset: number;
  /** Frame of each page, in virtual order. */
  readonly pfns: readonly number[];
  /** How the frames were placed; 'mapping' for mapFrames(), which does not own them. */
  readonly placement: PlacementKind | 'mapping';
}

interface Range {
  start: number;
  end: number;
}

export class AddressSpace {
  /** PFN per system VPN (index = VPN − 0x80000), −1 when unmapped. */
  private readonly pageTable = new Int32Array(SYSTEM_VPN_COUNT).fill(UNMAPPED);
  private readonly byBaseVpn = new Map<number, Allocation>();
  /** Free virtual page ranges [start, end) in VPNs, sorted, coalesced. */
  private readonly freeVpns: Range[] = [{ start: SYSTEM_POOL_START / PAGE_SIZE, end: SYSTEM_POOL_END / PAGE_SIZE }];
  /** Next-fit cursor, so a freed range is not handed out again straight away. */
  private cursorVpn = SYSTEM_POOL_START / PAGE_SIZE;

  constructor(readonly frames: PageFrameAllocator) {}

  /**
   * A new buffer of `byteCount` bytes whose frames lie as `placement` says; answers the
   * virtual address of its first byte, or null when memory or address space runs out (or a
   * placement cannot be met, such as a one-page buffer asked to straddle 64 KiB).
   * Malformed arguments are a caller's bug and throw a RangeError.
   */
  allocate(byteCount: number, placement: Placement = { kind: 'contiguous' }): number | null {
    const byteOffset = placement.byteOffset ?? 0;
    if (!Number.isSafeInteger(byteCount) || byteCount <= 0) throw new RangeError(`a buffer needs a whole number of bytes > 0, got ${byteCount}`);
    if (!Number.isInteger(byteOffset) || byteOffset < 0 || byteOffset >= PAGE_SIZE) {
      throw new RangeError(`byteOffset must be 0–${PAGE_SIZE - 1}, got ${byteOffset}`);
    }
    const pageCount = Math.ceil((byteOffset + byteCount) / PAGE_SIZE);
    const pfns = this.placeFrames(pageCount, placement.kind);
    if (!pfns) return null;
    const base = this.mapNew(pfns);
    if (base === null) {
      this.frames.free(pfns);
      return null;
    }
    const va = base + byteOffset;
    this.byBaseVpn.set(base / PAGE_SIZE, { va, byteCount, byteOffset, pfns, placement: placement.kind });
    return va;
  }

  /** Releases a buffer by the address allocate() returned. Answers false when there is none there. */
  free(va: number): boolean {
    const a = this.byBaseVpn.get(Math.floor(va / PAGE_SIZE));
    if (!a || a.va !== va || a.placement === 'mapping') return false;
    this.unmapRange(va - a.byteOffset, a.pfns.length);
    this.byBaseVpn.delete(Math.floor(va / PAGE_SIZE));
    this.frames.free(a.pfns);
    return true;
  }

  /**
   * Maps frames the caller owns (an MDL's PFN array) at a new page-aligned system address,
   * as MmMapLockedPagesSpecifyCache does; null when the address space is full.
   */
  mapFrames(pfns: readonly number[]): number | null {
    if (pfns.length === 0 || !pfns.every((p) => Number.isInteger(p) && p >= 0 && p < this.frames.frameCount)) return null;
    const base = this.mapNew(pfns);
    if (base === null) return null;
    this.byBaseVpn.set(base / PAGE_SIZE, { va: base, byteCount: pfns.length * PAGE_SIZE, byteOffset: 0, pfns: [...pfns], placement: 'mapping' });
    return base;
  }

  /** Removes a mapping made by mapFrames(); the frames stay with their owner. */
  unmap(va: number): boolean {
    const a = this.byBaseVpn.get(Math.floor(va / PAGE_SIZE));
    if (!a || a.va !== va || a.placement !== 'mapping') return false;
    this.unmapRange(va, a.pfns.length);
    this.byBaseVpn.delete(va / PAGE_SIZE);
    return true;
  }

  /** The physical address behind a virtual address, or null when it is not mapped. */
  translate(va: number): number | null {
    const pfn = this.pfnOf(va);
    return pfn === null ? null : pfn * PAGE_SIZE + (va & (PAGE_SIZE - 1));
  }

  /** The frame behind the page holding `va`, or null when it is not mapped. */
  pfnOf(va: number): number | null {
    if (!Number.isInteger(va) || va < MM_SYSTEM_RANGE_START || va > 0xffff_ffff) return null;
    const pfn = this.pageTable[Math.floor(va / PAGE_SIZE) - SYSTEM_VPN_BASE]!;
    return pfn === UNMAPPED ? null : pfn;
  }

  /** True when every byte of [va, va + length) is mapped (an empty range is). */
  isMapped(va: number, length: number): boolean {
    return this.firstUnmapped(va, length) === null;
  }

  /** The first address of [va, va + length) that is not mapped, or null when all are. */
  firstUnmapped(va: number, length: number): number | null {
    if (!Number.isSafeInteger(length) || length < 0) return va;
    if (length === 0) return null;
    if (!Number.isInteger(va)) return va;
    const last = va + length - 1;
    for (let page = va - (va & (PAGE_SIZE - 1)); page <= last; page += PAGE_SIZE) {
      if (this.pfnOf(page) === null) return Math.max(page, va);
    }
    return null;
  }

  /**
   * Calls `visit` once per physically contiguous piece of [va, va + length), in order:
   * `pa` is where the piece starts, `offset` how far into the range. Answers false, without
   * visiting anything, when part of the range is not mapped.
   */
  forEachRun(va: number, length: number, visit: (pa: number, runLength: number, offset: number) => void): boolean {
    if (!this.isMapped(va, length)) return false;
    let offset = 0;
    while (offset < length) {
      const pa = this.translate(va + offset)!;
      let run = Math.min(length - offset, PAGE_SIZE - (pa & (PAGE_SIZE - 1)));
      while (offset + run < length && this.translate(va + offset + run) === pa + run) {
        run += Math.min(length - offset - run, PAGE_SIZE);
      }
      visit(pa, run, offset);
      offset += run;
    }
    return true;
  }

  /** The buffer or mapping that holds `va`, for panels and the verifier. */
  allocationAt(va: number): Allocation | null {
    for (const a of this.byBaseVpn.values()) {
      const base = a.va - a.byteOffset;
      if (va >= base && va < base + a.pfns.length * PAGE_SIZE) return a;
    }
    return null;
  }

  allocations(): Allocation[] {
    return [...this.byBaseVpn.values()].sort((x, y) => x.va - y.va);
  }

  private placeFrames(count: number, kind: PlacementKind): number[] | null {
    const f = this.frames;
    const isa: FrameRequest = { highestAcceptableAddress: ISA_DMA_LIMIT - 1 };
    const oneBlock: FrameRequest = count <= DMA_BOUNDARY_64K / PAGE_SIZE ? { ...isa, boundaryAddressMultiple: DMA_BOUNDARY_64K } : isa;
    switch (kind) {
      case 'contiguous':
        return f.allocateContiguous(count, oneBlock) ?? f.allocateContiguous(count);
      case 'below-16m':
        return f.allocateContiguous(count, oneBlock);
      case 'fragmented':
        return f.allocateScattered(count, isa) ?? f.allocateScattered(count);
      case 'straddle-64k':
        return f.allocateStraddling(count, DMA_BOUNDARY_64K, isa) ?? f.allocateStraddling(count);
      case 'above-16m':
        return f.allocateContiguous(count, { lowestAcceptableAddress: ISA_DMA_LIMIT });
    }
  }

  /** Reserves virtual pages for `pfns` plus a guard page and fills the page table; null when full. */
  private mapNew(pfns: readonly number[]): number | null {
    const startVpn = this.reserveVpns(pfns.length + GUARD_PAGES);
    if (startVpn === null) return null;
    for (let i = 0; i < pfns.length; i++) this.pageTable[startVpn + i - SYSTEM_VPN_BASE] = pfns[i]!;
    return startVpn * PAGE_SIZE;
  }

  private unmapRange(base: number, pageCount: number): void {
    const vpn = base / PAGE_SIZE;
    this.pageTable.fill(UNMAPPED, vpn - SYSTEM_VPN_BASE, vpn - SYSTEM_VPN_BASE + pageCount);
    this.releaseVpns(vpn, pageCount + GUARD_PAGES);
  }

  /** Next fit: the first free range at or after the cursor that holds `count` pages, wrapping once. */
  private reserveVpns(count: number): number | null {
    const ranges = this.freeVpns;
    const pick = (i: number, start: number): number => {
      const r = ranges[i]!;
      if (start === r.start && start + count === r.end) {
        ranges.splice(i, 1);
      } else if (start === r.start) {
        r.start += count;
      } else if (start + count === r.end) {
        r.end = start;
      } else {
        ranges.splice(i + 1, 0, { start: start + count, end: r.end });
        r.end = start;
      }
      this.cursorVpn = start + count;
      return start;
    };
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      const start = Math.max(r.start, this.cursorVpn);
      if (start + count <= r.end) return pick(i, start);
    }
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!;
      if (r.start >= this.cursorVpn) break;
      if (r.start + count <= r.end) return pick(i, r.start);
    }
    return null;
  }

  private releaseVpns(start: number, count: number): void {
    const ranges = this.freeVpns;
    let i = 0;
    while (i < ranges.length && ranges[i]!.start < start) i++;
    ranges.splice(i, 0, { start, end: start + count });
    // Coalesce with the neighbours.
    const next = ranges[i + 1];
    if (next && next.start === start + count) {
      ranges[i]!.end = next.end;
      ranges.splice(i + 1, 1);
    }
    const prev = ranges[i - 1];
    if (prev && prev.end === start) {
      prev.end = ranges[i]!.end;
      ranges.splice(i, 1);
    }
  }
}
