import { type AddressSpace } from './addressSpace';
import { PAGE_SHIFT, PAGE_SIZE } from './physicalMemory';

// Memory descriptor lists as the WDK defines them (reference/wdk/ddi/ns-wdm-_mdl.md,
// kernel/using-mdls.md) and the routines that make and read them: IoAllocateMdl,
// MmBuildMdlForNonPagedPool, IoBuildPartialMdl, IoFreeMdl, MmGetSystemAddressForMdlSafe and
// the MmGetMdl*/BYTE_OFFSET/PAGE_ALIGN/ADDRESS_AND_SIZE_TO_SPAN_PAGES macros, each as its
// nf-wdm-*.md page says. Sizes are those of 32-bit x86 (sizeof(MDL) = 28, PFN_NUMBER = 4).
// Where the pages are silent, the behaviour follows the ReactOS and WRK implementations.
//
// Misuse never throws. Where Windows returns NULL, these return null. Where Windows would
// bug-check, assert in a checked build, or go on with undefined results, they change
// nothing and return an MdlViolation, which names the rule and (when Windows has one) the
// bug check, for the verifier to report against the driver's source line.

// MdlFlags (wdm.h).
export const MDL_MAPPED_TO_SYSTEM_VA = 0x0001;
export const MDL_PAGES_LOCKED = 0x0002;
export const MDL_SOURCE_IS_NONPAGED_POOL = 0x0004;
export const MDL_ALLOCATED_FIXED_SIZE = 0x0008;
export const MDL_PARTIAL = 0x0010;
export const MDL_PARTIAL_HAS_BEEN_MAPPED = 0x0020;
export const MDL_IO_PAGE_READ = 0x0040;
export const MDL_WRITE_OPERATION = 0x0080;
export const MDL_IO_SPACE = 0x0800;
export const MDL_ALLOCATED_MUST_SUCCEED = 0x4000;

// MM_PAGE_PRIORITY (wdm.h), for MmGetSystemAddressForMdlSafe.
export const LowPagePriority = 0;
export const NormalPagePriority = 16;
export const HighPagePriority = 32;
export const MdlMappingNoWrite = 0x8000_0000;
export const MdlMappingNoExecute = 0x4000_0000;

/** sizeof(MDL) on x86: Next, Size, MdlFlags, Process, MappedSystemVa, StartVa, ByteCount, ByteOffset. */
export const SIZEOF_MDL = 28;
/** sizeof(PFN_NUMBER) on x86. */
export const SIZEOF_PFN_NUMBER = 4;
/** IoAllocateMdl serves MDLs of up to this many pages from a lookaside list (IOP_FIXED_SIZE_MDL_PFNS). */
export const IOP_FIXED_SIZE_MDL_PFNS = 23;
/** IoAllocateMdl's largest Length from Windows 7 on: 4 GB − PAGE_SIZE. */
export const MAXIMUM_MDL_BYTE_COUNT = 0x1_0000_0000 - PAGE_SIZE;
/** A PFN array entry that no routine has filled in yet (Windows leaves garbage there). */
export const PFN_NOT_BUILT = -1;

export interface BugCheckCode {
  readonly code: number;
  readonly name: string;
}

export type MdlViolationCode =
  /** IoAllocateMdl with Length 0: an assertion in Windows' checked build, nothing useful in the free build. */
  | 'MDL_ZERO_LENGTH'
  /** A virtual address that is not a 32-bit pointer. */
  | 'MDL_BAD_ADDRESS'
  /** IoAllocateMdl with SecondaryBuffer TRUE for an IRP that has no MDL to chain to (a NULL dereference). */
  | 'MDL_NO_PRIMARY_MDL'
  /** MmBuildMdlForNonPagedPool over pages that are not mapped: there is no nonpaged buffer to describe. */
  | 'MDL_RANGE_NOT_MAPPED'
  /** An MDL used or freed again after IoFreeMdl. */
  | 'MDL_ALREADY_FREED'
  /** IoBuildPartialMdl from a source whose pages were never locked or built. */
  | 'MDL_SOURCE_NOT_LOCKED'
  /** IoBuildPartialMdl for a range that is not a subrange of the source's buffer. */
  | 'PARTIAL_MDL_OUTSIDE_SOURCE'
  /** IoBuildPartialMdl into a target too small for the range: bug check 0x40. */
  | 'TARGET_MDL_TOO_SMALL'
  /** MmGetSystemAddressForMdlSafe on an MDL whose PFN array was never built. */
  | 'MDL_PAGES_NOT_LOCKED';

