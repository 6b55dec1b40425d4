import { describe, expect, it } from 'vitest';
import { AddressSpace, type PlacementKind } from './addressSpace';
import { PageFrameAllocator } from './pageFrames';
import { PhysicalMemory } from './physicalMemory';
import { Random } from './random';

const PAGE_SIZE = 4096;
const MiB = 0x10_0000;
const SIXTEEN_MIB = 16 * MiB;
const K64 = 0x1_0000;
const KERNEL_BASE = 0x8000_0000;

function machine(sizeBytes = 64 * MiB, seed = 7) {
  const memory = new PhysicalMemory(sizeBytes);
  const frames = new PageFrameAllocator(memory, new Random(seed));
  return { memory, frames, space: new AddressSpace(frames) };
}

/** Physical frame of each page of a buffer, read back through translate(). */
function framesOf(space: AddressSpace, va: number, byteCount: number): number[] {
  const base = va - (va % PAGE_SIZE);
  const pages = Math.ceil((va - base + byteCount) / PAGE_SIZE);
  return Array.from({ length: pages }, (_, i) => space.translate(base + i * PAGE_SIZE)! / PAGE_SIZE);
}

const isRun = (pfns: number[]) => pfns.every((p, i) => i === 0 || p === pfns[i - 1]! + 1);

