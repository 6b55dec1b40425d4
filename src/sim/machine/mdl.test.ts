import { describe, expect, it } from 'vitest';
import { AddressSpace } from './addressSpace';
import {
  ADDRESS_AND_SIZE_TO_SPAN_PAGES,
  BYTE_OFFSET,
  IoAllocateMdl,
  IoBuildPartialMdl,
  IoFreeMdl,
  isMdlViolation,
  Mdl,
  type MdlViolation,
  MmBuildMdlForNonPagedPool,
  MmGetMdlByteCount,
  MmGetMdlByteOffset,
  MmGetMdlVirtualAddress,
  MmGetSystemAddressForMdlSafe,
  MmPrepareMdlForReuse,
  NormalPagePriority,
  PAGE_ALIGN,
  type IrpMdlLink,
} from './mdl';
import { PageFrameAllocator } from './pageFrames';
import { PhysicalMemory } from './physicalMemory';
import { Random } from './random';

// The WDK's values (wdm.h, x86), declared here rather than imported.
const PAGE_SIZE = 4096;
const MiB = 0x10_0000;
const SIZEOF_MDL_X86 = 28;
const MDL_MAPPED_TO_SYSTEM_VA = 0x0001;
const MDL_PAGES_LOCKED = 0x0002;
const MDL_SOURCE_IS_NONPAGED_POOL = 0x0004;
const MDL_ALLOCATED_FIXED_SIZE = 0x0008;
const MDL_PARTIAL = 0x0010;
const MDL_PARTIAL_HAS_BEEN_MAPPED = 0x0020;

function machine(seed = 11) {
  const memory = new PhysicalMemory(64 * MiB);
  return new AddressSpace(new PageFrameAllocator(memory, new Random(seed)));
}

function mdlOf(space: AddressSpace, va: number, length: number): Mdl {
  const mdl = IoAllocateMdl(space, va, length);
  if (!(mdl instanceof Mdl)) throw new Error(`IoAllocateMdl failed: ${String(mdl)}`);
  return mdl;
}

function builtMdl(space: AddressSpace, va: number, length: number): Mdl {
  const mdl = mdlOf(space, va, length);
  expect(MmBuildMdlForNonPagedPool(mdl)).toBeNull();
  return mdl;
}

function violation(result: unknown): MdlViolation {
  expect(isMdlViolation(result)).toBe(true);
  return result as MdlViolation;
}

describe('address macros', () => {
  it('BYTE_OFFSET and PAGE_ALIGN split a kernel address', () => {
    expect(BYTE_OFFSET(0x8123_4567)).toBe(0x567);
    expect(PAGE_ALIGN(0x8123_4567)).toBe(0x8123_4000);
    expect(PAGE_ALIGN(0xffff_ffff)).toBe(0xffff_f000);
    expect(BYTE_OFFSET(0x8000_0000)).toBe(0);
  });

  it('ADDRESS_AND_SIZE_TO_SPAN_PAGES counts the pages a range touches', () => {
    // (BYTE_OFFSET(Va) + Size + PAGE_SIZE - 1) >> PAGE_SHIFT
    const cases: [number, number, number][] = [
      [0x8000_0000, 0, 0],
      [0x8000_0100, 0, 1],
      [0x8000_0000, 1, 1],
      [0x8000_0000, PAGE_SIZE, 1],
      [0x8000_0000, PAGE_SIZE + 1, 2],
      [0x8000_0fff, 1, 1],
      [0x8000_0fff, 2, 2],
      [0x8000_0100, 0x2345, 3],
      [0x8000_0001, 2 * PAGE_SIZE - 1, 2],
      [0x8000_0001, 2 * PAGE_SIZE, 3],
      [0x8000_0000, 64 * 1024, 16],
    ];
    for (const [va, size, pages] of cases) expect(ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, size), `${va.toString(16)}+${size}`).toBe(pages);
  });
});