/** A use of an MDL routine that Windows does not answer with NULL or a status. */
export class MdlViolation {
  constructor(
    readonly code: MdlViolationCode,
    /** The WDK routine that was misused. */
    readonly routine: string,
    readonly message: string,
    /** The bug check Windows raises for it, where it raises one. */
    readonly bugCheck: BugCheckCode | null = null,
  ) {}
}

export function isMdlViolation(value: unknown): value is MdlViolation {
  return value instanceof MdlViolation;
}

const PAGE_FAULT_IN_NONPAGED_AREA: BugCheckCode = { code: 0x50, name: 'PAGE_FAULT_IN_NONPAGED_AREA' };
const TARGET_MDL_TOO_SMALL: BugCheckCode = { code: 0x40, name: 'TARGET_MDL_TOO_SMALL' };
const BAD_POOL_CALLER: BugCheckCode = { code: 0xc2, name: 'BAD_POOL_CALLER' };

/** What IoAllocateMdl links a new MDL into: an IRP's MdlAddress. */
export interface IrpMdlLink {
  MdlAddress: Mdl | null;
}

/** BYTE_OFFSET: the offset of a virtual address within its page. */
export function BYTE_OFFSET(Va: number): number {
  return Va & (PAGE_SIZE - 1);
}

/** PAGE_ALIGN: the address of the page that holds Va. */
export function PAGE_ALIGN(Va: number): number {
  return (Va & ~(PAGE_SIZE - 1)) >>> 0;
}

/**
 * ADDRESS_AND_SIZE_TO_SPAN_PAGES: pages touched by [Va, Va + Size), that is
 * (BYTE_OFFSET(Va) + Size + PAGE_SIZE − 1) >> PAGE_SHIFT. Size 0 at offset 0 spans none;
 * at a non-zero offset the macro answers 1, as the C does.
 */
export function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: number, Size: number): number {
  return Math.floor((BYTE_OFFSET(Va) + Size + PAGE_SIZE - 1) / PAGE_SIZE);
}

/** MmSizeOfMdl: bytes an MDL for this buffer needs, header and PFN array. */
export function MmSizeOfMdl(Base: number, Length: number): number {
  return SIZEOF_MDL + ADDRESS_AND_SIZE_TO_SPAN_PAGES(Base, Length) * SIZEOF_PFN_NUMBER;
}

/** An MDL: the WDK's fields under the WDK's names, followed by its PFN array. */
export class Mdl {
  Next: Mdl | null = null;
  /** Bytes of header plus PFN array (not truncated to a CSHORT as in C). */
  Size: number;
  MdlFlags = 0;
  /** Always NULL: every buffer here is in system space. */
  readonly Process = null;
  MappedSystemVa = 0;
  /** Page-aligned address of the buffer's first page. */
  StartVa: number;
  ByteCount: number;
  ByteOffset: number;
  /** The PFN_NUMBER array that follows the MDL in memory: the frame of each page. */
  PfnArray: number[];
  /** Not a WDK field: the address space whose page table this MDL describes. */
  readonly space: AddressSpace;
  /** Not a WDK field: set by IoFreeMdl, so that a later use is a finding, not silence. */
  freed = false;

