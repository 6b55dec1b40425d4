import { describe, expect, it } from 'vitest';
import { AddressSpace, type Placement } from './addressSpace';
import { CpuMemory, type CacheGeometry, type CacheProfile } from './cpuCache';
import { IoAllocateMdl, IoBuildPartialMdl, type Mdl, MmBuildMdlForNonPagedPool } from './mdl';
import { PageFrameAllocator } from './pageFrames';
import { PhysicalMemory } from './physicalMemory';
import { Random } from './random';

const PAGE_SIZE = 4096;
const LINE = 64;
const MiB = 0x10_0000;

function machine(profile: CacheProfile, geometry?: CacheGeometry) {
  const memory = new PhysicalMemory(32 * MiB);
  const space = new AddressSpace(new PageFrameAllocator(memory, new Random(5)));
  return { memory, space, cpu: new CpuMemory(memory, space, profile, geometry) };
}

function buffer(space: AddressSpace, length: number, placement: Placement = { kind: 'fragmented', byteOffset: 0x30 }) {
  const va = space.allocate(length, placement)!;
  const mdl = IoAllocateMdl(space, va, length) as Mdl;
  expect(MmBuildMdlForNonPagedPool(mdl)).toBeNull();
  return { va, mdl };
}

/** What the 8237 does: move bytes to or from physical memory, page by page, past any cache. */
function dmaWrite(memory: PhysicalMemory, mdl: Mdl, data: Uint8Array): void {
  forEachPhysicalPiece(mdl, (pa, n, at) => memory.write(pa, data.subarray(at, at + n)));
}

function dmaRead(memory: PhysicalMemory, mdl: Mdl): Uint8Array {
  const out = new Uint8Array(mdl.ByteCount);
  forEachPhysicalPiece(mdl, (pa, n, at) => out.set(memory.read(pa, n), at));
  return out;
}

function forEachPhysicalPiece(mdl: Mdl, visit: (pa: number, n: number, at: number) => void): void {
  let offset = mdl.ByteOffset;
  for (let i = 0, at = 0; at < mdl.ByteCount; i++) {
    const n = Math.min(PAGE_SIZE - offset, mdl.ByteCount - at);
    visit(mdl.PfnArray[i]! * PAGE_SIZE + offset, n, at);
    at += n;
    offset = 0;
  }
}

const pattern = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff);

describe('CpuMemory, either profile', () => {
  for (const profile of ['coherent', 'non-coherent'] as const) {
    describe(profile, () => {
      it('reads and writes words and dwords little-endian, across a page edge', () => {
        const { space, cpu } = machine(profile);
        const { va } = buffer(space, 2 * PAGE_SIZE, { kind: 'fragmented' });
        const edge = va + PAGE_SIZE - 2;
        expect(cpu.writeDword(edge, 0x11223344)).toBe(true);
        expect(cpu.readByte(edge)).toBe(0x44);
        expect(cpu.readByte(edge + 3)).toBe(0x11);
        expect(cpu.readWord(edge + 1)).toBe(0x2233);
        expect(cpu.readDword(edge)).toBe(0x11223344);
        cpu.writeWord(va, 0xbeef);
        expect(cpu.readDword(va)).toBe(0x0000beef);
        cpu.flushAll();
        // The two halves landed in two unrelated frames.
        expect(space.translate(edge + 2)! - space.translate(edge)!).not.toBe(2);
      });

      it('copies, fills and moves whole ranges, overlapping ones as RtlMoveMemory does', () => {
        const { space, cpu } = machine(profile);
        const { va } = buffer(space, 3 * PAGE_SIZE);
        const data = pattern(3 * PAGE_SIZE, 1);
        expect(cpu.writeBytes(va, data)).toBe(true);
        expect(cpu.readBytes(va, data.length)).toEqual(data);

        expect(cpu.copy(va + 100, va, 5000)).toBe(true);
        expect(cpu.readBytes(va + 100, 5000)).toEqual(data.subarray(0, 5000));
        cpu.writeBytes(va, data);
        expect(cpu.copy(va, va + 100, 5000)).toBe(true);
        expect(cpu.readBytes(va, 5000)).toEqual(data.subarray(100, 5100));

        expect(cpu.fill(va + 10, 6000, 0xab)).toBe(true);
        const after = cpu.readBytes(va, 3 * PAGE_SIZE)!;
        expect(after.subarray(10, 6010).every((b) => b === 0xab)).toBe(true);
        expect(after[9]).not.toBe(0xab);
        expect(after[6010]).not.toBe(0xab);

        const other = buffer(space, 2 * PAGE_SIZE, { kind: 'contiguous' }).va;
        const contiguousToo = buffer(space, 2 * PAGE_SIZE, { kind: 'contiguous' }).va;
        cpu.writeBytes(other, data.subarray(0, 2 * PAGE_SIZE));
        expect(cpu.copy(contiguousToo, other, 2 * PAGE_SIZE)).toBe(true);
        expect(cpu.readBytes(contiguousToo, 2 * PAGE_SIZE)).toEqual(data.subarray(0, 2 * PAGE_SIZE));
      });

      it('turns an access to an unmapped address into a reported page fault, changing nothing', () => {
        const { space, cpu } = machine(profile);
        const { va } = buffer(space, PAGE_SIZE, { kind: 'contiguous' });
        const faults: [number, boolean][] = [];
        cpu.onPageFault = (at, write) => faults.push([at, write]);
        cpu.fill(va, PAGE_SIZE, 0x5a);
        expect(cpu.readByte(va + PAGE_SIZE)).toBe(0xff);
        expect(cpu.readDword(va + PAGE_SIZE - 2)).toBe(0xffff_ffff);
        expect(cpu.writeWord(va + PAGE_SIZE - 1, 0x1234)).toBe(false);
        expect(cpu.readByte(va + PAGE_SIZE - 1)).toBe(0x5a);
        expect(cpu.readBytes(va + 10, PAGE_SIZE)).toBeNull();
        expect(cpu.writeBytes(va + 10, new Uint8Array(PAGE_SIZE))).toBe(false);
        expect(cpu.copy(va, va + 1, PAGE_SIZE)).toBe(false);
        expect(cpu.fill(0x1000, 4, 0)).toBe(false);
        expect(cpu.readBytes(va, PAGE_SIZE)!.every((b) => b === 0x5a)).toBe(true);
        expect(faults).toEqual([
          [va + PAGE_SIZE, false],
          [va + PAGE_SIZE, false],
          [va + PAGE_SIZE, true],
          [va + PAGE_SIZE, false],
          [va + PAGE_SIZE, true],
          [va + PAGE_SIZE, false],
          [0x1000, true],
        ]);
        expect(cpu.pageFaults).toBe(7);
        expect(cpu.lastFault).toEqual({ va: 0x1000, write: true });
      });
    });
  }
});