describe('AddressSpace', () => {
  it('hands out kernel addresses with a contiguous virtual range', () => {
    const { space } = machine();
    const va = space.allocate(5 * PAGE_SIZE, { kind: 'fragmented' })!;
    expect(va).toBeGreaterThanOrEqual(KERNEL_BASE);
    expect(va % PAGE_SIZE).toBe(0);
    expect(space.isMapped(va, 5 * PAGE_SIZE)).toBe(true);
    expect(space.translate(KERNEL_BASE - 1)).toBeNull();
    expect(space.translate(0x1000)).toBeNull();
  });

  it('places contiguous buffers in one run, below 16 MiB and inside one 64 KiB block when they fit', () => {
    const { space } = machine();
    for (let i = 0; i < 20; i++) {
      const va = space.allocate(3 * PAGE_SIZE + 17, { kind: 'contiguous', byteOffset: 0x80 })!;
      const pfns = framesOf(space, va, 3 * PAGE_SIZE + 17);
      expect(pfns).toHaveLength(4);
      expect(isRun(pfns)).toBe(true);
      expect((pfns.at(-1)! + 1) * PAGE_SIZE).toBeLessThanOrEqual(SIXTEEN_MIB);
      expect(Math.floor((pfns[0]! * PAGE_SIZE) / K64)).toBe(Math.floor((pfns.at(-1)! * PAGE_SIZE) / K64));
    }
  });

  it('places fragmented buffers with no two frames adjacent', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { space } = machine(64 * MiB, seed);
      const va = space.allocate(12 * PAGE_SIZE, { kind: 'fragmented' })!;
      const pfns = framesOf(space, va, 12 * PAGE_SIZE);
      const set = new Set(pfns);
      expect(set.size).toBe(12);
      expect(pfns.some((p) => set.has(p + 1) || set.has(p - 1))).toBe(false);
    }
  });

  it('makes straddle-64k buffers cross a 64 KiB physical boundary', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const { space } = machine(64 * MiB, seed);
      const length = 2 * PAGE_SIZE;
      const va = space.allocate(length, { kind: 'straddle-64k', byteOffset: 0x800 })!;
      const first = space.translate(va)!;
      const last = space.translate(va + length - 1)!;
      expect(last - first).toBe(length - 1);
      expect(Math.floor(first / K64)).not.toBe(Math.floor(last / K64));
    }
    expect(machine().space.allocate(100, { kind: 'straddle-64k' })).toBeNull();
  });

  it('puts above-16m buffers at or above 16 MiB and below-16m buffers under it', () => {
    const { space } = machine();
    for (let i = 0; i < 10; i++) {
      const high = space.allocate(3 * PAGE_SIZE, { kind: 'above-16m' })!;
      expect(framesOf(space, high, 3 * PAGE_SIZE).every((p) => p * PAGE_SIZE >= SIXTEEN_MIB)).toBe(true);
      const low = space.allocate(16 * PAGE_SIZE, { kind: 'below-16m' })!;
      const pfns = framesOf(space, low, 16 * PAGE_SIZE);
      expect(isRun(pfns)).toBe(true);
      expect(pfns.every((p) => (p + 1) * PAGE_SIZE <= SIXTEEN_MIB)).toBe(true);
      expect((pfns[0]! * PAGE_SIZE) % K64).toBe(0);
    }
    expect(machine(SIXTEEN_MIB).space.allocate(PAGE_SIZE, { kind: 'above-16m' })).toBeNull();
  });

  it('starts the buffer byteOffset bytes into its first page', () => {
    const { space } = machine();
    for (const byteOffset of [0, 1, 0x100, 0xfff]) {
      const va = space.allocate(0x2345, { kind: 'fragmented', byteOffset })!;
      expect(va % PAGE_SIZE).toBe(byteOffset);
      expect(space.translate(va)! % PAGE_SIZE).toBe(byteOffset);
      expect(framesOf(space, va, 0x2345)).toHaveLength(Math.ceil((byteOffset + 0x2345) / PAGE_SIZE));
    }
    expect(() => space.allocate(10, { kind: 'contiguous', byteOffset: PAGE_SIZE })).toThrow(RangeError);
    expect(() => space.allocate(0, { kind: 'contiguous' })).toThrow(RangeError);
  });

  it('translates exactly at page edges', () => {
    const { space } = machine();
    const va = space.allocate(2 * PAGE_SIZE, { kind: 'fragmented' })!;
    const p0 = space.translate(va)!;
    const p1 = space.translate(va + PAGE_SIZE)!;
    expect(space.translate(va + PAGE_SIZE - 1)).toBe(p0 + PAGE_SIZE - 1);
    expect(space.translate(va + PAGE_SIZE)).toBe(p1);
    expect(Math.abs(p1 - p0)).not.toBe(PAGE_SIZE);
    expect(space.translate(va + 2 * PAGE_SIZE - 1)).toBe(p1 + PAGE_SIZE - 1);
    // The guard page after the buffer is unmapped.
    expect(space.translate(va + 2 * PAGE_SIZE)).toBeNull();
    expect(space.isMapped(va + PAGE_SIZE, PAGE_SIZE)).toBe(true);
    expect(space.isMapped(va + PAGE_SIZE, PAGE_SIZE + 1)).toBe(false);
    expect(space.firstUnmapped(va + 10, 2 * PAGE_SIZE)).toBe(va + 2 * PAGE_SIZE);
    expect(space.isMapped(va, 0)).toBe(true);
  });

  it('splits a range into physically contiguous runs', () => {
    const { space } = machine();
    const frag = space.allocate(3 * PAGE_SIZE, { kind: 'fragmented', byteOffset: 0x10 })!;
    const runs: [number, number, number][] = [];
    expect(space.forEachRun(frag, 3 * PAGE_SIZE - 0x10, (pa, n, off) => runs.push([pa, n, off]))).toBe(true);
    expect(runs.map((r) => r[1])).toEqual([PAGE_SIZE - 0x10, PAGE_SIZE, PAGE_SIZE]);
    expect(runs.map((r) => r[2])).toEqual([0, PAGE_SIZE - 0x10, 2 * PAGE_SIZE - 0x10]);
    const contiguous = space.allocate(3 * PAGE_SIZE, { kind: 'contiguous' })!;
    let count = 0;
    space.forEachRun(contiguous, 3 * PAGE_SIZE, () => count++);
    expect(count).toBe(1);
    expect(space.forEachRun(contiguous, 4 * PAGE_SIZE, () => count++)).toBe(false);
    expect(count).toBe(1);
  });

  it('frees buffers: pages unmapped, frames back in the pool, address not reused at once', () => {
    const { space, frames } = machine();
    const before = frames.countFree();
    const va = space.allocate(3 * PAGE_SIZE, { kind: 'contiguous', byteOffset: 8 })!;
    expect(frames.countFree()).toBe(before - 4); // 8 + 3 pages spans 4 pages
    expect(space.free(va - 8)).toBe(false);
    expect(space.free(va)).toBe(true);
    expect(space.free(va)).toBe(false);
    expect(space.translate(va)).toBeNull();
    expect(frames.countFree()).toBe(before);
    const again = space.allocate(3 * PAGE_SIZE, { kind: 'contiguous', byteOffset: 8 })!;
    expect(again).not.toBe(va);
  });

  it('is deterministic per seed', () => {
    const layout = (seed: number, kind: PlacementKind) => {
      const { space } = machine(64 * MiB, seed);
      const va = space.allocate(8 * PAGE_SIZE, { kind })!;
      return { va, pfns: framesOf(space, va, 8 * PAGE_SIZE) };
    };
    expect(layout(3, 'fragmented')).toEqual(layout(3, 'fragmented'));
    expect(layout(3, 'fragmented').pfns).not.toEqual(layout(4, 'fragmented').pfns);
    expect(layout(3, 'straddle-64k')).toEqual(layout(3, 'straddle-64k'));
  });

  it('returns null when memory runs out', () => {
    const { space } = machine(2 * MiB);
    expect(space.allocate(MiB + 1)).toBeNull();
    const all = space.allocate(MiB, { kind: 'contiguous' });
    expect(all).not.toBeNull();
    expect(space.allocate(1)).toBeNull();
    expect(space.allocate(1, { kind: 'fragmented' })).toBeNull();
  });

  it('maps frames it does not own at a second address', () => {
    const { space, frames } = machine();
    const va = space.allocate(2 * PAGE_SIZE, { kind: 'fragmented' })!;
    const pfns = framesOf(space, va, 2 * PAGE_SIZE);
    const alias = space.mapFrames(pfns)!;
    expect(alias).not.toBe(va);
    expect(space.translate(alias + PAGE_SIZE + 5)).toBe(space.translate(va + PAGE_SIZE + 5));
    const free = frames.countFree();
    expect(space.free(alias)).toBe(false);
    expect(space.unmap(alias)).toBe(true);
    expect(space.translate(alias)).toBeNull();
    expect(frames.countFree()).toBe(free);
    expect(space.translate(va)).not.toBeNull();
  });
});