  /** As MmInitializeMdl: the header is filled, the PFN array is left unbuilt. */
  constructor(space: AddressSpace, VirtualAddress: number, Length: number) {
    this.space = space;
    this.Size = MmSizeOfMdl(VirtualAddress, Length);
    this.StartVa = PAGE_ALIGN(VirtualAddress);
    this.ByteOffset = BYTE_OFFSET(VirtualAddress);
    this.ByteCount = Length;
    this.PfnArray = new Array<number>(ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, Length)).fill(PFN_NOT_BUILT);
  }
}

/** MmGetMdlVirtualAddress: StartVa + ByteOffset. */
export function MmGetMdlVirtualAddress(Mdl: Mdl): number {
  return Mdl.StartVa + Mdl.ByteOffset;
}

export function MmGetMdlByteCount(Mdl: Mdl): number {
  return Mdl.ByteCount;
}

export function MmGetMdlByteOffset(Mdl: Mdl): number {
  return Mdl.ByteOffset;
}

/** MmGetMdlBaseVa: StartVa, the page-aligned base. */
export function MmGetMdlBaseVa(Mdl: Mdl): number {
  return Mdl.StartVa;
}

export function MmGetMdlPfnArray(Mdl: Mdl): number[] {
  return Mdl.PfnArray;
}

const isPointer = (va: number) => Number.isInteger(va) && va >= 0 && va <= 0xffff_ffff;

function freedViolation(routine: string, mdl: Mdl): MdlViolation | null {
  if (!mdl.freed) return null;
  return new MdlViolation('MDL_ALREADY_FREED', routine, `${routine} was given an MDL that IoFreeMdl already freed.`);
}

/**
 * IoAllocateMdl: an MDL for [VirtualAddress, VirtualAddress + Length) with its header
 * filled and its PFN array unbuilt; null when Length is over the documented maximum.
 * ChargeQuota (_ChargeQuota here, for lint) is reserved and ignored, as Windows does;
 * SecondaryBuffer matters only with an Irp.
 */
export function IoAllocateMdl(
  space: AddressSpace,
  VirtualAddress: number | null,
  Length: number,
  SecondaryBuffer = false,
  _ChargeQuota = false,
  Irp: IrpMdlLink | null = null,
): Mdl | null | MdlViolation {
  const va = VirtualAddress ?? 0;
  if (!isPointer(va)) return new MdlViolation('MDL_BAD_ADDRESS', 'IoAllocateMdl', `VirtualAddress ${va} is not a 32-bit address.`);
  // A ULONG cannot be negative or fractional: such a value wraps to something over the maximum.
  if (!Number.isInteger(Length) || Length < 0 || Length > MAXIMUM_MDL_BYTE_COUNT) return null;
  if (Length === 0) return new MdlViolation('MDL_ZERO_LENGTH', 'IoAllocateMdl', 'IoAllocateMdl needs a Length greater than 0.');
  if (Irp && SecondaryBuffer && !Irp.MdlAddress) {
    return new MdlViolation('MDL_NO_PRIMARY_MDL', 'IoAllocateMdl', 'SecondaryBuffer is TRUE but the IRP has no MDL to chain it to.');
  }

  const mdl = new Mdl(space, va, Length);
  if (mdl.PfnArray.length <= IOP_FIXED_SIZE_MDL_PFNS) mdl.MdlFlags |= MDL_ALLOCATED_FIXED_SIZE;
  if (Irp) {
    if (SecondaryBuffer) {
      let last = Irp.MdlAddress!;
      while (last.Next) last = last.Next;
      last.Next = mdl;
    } else {
      Irp.MdlAddress = mdl;
    }
  }
  return mdl;
}

/**
 * MmBuildMdlForNonPagedPool: fills the PFN array from the page table, points
 * MappedSystemVa at the buffer (it is already in system space) and sets
 * MDL_SOURCE_IS_NONPAGED_POOL. Returns null (VOID) on success.
 */