describe('coherent profile (x86 snoops DMA)', () => {
  it('lets DMA and the CPU see each other at once; KeFlushIoBuffers does nothing', () => {
    const { memory, space, cpu } = machine('coherent');
    const { va, mdl } = buffer(space, 2 * PAGE_SIZE);
    cpu.writeBytes(va, pattern(2 * PAGE_SIZE, 3));
    expect(dmaRead(memory, mdl)).toEqual(pattern(2 * PAGE_SIZE, 3));
    dmaWrite(memory, mdl, pattern(2 * PAGE_SIZE, 9));
    expect(cpu.readBytes(va, 2 * PAGE_SIZE)).toEqual(pattern(2 * PAGE_SIZE, 9));
    expect(cpu.KeFlushIoBuffers(mdl, true, true)).toEqual({ linesWrittenBack: 0, linesInvalidated: 0, pagesSkipped: 0 });
    expect(cpu.stats()).toMatchObject({ capacityLines: 0, validLines: 0, dirtyLines: 0 });
    expect(cpu.lineState(space.translate(va)!)).toBe('uncached');
  });
});

describe('non-coherent profile (a write-back cache DMA does not snoop)', () => {
  const length = 3 * PAGE_SIZE;

  it('device → memory without KeFlushIoBuffers: the CPU reads stale cached data', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, length);
    cpu.fill(va, length, 0); // the driver zeroes its buffer: dirty lines
    dmaWrite(memory, mdl, pattern(length, 1)); // the device fills memory
    expect(cpu.readBytes(va, length)!.every((b) => b === 0)).toBe(true);
    // And when the dirty lines go back later, they overwrite what the device brought.
    cpu.flushAll();
    expect(dmaRead(memory, mdl).every((b) => b === 0)).toBe(true);
  });

  it('device → memory with KeFlushIoBuffers(ReadOperation TRUE) first: the CPU sees the DMA data', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, length);
    cpu.fill(va, length, 0);
    const flushed = cpu.KeFlushIoBuffers(mdl, true, true);
    expect(flushed.linesInvalidated).toBeGreaterThan(0);
    expect(flushed.linesWrittenBack).toBe(flushed.linesInvalidated);
    expect(cpu.stats().validLines).toBe(0);
    dmaWrite(memory, mdl, pattern(length, 1));
    expect(cpu.readBytes(va, length)).toEqual(pattern(length, 1));
  });

  it('memory → device without KeFlushIoBuffers: the device reads what memory held before', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, length);
    cpu.writeBytes(va, pattern(length, 2));
    expect(dmaRead(memory, mdl).every((b) => b === 0)).toBe(true);
  });

  it('memory → device with KeFlushIoBuffers(ReadOperation FALSE): the device reads the CPU data', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, length);
    cpu.writeBytes(va, pattern(length, 2));
    const dirty = cpu.stats().dirtyLines;
    expect(dirty).toBeGreaterThan(0);
    expect(cpu.KeFlushIoBuffers(mdl, false, true)).toEqual({ linesWrittenBack: dirty, linesInvalidated: 0, pagesSkipped: 0 });
    expect(dmaRead(memory, mdl)).toEqual(pattern(length, 2));
    // Written back, still cached, now clean.
    expect(cpu.stats()).toMatchObject({ dirtyLines: 0, validLines: dirty });
  });

  it('also shows a stale read of lines that were only read (clean) before the DMA', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, PAGE_SIZE, { kind: 'contiguous' });
    expect(cpu.readDword(va)).toBe(0);
    dmaWrite(memory, mdl, pattern(PAGE_SIZE, 4));
    expect(cpu.readDword(va)).toBe(0);
    cpu.KeFlushIoBuffers(mdl, true, true);
    expect(cpu.readByte(va)).toBe(pattern(PAGE_SIZE, 4)[0]);
  });

  it('flushes only the lines that hold the MDL bytes', () => {
    const { space, cpu } = machine('non-coherent');
    const { va, mdl } = buffer(space, PAGE_SIZE, { kind: 'contiguous' });
    cpu.fill(va, PAGE_SIZE, 1); // 64 lines dirty
    const part = IoAllocateMdl(space, va, PAGE_SIZE) as Mdl;
    expect(IoBuildPartialMdl(mdl, part, va + LINE + 1, LINE)).toBeNull(); // touches lines 1 and 2
    expect(cpu.KeFlushIoBuffers(part, false, true).linesWrittenBack).toBe(2);
    expect(cpu.stats().dirtyLines).toBe(PAGE_SIZE / LINE - 2);
    expect(cpu.lineState(space.translate(va)!)).toBe('dirty');
    expect(cpu.lineState(space.translate(va + LINE)!)).toBe('clean');
    expect(cpu.lineState(space.translate(va + 3 * LINE)!)).toBe('dirty');
    const unbuilt = IoAllocateMdl(space, va, 10) as Mdl;
    expect(cpu.KeFlushIoBuffers(unbuilt, true, true).pagesSkipped).toBe(1);
  });

  it('counts cached and dirty lines for the panel, and flushAll empties the cache', () => {
    const { memory, space, cpu } = machine('non-coherent');
    const { va } = buffer(space, PAGE_SIZE, { kind: 'contiguous' });
    cpu.writeBytes(va, pattern(4 * LINE, 5)); // page-aligned: exactly 4 lines
    cpu.readBytes(va + 8 * LINE, 2 * LINE);
    expect(cpu.stats()).toMatchObject({ profile: 'non-coherent', lineSize: LINE, validLines: 6, dirtyLines: 4 });
    const all = cpu.flushAll();
    expect(all).toEqual({ linesWrittenBack: 4, linesInvalidated: 6, pagesSkipped: 0 });
    expect(cpu.stats()).toMatchObject({ validLines: 0, dirtyLines: 0 });
    expect(memory.read(space.translate(va)!, 4 * LINE)).toEqual(pattern(4 * LINE, 5));
  });

  it('evicts the least recently used line of a set, writing it back if dirty', () => {
    const { memory, space, cpu } = machine('non-coherent', { sets: 1, ways: 2 });
    const { va } = buffer(space, PAGE_SIZE, { kind: 'contiguous' });
    const pa = space.translate(va)!;
    cpu.writeByte(va, 0xa1); // line A, dirty
    cpu.readByte(va + LINE); // line B
    cpu.readByte(va); // A used again
    cpu.readByte(va + 2 * LINE); // C evicts B
    expect(cpu.lineState(pa)).toBe('dirty');
    expect(cpu.lineState(pa + LINE)).toBe('uncached');
    expect(memory.readByte(pa)).toBe(0);
    cpu.readByte(va + 3 * LINE); // D evicts A, LRU now: the dirty byte reaches memory
    expect(memory.readByte(pa)).toBe(0xa1);
    expect(cpu.stats()).toMatchObject({ evictions: 2, writeBacks: 1, validLines: 2 });
  });
});
