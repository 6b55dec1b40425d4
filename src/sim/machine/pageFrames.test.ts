import { describe, expect, it } from 'vitest';
import { PageFrameAllocator } from './pageFrames';
import { PhysicalMemory } from './physicalMemory';
import { Random } from './random';

const PAGE_SIZE = 4096;
const MiB = 0x10_0000;
const SIXTEEN_MIB = 16 * MiB;
const K64 = 0x1_0000;
const FRAMES_PER_64K = K64 / PAGE_SIZE;

// The allocator needs only the size; a real PhysicalMemory is tried once below.
const allocator = (sizeBytes = 64 * MiB, seed = 1) => new PageFrameAllocator({ size: sizeBytes }, new Random(seed));
const isRun = (pfns: number[]) => pfns.every((p, i) => i === 0 || p === pfns[i - 1]! + 1);
const block64k = (pfn: number) => Math.floor((pfn * PAGE_SIZE) / K64);

describe('PageFrameAllocator', () => {
  it('covers the whole of a PhysicalMemory', () => {
    expect(new PageFrameAllocator(new PhysicalMemory(64 * MiB), new Random(1)).frameCount).toBe((64 * MiB) / PAGE_SIZE);
  });

  it('allocates contiguous runs from the general pool, above the first MiB', () => {
    const f = allocator();
    for (let i = 0; i < 50; i++) {
      const run = f.allocateContiguous(7)!;
      expect(run).toHaveLength(7);
      expect(isRun(run)).toBe(true);
      expect(run[0]! * PAGE_SIZE).toBeGreaterThanOrEqual(MiB);
    }
  });

  it('keeps low memory out of the general pool until asked for it', () => {
    const f = allocator(2 * MiB);
    const total = (2 * MiB) / PAGE_SIZE;
    const low = MiB / PAGE_SIZE;
    expect(f.countFree()).toBe(total);
    const general = f.allocateScattered(total - low)!;
    expect(general.every((p) => p >= low)).toBe(true);
    expect(f.allocateContiguous(1)).toBeNull();
    const fromLow = f.allocateContiguous(4, { lowestAcceptableAddress: 0 })!;
    expect(fromLow.every((p) => p < low)).toBe(true);
    expect(f.allocateSpecific([0])).toBe(true);
    expect(f.allocateSpecific([0])).toBe(false);
  });

  it('keeps every frame below a physical limit', () => {
    const f = allocator();
    for (let i = 0; i < 30; i++) {
      const run = f.allocateContiguous(20, { highestAcceptableAddress: SIXTEEN_MIB - 1 })!;
      expect((run.at(-1)! + 1) * PAGE_SIZE).toBeLessThanOrEqual(SIXTEEN_MIB);
      const scattered = f.allocateScattered(5, { highestAcceptableAddress: SIXTEEN_MIB - 1 })!;
      expect(scattered.every((p) => (p + 1) * PAGE_SIZE <= SIXTEEN_MIB)).toBe(true);
    }
  });

  it('places frames at or above 16 MiB when asked', () => {
    const f = allocator();
    for (let i = 0; i < 30; i++) {
      expect(f.allocateContiguous(9, { lowestAcceptableAddress: SIXTEEN_MIB })!.every((p) => p * PAGE_SIZE >= SIXTEEN_MIB)).toBe(true);
    }
    expect(allocator(SIXTEEN_MIB).allocateContiguous(1, { lowestAcceptableAddress: SIXTEEN_MIB })).toBeNull();
  });

  it('keeps a run inside one 64 KiB block when given that boundary', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const f = allocator(64 * MiB, seed);
      for (const n of [1, 3, 15, FRAMES_PER_64K]) {
        const run = f.allocateContiguous(n, { boundaryAddressMultiple: K64 })!;
        expect(block64k(run[0]!)).toBe(block64k(run.at(-1)!));
      }
    }
    expect(allocator().allocateContiguous(FRAMES_PER_64K + 1, { boundaryAddressMultiple: K64 })).toBeNull();
    expect(allocator().allocateContiguous(2, { boundaryAddressMultiple: 3000 })).toBeNull();
  });

  it('makes a run straddle a 64 KiB boundary when asked', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const f = allocator(64 * MiB, seed);
      for (const n of [2, 5, 40]) {
        const run = f.allocateStraddling(n, K64, { highestAcceptableAddress: SIXTEEN_MIB - 1 })!;
        expect(isRun(run)).toBe(true);
        expect(block64k(run[0]!)).not.toBe(block64k(run.at(-1)!));
        expect(run.slice(1).some((p) => (p * PAGE_SIZE) % K64 === 0)).toBe(true);
      }
    }
    expect(allocator().allocateStraddling(1)).toBeNull();
  });

  it('scatters frames so that no two are adjacent', () => {
    const f = allocator();
    const pfns = f.allocateScattered(200)!;
    expect(new Set(pfns).size).toBe(200);
    const set = new Set(pfns);
    expect(pfns.some((p) => set.has(p + 1) || set.has(p - 1))).toBe(false);
    expect(pfns.every((p) => f.isFree(p) === false)).toBe(true);
  });

  it('fills a scattered request with adjacent frames only where memory leaves no choice', () => {
    const f = allocator(MiB + 8 * PAGE_SIZE);
    const pfns = f.allocateScattered(8)!;
    expect(pfns).toHaveLength(8);
    expect(new Set(pfns).size).toBe(8);
    expect(f.allocateScattered(1)).toBeNull();
  });

  it('is deterministic: the same seed gives the same frames, another seed others', () => {
    const a = allocator(64 * MiB, 42).allocateScattered(16);
    const b = allocator(64 * MiB, 42).allocateScattered(16);
    const c = allocator(64 * MiB, 43).allocateScattered(16);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(allocator(64 * MiB, 42).allocateContiguous(4)).toEqual(allocator(64 * MiB, 42).allocateContiguous(4));
  });

  it('returns null on exhaustion and counts what is free', () => {
    const f = allocator(2 * MiB);
    const general = (2 * MiB - MiB) / PAGE_SIZE;
    expect(f.countFree({})).toBe(general);
    expect(f.allocateContiguous(general + 1)).toBeNull();
    expect(f.allocateScattered(general + 1)).toBeNull();
    const all = f.allocateContiguous(general)!;
    expect(f.countFree({})).toBe(0);
    expect(f.allocateContiguous(1)).toBeNull();
    expect(f.allocateScattered(1)).toBeNull();
    expect(f.allocateContiguous(0)).toBeNull();
    expect(f.free(all.slice(0, 10))).toBe(10);
    expect(f.free(all.slice(0, 10))).toBe(0);
    expect(f.countFree({})).toBe(10);
    expect(f.allocateContiguous(10)).toEqual(all.slice(0, 10));
  });
});