describe('IoAllocateMdl', () => {
  it('fills the header as MmInitializeMdl does and leaves the PFN array unbuilt', () => {
    const space = machine();
    const va = space.allocate(0x2345, { kind: 'fragmented', byteOffset: 0x100 })!;
    const mdl = mdlOf(space, va, 0x2345);
    expect(mdl.Next).toBeNull();
    expect(mdl.StartVa % PAGE_SIZE).toBe(0);
    expect(mdl.StartVa).toBe(va - 0x100);
    expect(mdl.ByteOffset).toBe(0x100);
    expect(mdl.ByteCount).toBe(0x2345);
    expect(MmGetMdlVirtualAddress(mdl)).toBe(mdl.StartVa + mdl.ByteOffset);
    expect(MmGetMdlVirtualAddress(mdl)).toBe(va);
    expect(MmGetMdlByteCount(mdl)).toBe(0x2345);
    expect(MmGetMdlByteOffset(mdl)).toBe(0x100);
    expect(mdl.PfnArray).toHaveLength(3);
    expect(mdl.Size).toBe(SIZEOF_MDL_X86 + 3 * 4);
    expect(mdl.MdlFlags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_PAGES_LOCKED | MDL_MAPPED_TO_SYSTEM_VA)).toBe(0);
    expect(mdl.MdlFlags & MDL_ALLOCATED_FIXED_SIZE).toBe(MDL_ALLOCATED_FIXED_SIZE);
    expect(mdl.PfnArray.some((pfn) => pfn >= 0)).toBe(false);
  });

  it('returns NULL over the documented maximum (4 GB - PAGE_SIZE) and flags Length 0', () => {
    const space = machine();
    expect(IoAllocateMdl(space, 0x8100_0000, 0x1_0000_0000 - PAGE_SIZE + 1)).toBeNull();
    expect(IoAllocateMdl(space, 0x8100_0000, -1)).toBeNull();
    expect(IoAllocateMdl(space, 0x8100_0000, 1.5)).toBeNull();
    expect(IoAllocateMdl(space, 0x8100_0000, 0x1_0000_0000 - PAGE_SIZE)).toBeInstanceOf(Mdl);
    expect(violation(IoAllocateMdl(space, 0x8100_0000, 0)).code).toBe('MDL_ZERO_LENGTH');
    expect(violation(IoAllocateMdl(space, 2 ** 33, 10)).code).toBe('MDL_BAD_ADDRESS');
  });

  it('links the MDL to an IRP: primary at MdlAddress, secondary at the end of the chain', () => {
    const space = machine();
    const irp: IrpMdlLink = { MdlAddress: null };
    expect(violation(IoAllocateMdl(space, 0x8100_0000, 16, true, false, irp)).code).toBe('MDL_NO_PRIMARY_MDL');
    const first = IoAllocateMdl(space, 0x8100_0000, 16, false, false, irp) as Mdl;
    const second = IoAllocateMdl(space, 0x8100_1000, 16, true, false, irp) as Mdl;
    const third = IoAllocateMdl(space, 0x8100_2000, 16, true, false, irp) as Mdl;
    expect(irp.MdlAddress).toBe(first);
    expect(first.Next).toBe(second);
    expect(second.Next).toBe(third);
    expect(third.Next).toBeNull();
  });
});

describe('MmBuildMdlForNonPagedPool', () => {
  it('fills the PFN array from the page table and marks the MDL as nonpaged pool', () => {
    const space = machine();
    const va = space.allocate(0x2345, { kind: 'fragmented', byteOffset: 0x100 })!;
    const mdl = builtMdl(space, va, 0x2345);
    const expected = [0, 1, 2].map((i) => space.translate(mdl.StartVa + i * PAGE_SIZE)! / PAGE_SIZE);
    expect(mdl.PfnArray).toEqual(expected);
    expect(mdl.MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL).toBe(MDL_SOURCE_IS_NONPAGED_POOL);
    expect(mdl.MappedSystemVa).toBe(va);
    // Byte i of the buffer lies at PfnArray[page] * PAGE_SIZE + offset.
    for (const i of [0, 0xeff, 0xf00, 0x2344]) {
      const at = mdl.ByteOffset + i;
      expect(mdl.PfnArray[Math.floor(at / PAGE_SIZE)]! * PAGE_SIZE + (at % PAGE_SIZE)).toBe(space.translate(va + i));
    }
    expect(MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority)).toBe(va);
  });

  it('reports a range that is not mapped instead of building garbage', () => {
    const space = machine();
    const va = space.allocate(PAGE_SIZE, { kind: 'contiguous' })!;
    const overrun = mdlOf(space, va, PAGE_SIZE + 1); // reaches the guard page
    const v = violation(MmBuildMdlForNonPagedPool(overrun));
    expect(v.code).toBe('MDL_RANGE_NOT_MAPPED');
    expect(v.bugCheck?.code).toBe(0x50);
    expect(overrun.MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL).toBe(0);
    expect(violation(MmBuildMdlForNonPagedPool(mdlOf(space, 0x1000, 10))).code).toBe('MDL_RANGE_NOT_MAPPED');
  });
});

