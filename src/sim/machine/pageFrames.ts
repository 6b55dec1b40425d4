import { PAGE_SHIFT, PAGE_SIZE, type PhysicalMemory } from './physicalMemory';
import { type Random } from './random';

// Who owns each 4 KiB page frame of physical memory. Placement is drawn from the seeded
// generator, so a seed reproduces a run's physical layout exactly and another seed moves
// buffers elsewhere. The first 1 MiB stays out of the general pool, as on a PC (real-mode
// memory, BIOS data, option ROMs); a request reaches it only by lowering
// `lowestAcceptableAddress` below 1 MiB. Limits take MmAllocateContiguousMemorySpecifyCache's
// names. Running out is an answer (null), never an exception.

/** The first 1 MiB: kept out of the general pool. */
export const LOW_MEMORY_SIZE = 0x10_0000;
/** The ISA bus drives address lines A0–A23 only: the 8237 and page registers reach 16 MiB. */
export const ISA_DMA_LIMIT = 0x100_0000;
/** The 8237 counts addresses in 16 bits: a transfer cannot cross a 64 KiB physical boundary. */
export const DMA_BOUNDARY_64K = 0x1_0000;

export interface FrameRequest {
  /** Lowest physical address a frame may start at. Default 1 MiB; 0 reaches low memory. */
  lowestAcceptableAddress?: number;
  /** Highest physical address any byte of the frames may have (inclusive). Default: the end of memory. */
  highestAcceptableAddress?: number;
  /** Contiguous runs only: the run may not cross a multiple of this (a power of two, in bytes; 0 = none). */
  boundaryAddressMultiple?: number;
}

const FREE = 0;
const IN_USE = 1;

export class PageFrameAllocator {
  readonly frameCount: number;
  private readonly state: Uint8Array;
  private freeTotal: number;

  constructor(
    memory: Pick<PhysicalMemory, 'size'>,
    private readonly random: Random,
  ) {
    this.frameCount = memory.size >>> PAGE_SHIFT;
    this.state = new Uint8Array(this.frameCount);
    this.freeTotal = this.frameCount;
  }

  isFree(pfn: number): boolean {
    return Number.isInteger(pfn) && pfn >= 0 && pfn < this.frameCount && this.state[pfn] === FREE;
  }

  /** Free frames in the range a request allows (all of memory, low memory included, without one). */
  countFree(request?: FrameRequest): number {
    if (!request) return this.freeTotal;
    const [lo, hi] = this.range(request);
    let n = 0;
    for (let p = lo; p < hi; p++) if (this.state[p] === FREE) n++;
    return n;
  }

  /** `count` physically contiguous frames, ascending, at a random place that satisfies the request. */
  allocateContiguous(count: number, request: FrameRequest = {}): number[] | null {
    if (!this.validCount(count)) return null;
    const [lo, hi] = this.range(request);
    const boundary = this.boundaryFrames(request.boundaryAddressMultiple);
    if (boundary === null) return null;
    if (boundary > 0 && count > boundary) return null;
    const fits = (start: number) => boundary === 0 || Math.floor(start / boundary) === Math.floor((start + count - 1) / boundary);
    return this.takeRun(this.pickRunStart(lo, hi, count, fits), count);
  }

  /**
   * `count` contiguous frames (count ≥ 2) that deliberately cross a multiple of `boundary`
   * bytes (64 KiB by default): the case the 8237 cannot transfer in one piece.
   */
  allocateStraddling(count: number, boundary = DMA_BOUNDARY_64K, request: FrameRequest = {}): number[] | null {
    if (!this.validCount(count) || count < 2) return null;
    const [lo, hi] = this.range(request);
    const b = this.boundaryFrames(boundary);
    if (!b) return null;
    // Some frame after the first starts on the boundary.
    const straddles = (start: number) => Math.floor(start / b) !== Math.floor((start + count - 1) / b);
    return this.takeRun(this.pickRunStart(lo, hi, count, straddles), count);
  }