export function MmBuildMdlForNonPagedPool(MemoryDescriptorList: Mdl): MdlViolation | null {
  const mdl = MemoryDescriptorList;
  const freed = freedViolation('MmBuildMdlForNonPagedPool', mdl);
  if (freed) return freed;
  const pageCount = ADDRESS_AND_SIZE_TO_SPAN_PAGES(mdl.ByteOffset, mdl.ByteCount);
  const pfns: number[] = [];
  for (let i = 0; i < pageCount; i++) {
    const pfn = mdl.space.pfnOf(mdl.StartVa + i * PAGE_SIZE);
    if (pfn === null) {
      // Windows reads the PTE of a page that is not there: a fault, or a garbage PFN.
      const va = (mdl.StartVa + i * PAGE_SIZE).toString(16);
      return new MdlViolation(
        'MDL_RANGE_NOT_MAPPED',
        'MmBuildMdlForNonPagedPool',
        `The MDL describes page 0x${va}, which is not mapped: it is not a nonpaged buffer.`,
        PAGE_FAULT_IN_NONPAGED_AREA,
      );
    }
    pfns.push(pfn);
  }
  mdl.PfnArray = pfns;
  mdl.MappedSystemVa = mdl.StartVa + mdl.ByteOffset;
  mdl.MdlFlags |= MDL_SOURCE_IS_NONPAGED_POOL;
  return null;
}

/**
 * IoBuildPartialMdl: makes TargetMdl describe [VirtualAddress, VirtualAddress + Length)
 * of SourceMdl's buffer. Length 0 means "to the end of the source's buffer". The target
 * shares the source's system mapping, if any. Returns null (VOID) on success.
 */
export function IoBuildPartialMdl(SourceMdl: Mdl, TargetMdl: Mdl, VirtualAddress: number, Length: number): MdlViolation | null {
  const routine = 'IoBuildPartialMdl';
  const freed = freedViolation(routine, SourceMdl) ?? freedViolation(routine, TargetMdl);
  if (freed) return freed;
  if ((SourceMdl.MdlFlags & (MDL_PAGES_LOCKED | MDL_SOURCE_IS_NONPAGED_POOL | MDL_PARTIAL)) === 0) {
    return new MdlViolation('MDL_SOURCE_NOT_LOCKED', routine, "The source MDL's pages were never locked or built (MmBuildMdlForNonPagedPool).");
  }
  const sourceVa = MmGetMdlVirtualAddress(SourceMdl);
  const offset = VirtualAddress - sourceVa;
  const length = Length === 0 ? SourceMdl.ByteCount - offset : Length;
  if (!isPointer(VirtualAddress) || !Number.isInteger(Length) || offset < 0 || offset >= SourceMdl.ByteCount || length < 0 || offset + length > SourceMdl.ByteCount) {
    const end = (sourceVa + SourceMdl.ByteCount).toString(16);
    return new MdlViolation(
      'PARTIAL_MDL_OUTSIDE_SOURCE',
      routine,
      `0x${VirtualAddress.toString(16)} + 0x${Length.toString(16)} is not inside the source buffer 0x${sourceVa.toString(16)}–0x${end}.`,
    );
  }
  const pageCount = ADDRESS_AND_SIZE_TO_SPAN_PAGES(VirtualAddress, length);
  const capacity = Math.floor((TargetMdl.Size - SIZEOF_MDL) / SIZEOF_PFN_NUMBER);
  if (capacity < pageCount) {
    return new MdlViolation(
      'TARGET_MDL_TOO_SMALL',
      routine,
      `The target MDL has room for ${capacity} page(s) but the range spans ${pageCount}.`,
      TARGET_MDL_TOO_SMALL,
    );
  }

  const firstPage = (PAGE_ALIGN(VirtualAddress) - SourceMdl.StartVa) >>> PAGE_SHIFT;
  TargetMdl.StartVa = PAGE_ALIGN(VirtualAddress);
  TargetMdl.ByteOffset = BYTE_OFFSET(VirtualAddress);
  TargetMdl.ByteCount = length;
  // A partial MDL does not own the lock or a mapping of its own; a mapping it had before is
  // leaked unless MmPrepareMdlForReuse released it, as in Windows.
  const inherited = MDL_IO_PAGE_READ | MDL_SOURCE_IS_NONPAGED_POOL | MDL_MAPPED_TO_SYSTEM_VA | MDL_IO_SPACE;
  TargetMdl.MdlFlags =
    (TargetMdl.MdlFlags & (MDL_ALLOCATED_FIXED_SIZE | MDL_ALLOCATED_MUST_SUCCEED)) | (SourceMdl.MdlFlags & inherited) | MDL_PARTIAL;
  TargetMdl.MappedSystemVa = SourceMdl.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) ? SourceMdl.MappedSystemVa + offset : 0;
  TargetMdl.PfnArray = SourceMdl.PfnArray.slice(firstPage, firstPage + pageCount);
  return null;
}