describe('IoBuildPartialMdl', () => {
  const setup = () => {
    const space = machine();
    const length = 5 * PAGE_SIZE - 0x200;
    const va = space.allocate(length, { kind: 'fragmented', byteOffset: 0x100 })!;
    const source = builtMdl(space, va, length);
    const target = mdlOf(space, va, length); // large enough for any piece
    return { space, va, length, source, target };
  };

  it('describes a subrange with the source pages it covers', () => {
    const { va, source, target } = setup();
    expect(IoBuildPartialMdl(source, target, va + 0xf00, 0x1800)).toBeNull();
    expect(target.StartVa).toBe(PAGE_ALIGN(va + 0xf00));
    expect(target.ByteOffset).toBe(0);
    expect(target.ByteCount).toBe(0x1800);
    expect(MmGetMdlVirtualAddress(target)).toBe(va + 0xf00);
    expect(target.PfnArray).toEqual(source.PfnArray.slice(1, 3));
    expect(target.MdlFlags & (MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL)).toBe(MDL_PARTIAL | MDL_SOURCE_IS_NONPAGED_POOL);
    expect(target.MappedSystemVa).toBe(va + 0xf00);
    expect(MmGetSystemAddressForMdlSafe(target)).toBe(va + 0xf00);

    expect(IoBuildPartialMdl(source, target, va + 0x10, 0x20)).toBeNull();
    expect(target.ByteOffset).toBe(0x110);
    expect(target.PfnArray).toEqual(source.PfnArray.slice(0, 1));
  });

  it('takes Length 0 as "to the end of the source buffer"', () => {
    const { va, length, source, target } = setup();
    expect(IoBuildPartialMdl(source, target, va + 0x2000, 0)).toBeNull();
    expect(target.ByteCount).toBe(length - 0x2000);
    expect(target.ByteOffset).toBe(0x100);
    expect(target.PfnArray).toEqual(source.PfnArray.slice(2));
    expect(IoBuildPartialMdl(source, target, va, 0)).toBeNull();
    expect(target.ByteCount).toBe(length);
    expect(target.PfnArray).toEqual(source.PfnArray);
  });

  it('splits a buffer into page-sized transfers that cover it exactly', () => {
    const { va, length, source, target } = setup();
    const covered: number[] = [];
    for (let offset = 0; offset < length; ) {
      const piece = Math.min(PAGE_SIZE - BYTE_OFFSET(va + offset), length - offset);
      expect(IoBuildPartialMdl(source, target, va + offset, piece)).toBeNull();
      expect(target.PfnArray).toHaveLength(1);
      covered.push(target.PfnArray[0]!);
      offset += piece;
    }
    expect(covered).toEqual(source.PfnArray);
  });

  it('refuses a range outside the source and leaves the target alone', () => {
    const { va, length, source, target } = setup();
    expect(IoBuildPartialMdl(source, target, va + 0x100, 0x100)).toBeNull();
    const before = { ...target, PfnArray: [...target.PfnArray] };
    for (const [at, n] of [
      [va - 1, 0x10],
      [va + length, 0],
      [va + length - 0x10, 0x11],
      [va, length + 1],
      [va + 0x10, -5],
    ] as const) {
      const v = violation(IoBuildPartialMdl(source, target, at, n));
      expect(v.code).toBe('PARTIAL_MDL_OUTSIDE_SOURCE');
    }
    expect(target.ByteCount).toBe(before.ByteCount);
    expect(target.PfnArray).toEqual(before.PfnArray);
  });

  it('bug-checks TARGET_MDL_TOO_SMALL (0x40) when the target cannot hold the pages', () => {
    const { space, va, source } = setup();
    const small = mdlOf(space, va, 0x10); // room for one page
    const v = violation(IoBuildPartialMdl(source, small, va + PAGE_SIZE - 0x100 - 8, 16));
    expect(v.code).toBe('TARGET_MDL_TOO_SMALL');
    expect(v.bugCheck).toEqual({ code: 0x40, name: 'TARGET_MDL_TOO_SMALL' });
    expect(IoBuildPartialMdl(source, small, va + 0x20, 16)).toBeNull();
  });

  it('needs a source whose pages are built', () => {
    const { space, va, target } = setup();
    expect(violation(IoBuildPartialMdl(mdlOf(space, va, 100), target, va, 10)).code).toBe('MDL_SOURCE_NOT_LOCKED');
  });
});