  /**
   * `count` frames of which no two are physically adjacent, in random order: a buffer as
   * fragmented as pool memory gets. Where the range has too few non-adjacent free frames,
   * adjacent ones fill the rest.
   */
  allocateScattered(count: number, request: FrameRequest = {}): number[] | null {
    if (!this.validCount(count)) return null;
    const [lo, hi] = this.range(request);
    const candidates: number[] = [];
    for (let p = lo; p < hi; p++) if (this.state[p] === FREE) candidates.push(p);
    if (candidates.length < count) return null;

    const chosen = new Set<number>();
    const order: number[] = [];
    const passedOver: number[] = [];
    // Partial Fisher–Yates: draw candidates at random until enough are accepted.
    for (let end = candidates.length; end > 0 && order.length < count; end--) {
      const i = this.random.int(0, end - 1);
      const pfn = candidates[i]!;
      candidates[i] = candidates[end - 1]!;
      if (chosen.has(pfn - 1) || chosen.has(pfn + 1)) {
        passedOver.push(pfn);
      } else {
        chosen.add(pfn);
        order.push(pfn);
      }
    }
    for (const pfn of passedOver) {
      if (order.length >= count) break;
      order.push(pfn);
    }
    for (const pfn of order) this.state[pfn] = IN_USE;
    this.freeTotal -= order.length;
    return order;
  }

  /** Claims exactly these frames (e.g. a page of low memory), or none of them if any is taken. */
  allocateSpecific(pfns: readonly number[]): boolean {
    if (new Set(pfns).size !== pfns.length || !pfns.every((p) => this.isFree(p))) return false;
    for (const p of pfns) this.state[p] = IN_USE;
    this.freeTotal -= pfns.length;
    return true;
  }

  /** Returns frames to the pool. Answers how many were in use (freeing a free frame does nothing). */
  free(pfns: readonly number[]): number {
    let n = 0;
    for (const p of pfns) {
      if (Number.isInteger(p) && p >= 0 && p < this.frameCount && this.state[p] === IN_USE) {
        this.state[p] = FREE;
        n++;
      }
    }
    this.freeTotal += n;
    return n;
  }

  private validCount(count: number): boolean {
    return Number.isSafeInteger(count) && count > 0 && count <= this.frameCount;
  }

  /** The request's limits as frame numbers [lo, hi). */
  private range(request: FrameRequest): [number, number] {
    const lowest = request.lowestAcceptableAddress ?? LOW_MEMORY_SIZE;
    const highest = request.highestAcceptableAddress ?? Infinity;
    const lo = Math.max(0, Math.ceil(lowest / PAGE_SIZE));
    const hi = Math.min(this.frameCount, Math.floor((highest + 1) / PAGE_SIZE));
    return [lo, Math.max(lo, hi)];
  }

  /** A boundary in frames: 0 for none, null when it is not a power of two of at least a page. */
  private boundaryFrames(bytes: number | undefined): number | null {
    if (!bytes) return 0;
    if (!Number.isSafeInteger(bytes) || bytes < PAGE_SIZE || (bytes & (bytes - 1)) !== 0) return null;
    return bytes / PAGE_SIZE;
  }

  /** A random start among every free run of `count` frames in [lo, hi) that `accept` allows. */
  private pickRunStart(lo: number, hi: number, count: number, accept: (start: number) => boolean): number | null {
    const starts = (visit: (start: number) => boolean) => {
      let runStart = lo;
      for (let p = lo; p <= hi; p++) {
        if (p < hi && this.state[p] === FREE) continue;
        for (let s = runStart; s + count <= p; s++) if (accept(s) && visit(s)) return;
        runStart = p + 1;
      }
    };
    let total = 0;
    starts(() => {
      total++;
      return false;
    });
    if (total === 0) return null;
    let k = this.random.int(0, total - 1);
    let found = -1;
    starts((s) => {
      if (k-- > 0) return false;
      found = s;
      return true;
    });
    return found;
  }

  private takeRun(start: number | null, count: number): number[] | null {
    if (start === null) return null;
    this.state.fill(IN_USE, start, start + count);
    this.freeTotal -= count;
    return Array.from({ length: count }, (_, i) => start + i);
  }
}