/**
 * MmGetSystemAddressForMdlSafe: the buffer's system address. An MDL already mapped (or
 * built from nonpaged pool) answers MappedSystemVa; otherwise its pages are mapped at a
 * new system address, or null when no address space is left. Priority changes nothing here.
 */
export function MmGetSystemAddressForMdlSafe(Mdl: Mdl, _Priority: number = NormalPagePriority): number | null | MdlViolation {
  const freed = freedViolation('MmGetSystemAddressForMdlSafe', Mdl);
  if (freed) return freed;
  if (Mdl.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL)) return Mdl.MappedSystemVa;
  if ((Mdl.MdlFlags & (MDL_PAGES_LOCKED | MDL_PARTIAL)) === 0 || Mdl.PfnArray.includes(PFN_NOT_BUILT)) {
    return new MdlViolation(
      'MDL_PAGES_NOT_LOCKED',
      'MmGetSystemAddressForMdlSafe',
      'The MDL does not describe locked pages: build it first (MmBuildMdlForNonPagedPool, IoBuildPartialMdl).',
    );
  }
  const base = Mdl.space.mapFrames(Mdl.PfnArray);
  if (base === null) return null;
  Mdl.MappedSystemVa = base + Mdl.ByteOffset;
  Mdl.MdlFlags |= MDL_MAPPED_TO_SYSTEM_VA;
  if (Mdl.MdlFlags & MDL_PARTIAL) Mdl.MdlFlags |= MDL_PARTIAL_HAS_BEEN_MAPPED;
  return Mdl.MappedSystemVa;
}

/** MmPrepareMdlForReuse: releases the system mapping MmGetSystemAddressForMdlSafe made for a partial MDL. */
export function MmPrepareMdlForReuse(Mdl: Mdl): MdlViolation | null {
  const freed = freedViolation('MmPrepareMdlForReuse', Mdl);
  if (freed) return freed;
  if (Mdl.MdlFlags & MDL_PARTIAL_HAS_BEEN_MAPPED) {
    Mdl.space.unmap(Mdl.MappedSystemVa - Mdl.ByteOffset);
    Mdl.MdlFlags &= ~(MDL_PARTIAL_HAS_BEEN_MAPPED | MDL_MAPPED_TO_SYSTEM_VA);
    Mdl.MappedSystemVa = 0;
  }
  return null;
}

/**
 * IoFreeMdl: releases the MDL and, for a partial MDL, the system mapping made for it.
 * MDLs chained on Next are not freed. Returns null (VOID) on success.
 */
export function IoFreeMdl(Mdl: Mdl): MdlViolation | null {
  if (Mdl.freed) {
    // Pool-allocated MDLs come back to ExFreePool twice: BAD_POOL_CALLER, parameter 1 = 7.
    return new MdlViolation('MDL_ALREADY_FREED', 'IoFreeMdl', 'IoFreeMdl was called twice for the same MDL.', BAD_POOL_CALLER);
  }
  MmPrepareMdlForReuse(Mdl);
  Mdl.freed = true;
  return null;
}