describe('MmGetSystemAddressForMdlSafe and IoFreeMdl', () => {
  it('maps a partial MDL of a locked, unmapped source, and IoFreeMdl releases the mapping', () => {
    const space = machine();
    const va = space.allocate(3 * PAGE_SIZE, { kind: 'fragmented', byteOffset: 0x40 })!;
    // A source as MmProbeAndLockPages leaves it: pages locked, not mapped in system space.
    const source = mdlOf(space, va, 3 * PAGE_SIZE);
    source.PfnArray = [0, 1, 2, 3].map((i) => space.translate(source.StartVa + i * PAGE_SIZE)! / PAGE_SIZE);
    source.MdlFlags |= MDL_PAGES_LOCKED;
    const partial = mdlOf(space, va, 3 * PAGE_SIZE);
    expect(IoBuildPartialMdl(source, partial, va + PAGE_SIZE, PAGE_SIZE)).toBeNull();

    const mapped = MmGetSystemAddressForMdlSafe(partial, NormalPagePriority) as number;
    expect(mapped).not.toBe(va + PAGE_SIZE);
    expect(BYTE_OFFSET(mapped)).toBe(BYTE_OFFSET(va + PAGE_SIZE));
    expect(space.translate(mapped)).toBe(space.translate(va + PAGE_SIZE));
    expect(space.translate(mapped + PAGE_SIZE - 1)).toBe(space.translate(va + 2 * PAGE_SIZE - 1));
    expect(partial.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED)).toBe(MDL_MAPPED_TO_SYSTEM_VA | MDL_PARTIAL_HAS_BEEN_MAPPED);
    expect(MmGetSystemAddressForMdlSafe(partial)).toBe(mapped);

    expect(IoFreeMdl(partial)).toBeNull();
    expect(space.translate(mapped)).toBeNull();
    expect(space.translate(va + PAGE_SIZE)).not.toBeNull();
  });

  it('MmPrepareMdlForReuse releases the mapping of a partial MDL before it is rebuilt', () => {
    const space = machine();
    const va = space.allocate(2 * PAGE_SIZE, { kind: 'contiguous' })!;
    const source = mdlOf(space, va, 2 * PAGE_SIZE);
    source.PfnArray = [0, 1].map((i) => space.translate(va + i * PAGE_SIZE)! / PAGE_SIZE);
    source.MdlFlags |= MDL_PAGES_LOCKED;
    const partial = mdlOf(space, va, 2 * PAGE_SIZE);
    IoBuildPartialMdl(source, partial, va, PAGE_SIZE);
    const mapped = MmGetSystemAddressForMdlSafe(partial) as number;
    expect(MmPrepareMdlForReuse(partial)).toBeNull();
    expect(space.translate(mapped)).toBeNull();
    expect(partial.MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED).toBe(0);
  });

  it('reports an MDL that describes no pages, and any use after IoFreeMdl', () => {
    const space = machine();
    const va = space.allocate(100, { kind: 'contiguous' })!;
    const unbuilt = mdlOf(space, va, 100);
    expect(violation(MmGetSystemAddressForMdlSafe(unbuilt)).code).toBe('MDL_PAGES_NOT_LOCKED');

    const mdl = builtMdl(space, va, 100);
    expect(IoFreeMdl(mdl)).toBeNull();
    const twice = violation(IoFreeMdl(mdl));
    expect(twice.code).toBe('MDL_ALREADY_FREED');
    expect(twice.bugCheck?.code).toBe(0xc2);
    expect(violation(MmGetSystemAddressForMdlSafe(mdl)).code).toBe('MDL_ALREADY_FREED');
    expect(violation(MmBuildMdlForNonPagedPool(mdl)).code).toBe('MDL_ALREADY_FREED');
    expect(violation(IoBuildPartialMdl(mdl, unbuilt, va, 1)).code).toBe('MDL_ALREADY_FREED');
  });

  it('never throws on nonsense', () => {
    const space = machine();
    const va = space.allocate(100, { kind: 'contiguous' })!;
    const mdl = builtMdl(space, va, 100);
    for (const x of [NaN, -1, 2 ** 40, 0.5, Infinity]) {
      expect(() => IoAllocateMdl(space, x, 10)).not.toThrow();
      expect(() => IoAllocateMdl(space, va, x)).not.toThrow();
      expect(() => IoBuildPartialMdl(mdl, mdl, x, 1)).not.toThrow();
      expect(() => IoBuildPartialMdl(mdl, mdl, va, x)).not.toThrow();
    }
  });
});
