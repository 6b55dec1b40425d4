import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../shared/runResult';
import { Scenario } from '../../shared/scenario';
import { runScenario } from '../run/session';
import { RULES, type RuleId } from './rules';

// Driver Verifier's DMA checks (the rules of rules.ts with an `e6` entry), one small driver
// each: the driver that breaks the rule gets exactly that finding at the line of the
// offending call in the teaching mode, and bug check 0xE6 with the rule's parameters at that
// line in the default bug-check mode; the same driver with the mistake fixed gets no finding
// at all. The buffer checks are run through GetScatterGatherList as well as MapTransfer.
// Then the three reference drivers of labs/playground/ must run clean in the bug-check mode.

// ---- The drivers -----------------------------------------------------------------------------

/** Where a case's offending call is: the line that carries this comment. */
const HERE = '// <- here';

/**
 * A PnP driver whose IRP_MN_START_DEVICE runs `snippet` at PASSIVE_LEVEL, with in scope:
 * `a` and `ops` (the adapter for the device's channel, 3 map registers, and its
 * DMA_OPERATIONS), `va` and `mdl` (8 KiB of nonpaged pool and its built MDL), `mr`
 * (NumberOfMapRegisters), `old` (for KeRaiseIrql), `len` (MapTransfer's Length), `base`
 * (MapRegisterBase, set by `keep`), `keep` (an AdapterControl that keeps the channel, as
 * system DMA does), `keepRegisters` (one that returns DeallocateObjectKeepRegisters) and
 * `keepList` (an AdapterListControl that saves the list in `list`). `prelude` runs just
 * before IoGetDmaAdapter. The snippet releases the adapter itself; START frees the MDL and
 * the pool.
 */
const driver = (snippet: string, prelude = '') => `
interface Ext { Pdo: DEVICE_OBJECT; Lower: DEVICE_OBJECT | null }
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_UNKNOWN, 0, false, fdo);
  const ext: Ext = { Pdo, Lower: IoAttachDeviceToDeviceStack(fdo.value!, Pdo) };
  fdo.value!.DeviceExtension = ext;
  fdo.value!.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as Ext;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  if (stack.MinorFunction === IRP_MN_START_DEVICE) StartDevice(DeviceObject, ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated!);
  if (stack.MinorFunction === IRP_MN_REMOVE_DEVICE) {
    if (ext.Lower) IoDetachDevice(ext.Lower);
    IoDeleteDevice(DeviceObject);
  }
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
function StartDevice(DeviceObject: DEVICE_OBJECT, ext: Ext, resources: CM_RESOURCE_LIST): void {
  const dma = resources.List[0]!.PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeDma)!;
  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION, Master: false, ScatterGather: false, DemandMode: false, AutoInitialize: false,
    Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0,
    DmaChannel: dma.u.Dma.Channel, InterfaceType: Isa, DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 8192, DmaPort: 0,
  };
  const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'Test')!;
  const mdl = IoAllocateMdl(va, 8192, false, false, null)!;
  MmBuildMdlForNonPagedPool(mdl);
  const mr = ref(0);
  const old = ref(0);
  const len = ref(0);
  let base: MAP_REGISTER_BASE = 0;
  let list = null as SCATTER_GATHER_LIST | null;
  const keep: DRIVER_CONTROL = (_d, _irp, MapRegisterBase) => {
    base = MapRegisterBase;
    return KeepObject;
  };
  const keepRegisters: DRIVER_CONTROL = (_d, _irp, MapRegisterBase) => {
    base = MapRegisterBase;
    return DeallocateObjectKeepRegisters;
  };
  const keepList: DRIVER_LIST_CONTROL = (_d, _irp, ScatterGather) => {
    list = ScatterGather;
  };
${prelude}
  const a = IoGetDmaAdapter(ext.Pdo, description, mr); // get the adapter
  if (a !== null) {
    const ops = a.DmaOperations;
${snippet}
  }
  IoFreeMdl(mdl);
  ExFreePool(va);
}
`;

/** Indents a snippet into the START routine (it is written flush left below). */
const body = (text: string, indent = '    ') =>
  text
    .trim()
    .split('\n')
    .map((line) => indent + line)
    .join('\n');

interface Case {
  rule: RuleId;
  /** The driver's START code from IoGetDmaAdapter on; the offending call is marked HERE. */
  broken: string;
  /** Runs before IoGetDmaAdapter. */
  prelude?: string;
  /**
   * The fix, line by line: each [line, replacement] replaces the one line of the driver that
   * reads `line` (trimmed) with the replacement lines ([] deletes it).
   */
  fix: [line: string, replacement: string[]][];
  /** The marker of the offending line, when it is not HERE. */
  at?: string;
  /** Every finding of the teaching run, in order, when the rule's is not the only one. */
  findings?: string[];
  /** Why the other findings are there. */
  why?: string;
  /** Bug check 0xE6's parameters to check beyond parameter 1 (and the rule's parameter 2). */
  parameters?: number[];
}

const CASES: Case[] = [
  {
    rule: 'DMA_FLUSH_TOO_MANY_BYTES',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 512;
ops.MapTransfer(a, mdl, base, va, len, true);
ops.FlushAdapterBuffers(a, mdl, base, va, 1024, true); // <- here: MapTransfer mapped 512
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FlushAdapterBuffers(a, mdl, base, va, 1024, true); // <- here: MapTransfer mapped 512', ['ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);']]],
  },
  {
    rule: 'DMA_COMMON_BUFFER_FREED_TWICE',
    broken: `
const logical = ref(0);
const common = ops.AllocateCommonBuffer(a, 4096, logical, false)!;
ops.FreeCommonBuffer(a, 4096, logical.value, common, false);
ops.FreeCommonBuffer(a, 4096, logical.value, common, false); // <- here: freed already
ops.PutDmaAdapter(a);`,
    fix: [['ops.FreeCommonBuffer(a, 4096, logical.value, common, false); // <- here: freed already', []]],
    parameters: [0x03, 1],
  },
  {
    rule: 'DMA_CHANNEL_FREED_TWICE',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null);
ops.FreeAdapterChannel(a);
ops.FreeAdapterChannel(a); // <- here: the channel is free already
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FreeAdapterChannel(a); // <- here: the channel is free already', []]],
    parameters: [0x04, 1],
  },
  {
    rule: 'DMA_MAP_REGISTERS_FREED_TWICE',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
ops.FreeAdapterChannel(a);
ops.FreeMapRegisters(a, base, 2); // <- here: FreeAdapterChannel freed them with the channel
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FreeMapRegisters(a, base, 2); // <- here: FreeAdapterChannel freed them with the channel', []]],
  },
  {
    rule: 'DMA_SG_LIST_FREED_TWICE',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.GetScatterGatherList(a, DeviceObject, mdl, va, 4096, keepList, null, true);
ops.PutScatterGatherList(a, list!, true);
ops.PutScatterGatherList(a, list!, true); // <- here: given back already
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.PutScatterGatherList(a, list!, true); // <- here: given back already', []]],
  },
  {
    rule: 'DMA_PUT_ADAPTER_WITH_COMMON_BUFFERS',
    broken: `
const logical = ref(0);
const common = ops.AllocateCommonBuffer(a, 4096, logical, false)!;
RtlZeroMemory(common, 4096);
ops.PutDmaAdapter(a); // <- here: the common buffer was never freed`,
    fix: [['ops.PutDmaAdapter(a); // <- here: the common buffer was never freed', ['ops.FreeCommonBuffer(a, 4096, logical.value, common, false);', 'ops.PutDmaAdapter(a);']]],
    findings: ['DMA_PUT_ADAPTER_WITH_COMMON_BUFFERS', 'RESOURCES_LEAKED'],
    why: 'the common buffer is still allocated when the driver is unloaded',
  },
  {
    rule: 'DMA_PUT_ADAPTER_WITH_CHANNEL',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null);
ops.PutDmaAdapter(a); // <- here: the channel is still allocated
KeLowerIrql(old.value);`,
    fix: [['ops.PutDmaAdapter(a); // <- here: the channel is still allocated', ['ops.FreeAdapterChannel(a);', 'ops.PutDmaAdapter(a);']]],
    findings: ['DMA_PUT_ADAPTER_WITH_CHANNEL', 'RESOURCES_LEAKED'],
    why: 'the channel is still allocated when the driver is unloaded',
  },
  {
    // The HAL leaves map registers without the channel only after AdapterControl returns
    // DeallocateObjectKeepRegisters, which system DMA must not do; so the fix is the system
    // DMA way: keep the channel, and free it and its map registers with FreeAdapterChannel.
    rule: 'DMA_PUT_ADAPTER_WITH_MAP_REGISTERS',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 1, keepRegisters, null);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a); // <- here: the map registers were never freed`,
    fix: [
      ['ops.AllocateAdapterChannel(a, DeviceObject, 1, keepRegisters, null);', ['ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null);', 'ops.FreeAdapterChannel(a);']],
      ['ops.PutDmaAdapter(a); // <- here: the map registers were never freed', ['ops.PutDmaAdapter(a);']],
    ],
    findings: ['ADAPTER_CONTROL_NOT_KEEP_OBJECT', 'DMA_PUT_ADAPTER_WITH_MAP_REGISTERS', 'RESOURCES_LEAKED'],
    why: 'AdapterControl returned DeallocateObjectKeepRegisters, and the map registers are still allocated when the driver is unloaded',
  },
  {
    rule: 'DMA_PUT_ADAPTER_WITH_SG_LISTS',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.GetScatterGatherList(a, DeviceObject, mdl, va, 4096, keepList, null, true);
ops.PutDmaAdapter(a); // <- here: the list was never given back
KeLowerIrql(old.value);`,
    fix: [['ops.PutDmaAdapter(a); // <- here: the list was never given back', ['ops.PutScatterGatherList(a, list!, true);', 'ops.PutDmaAdapter(a);']]],
    findings: ['DMA_PUT_ADAPTER_WITH_SG_LISTS', 'RESOURCES_LEAKED'],
    why: 'the list (and the channel it holds) is still out when the driver is unloaded',
  },
  {
    rule: 'DMA_TWO_CHANNELS',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null);
ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null); // <- here: the adapter holds its channel
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null); // <- here: the adapter holds its channel', ['ops.FreeAdapterChannel(a);', 'ops.AllocateAdapterChannel(a, DeviceObject, 1, keep, null);']]],
    parameters: [0x0b, 2],
  },
  {
    rule: 'DMA_TOO_MANY_MAP_REGISTERS',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
const status = ops.AllocateAdapterChannel(a, DeviceObject, mr.value + 1, keep, null); // <- here: IoGetDmaAdapter granted mr.value
if (NT_SUCCESS(status)) ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['const status = ops.AllocateAdapterChannel(a, DeviceObject, mr.value + 1, keep, null); // <- here: IoGetDmaAdapter granted mr.value', ['const status = ops.AllocateAdapterChannel(a, DeviceObject, mr.value, keep, null);']]],
    // 0x0C: 2 = the map registers asked for, 3 = the most IoGetDmaAdapter granted.
    parameters: [0x0c, 4, 3],
  },
  {
    rule: 'DMA_NOT_FLUSHED',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 512;
ops.MapTransfer(a, mdl, base, va, len, true);
const first = len.value;
len.value = 512;
ops.MapTransfer(a, mdl, base, va + first, len, true); // <- here: the first transfer was not flushed
ops.FlushAdapterBuffers(a, mdl, base, va + first, len.value, true);
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.MapTransfer(a, mdl, base, va + first, len, true); // <- here: the first transfer was not flushed', ['ops.FlushAdapterBuffers(a, mdl, base, va, first, true);', 'ops.MapTransfer(a, mdl, base, va + first, len, true);']]],
  },
  {
    rule: 'DMA_BUFFER_NOT_LOCKED',
    broken: `
const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 4096;
ops.MapTransfer(a, unlocked, base, va, len, true); // <- here: the MDL's pages were never built
ops.FlushAdapterBuffers(a, unlocked, base, va, len.value, true);
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
IoFreeMdl(unlocked);
ops.PutDmaAdapter(a);`,
    fix: [['const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;', ['const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;', 'MmBuildMdlForNonPagedPool(unlocked);']]],
    findings: ['DMA_BUFFER_NOT_LOCKED', 'DMA_FLUSH_NOT_MAPPED'],
    why: 'MapTransfer refused the MDL, so the flush that follows finds nothing mapped',
  },
  {
    rule: 'DMA_FREE_WHILE_MAPPED',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 4096;
ops.MapTransfer(a, mdl, base, va, len, true);
ops.FreeAdapterChannel(a); // <- here: the transfer was never flushed
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FreeAdapterChannel(a); // <- here: the transfer was never flushed', ['ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);', 'ops.FreeAdapterChannel(a);']]],
    parameters: [0x10, 1],
  },
  {
    rule: 'DMA_WRONG_IRQL',
    broken: `
const logical = ref(0);
KeRaiseIrql(DISPATCH_LEVEL, old);
const common = ops.AllocateCommonBuffer(a, 4096, logical, false); // <- here: PASSIVE_LEVEL only
KeLowerIrql(old.value);
if (common !== null) ops.FreeCommonBuffer(a, 4096, logical.value, common, false);
ops.PutDmaAdapter(a);`,
    fix: [
      ['KeRaiseIrql(DISPATCH_LEVEL, old);', []],
      ['KeLowerIrql(old.value);', []],
    ],
    // 0x13: 2 = 0x2 (the IRQL is higher than expected), 3 = the highest allowed, 4 = the current one.
    parameters: [0x13, 2, 0, 2],
  },
  {
    rule: 'DMA_FLUSH_NOT_MAPPED',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 4096;
ops.MapTransfer(a, mdl, base, va, len, true);
ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);
ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true); // <- here: flushed already
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true); // <- here: flushed already', []]],
  },
  {
    rule: 'DMA_ADAPTER_ALREADY_PUT',
    broken: `
ops.PutDmaAdapter(a);
ops.PutDmaAdapter(a); // <- here: released already`,
    fix: [['ops.PutDmaAdapter(a); // <- here: released already', []]],
  },
  {
    rule: 'DMA_NULL_ADAPTER',
    broken: `
const saved: DMA_ADAPTER | null = null;
DbgPrint('alignment %d\\n', ops.GetDmaAlignment(saved!)); // <- here: the adapter was never saved
ops.PutDmaAdapter(a);`,
    fix: [['const saved: DMA_ADAPTER | null = null;', ['const saved: DMA_ADAPTER | null = a;']]],
  },
  {
    rule: 'DMA_ADDRESS_NOT_IN_MDL',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
const currentVa = 512;
len.value = 512;
ops.MapTransfer(a, mdl, base, currentVa, len, true); // <- here: an offset, not an address in the MDL's buffer
ops.FlushAdapterBuffers(a, mdl, base, currentVa, len.value, true);
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['const currentVa = 512;', ['const currentVa = MmGetMdlVirtualAddress(mdl) + 512;']]],
    findings: ['DMA_ADDRESS_NOT_IN_MDL', 'DMA_FLUSH_NOT_MAPPED'],
    why: 'MapTransfer refused the address, so the flush that follows finds nothing mapped',
    parameters: [0x1b, 512],
  },
  {
    rule: 'DMA_ALREADY_MAPPED',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 4096;
ops.MapTransfer(a, mdl, base, va, len, true);
ops.MapTransfer(a, mdl, base, va, len, true); // <- here: a retry before the flush
ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.MapTransfer(a, mdl, base, va, len, true); // <- here: a retry before the flush', ['ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);', 'ops.MapTransfer(a, mdl, base, va, len, true);']]],
  },
  {
    rule: 'DMA_LENGTH_BEYOND_MDL',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 8192;
ops.MapTransfer(a, mdl, base, va + 4096, len, true); // <- here: 8 KiB from the middle of an 8 KiB buffer
ops.FlushAdapterBuffers(a, mdl, base, va + 4096, len.value, true);
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['len.value = 8192;', ['len.value = 4096;']]],
    findings: ['DMA_LENGTH_BEYOND_MDL', 'DMA_FLUSH_NOT_MAPPED'],
    why: 'MapTransfer refused the length, so the flush that follows finds nothing mapped',
  },
  {
    rule: 'DMA_FLUSH_WRONG_MAP_REGISTERS',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
len.value = 4096;
ops.MapTransfer(a, mdl, base, va, len, true);
ops.FlushAdapterBuffers(a, mdl, 0, va, len.value, true); // <- here: not the MapRegisterBase of the mapping
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['ops.FlushAdapterBuffers(a, mdl, 0, va, len.value, true); // <- here: not the MapRegisterBase of the mapping', ['ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);']]],
    findings: ['DMA_FLUSH_WRONG_MAP_REGISTERS', 'DMA_FREE_WHILE_MAPPED'],
    why: 'FlushAdapterBuffers refused the wrong MapRegisterBase, so the transfer is still mapped when the channel is freed',
  },
  {
    rule: 'DMA_ZERO_LENGTH',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keep, null);
const remaining = 0;
if (remaining >= 0) {
  len.value = remaining;
  ops.MapTransfer(a, mdl, base, va, len, true); // <- here: nothing left to transfer
  ops.FlushAdapterBuffers(a, mdl, base, va, len.value, true);
}
ops.FreeAdapterChannel(a);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['if (remaining >= 0) {', ['if (remaining > 0) {']]],
    findings: ['DMA_ZERO_LENGTH', 'DMA_FLUSH_NOT_MAPPED'],
    why: 'MapTransfer refused the zero length, so the flush that follows finds nothing mapped',
  },
  {
    rule: 'DMA_UNKNOWN_DESCRIPTION_VERSION',
    prelude: '  description.Version = 4; // there is no DEVICE_DESCRIPTION_VERSION4',
    broken: `
ops.PutDmaAdapter(a);`,
    at: '// get the adapter',
    fix: [['description.Version = 4; // there is no DEVICE_DESCRIPTION_VERSION4', ['description.Version = DEVICE_DESCRIPTION_VERSION2;']]],
  },
];

/**
 * GetScatterGatherList takes the same (Mdl, CurrentVa, Length) as MapTransfer, and Driver
 * Verifier checks it the same way.
 */
const SG_CASES: Case[] = [
  {
    rule: 'DMA_ZERO_LENGTH',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
const remaining = 0;
if (remaining >= 0) {
  ops.GetScatterGatherList(a, DeviceObject, mdl, va, remaining, keepList, null, true); // <- here: nothing left to transfer
  if (list !== null) ops.PutScatterGatherList(a, list, true);
}
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['if (remaining >= 0) {', ['if (remaining > 0) {']]],
  },
  {
    rule: 'DMA_ADDRESS_NOT_IN_MDL',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
const currentVa = 512;
ops.GetScatterGatherList(a, DeviceObject, mdl, currentVa, 512, keepList, null, true); // <- here: an offset, not an address in the MDL's buffer
if (list !== null) ops.PutScatterGatherList(a, list, true);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [['const currentVa = 512;', ['const currentVa = MmGetMdlVirtualAddress(mdl) + 512;']]],
    parameters: [0x1b, 512],
  },
  {
    rule: 'DMA_LENGTH_BEYOND_MDL',
    broken: `
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.GetScatterGatherList(a, DeviceObject, mdl, va + 4096, 8192, keepList, null, true); // <- here: 8 KiB from the middle of an 8 KiB buffer
if (list !== null) ops.PutScatterGatherList(a, list, true);
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`,
    fix: [
      [
        'ops.GetScatterGatherList(a, DeviceObject, mdl, va + 4096, 8192, keepList, null, true); // <- here: 8 KiB from the middle of an 8 KiB buffer',
        ['ops.GetScatterGatherList(a, DeviceObject, mdl, va + 4096, 4096, keepList, null, true);'],
      ],
    ],
  },
  {
    rule: 'DMA_BUFFER_NOT_LOCKED',
    broken: `
const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.GetScatterGatherList(a, DeviceObject, unlocked, va, 4096, keepList, null, true); // <- here: the MDL's pages were never built
if (list !== null) ops.PutScatterGatherList(a, list, true);
KeLowerIrql(old.value);
IoFreeMdl(unlocked);
ops.PutDmaAdapter(a);`,
    fix: [['const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;', ['const unlocked = IoAllocateMdl(va, 4096, false, false, null)!;', 'MmBuildMdlForNonPagedPool(unlocked);']]],
  },
];

// ---- Running them -------------------------------------------------------------------------

const scenario = (verifier: 'bugcheck' | 'teaching') => Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }], verifier });
const TEACHING = scenario('teaching');
const BUGCHECK = scenario('bugcheck');

async function run(source: string, s: Scenario, file = 'driver.ts'): Promise<RunResult> {
  const session = await runScenario({ scenario: s, source, file, seed: 1 });
  session.sandbox.dispose();
  return session.result;
}

/** The 1-based line of the one line of `source` that contains `marker`. */
function lineOf(source: string, marker: string): number {
  const lines = source.split('\n');
  const found = lines.flatMap((text, i) => (text.includes(marker) ? [i + 1] : []));
  expect(found, `exactly one line holds ${marker}`).toHaveLength(1);
  return found[0]!;
}

/** Replaces the one line that reads `line` (trimmed) with `replacement`, at its indentation. */
function replaceLine(source: string, [line, replacement]: [string, string[]]): string {
  const lines = source.split('\n');
  const at = lines.flatMap((text, i) => (text.trim() === line ? [i] : []));
  expect(at, `exactly one line of the driver reads ${line}`).toHaveLength(1);
  const indent = /^\s*/.exec(lines[at[0]!]!)![0];
  lines.splice(at[0]!, 1, ...replacement.map((text) => indent + text));
  return lines.join('\n');
}

const summary = (r: RunResult) => r.violations.map((v) => `${v.rule} (line ${v.line}): ${v.message}`);

/** The three runs of a case: broken in teaching mode, broken in bug-check mode, fixed. */
function describeCase(c: Case): void {
  const broken = driver(body(c.broken), c.prelude ?? '');
  const fixed = c.fix.reduce(replaceLine, broken);
  const line = lineOf(broken, c.at ?? HERE);
  const rule = RULES[c.rule] as { advice: string; e6: readonly number[] };

  describe(c.rule, () => {
    it(`is reported at the offending line in teaching mode${c.why ? ` (with what follows: ${c.why})` : ''}`, async () => {
      const r = await run(broken, TEACHING);
      expect(r.bugcheck).toBeNull();
      expect(r.violations.map((v) => v.rule), summary(r).join('\n')).toEqual(c.findings ?? [c.rule]);
      const finding = r.violations.find((v) => v.rule === c.rule)!;
      expect(finding.line).toBe(line);
      expect(finding.message.endsWith(rule.advice)).toBe(true);
    });

    it(`stops the run with bug check 0xE6, parameter 1 = 0x${rule.e6[0]!.toString(16)}, at that line`, async () => {
      const r = await run(broken, BUGCHECK);
      expect(r.bugcheck, summary(r).join('\n')).not.toBeNull();
      expect(r.bugcheck).toMatchObject({ code: 0xe6, name: 'DRIVER_VERIFIER_DMA_VIOLATION', line });
      expect(r.bugcheck!.parameters[0]).toBe(rule.e6[0]);
      if (rule.e6[1] !== undefined) expect(r.bugcheck!.parameters[1]).toBe(rule.e6[1]);
      if (c.parameters) expect(r.bugcheck!.parameters.slice(0, c.parameters.length)).toEqual(c.parameters);
      expect(r.violations.at(-1)).toMatchObject({ rule: c.rule, line });
      expect(r.ok).toBe(false);
    });

    it('is silent once the mistake is fixed', async () => {
      const r = await run(fixed, BUGCHECK);
      expect(summary(r)).toEqual([]);
      expect(r.bugcheck).toBeNull();
      expect(r.ok).toBe(true);
    });
  });
}

describe("Driver Verifier's DMA checks (bug check 0xE6)", () => {
  it('has a case for every rule with an e6 entry', () => {
    const e6 = Object.entries(RULES)
      .filter(([, rule]) => 'e6' in rule)
      .map(([id]) => id);
    expect(CASES.map((c) => c.rule).sort()).toEqual(e6.sort());
  });

  for (const c of CASES) describeCase(c);

  describe('in GetScatterGatherList', () => {
    for (const c of SG_CASES) describeCase(c);
  });

  it('also catches map registers freed twice after DeallocateObjectKeepRegisters (the bus-master way)', async () => {
    const source = driver(
      body(`
KeRaiseIrql(DISPATCH_LEVEL, old);
ops.AllocateAdapterChannel(a, DeviceObject, 2, keepRegisters, null);
ops.FreeMapRegisters(a, base, 2);
ops.FreeMapRegisters(a, base, 2); // <- here: freed already
KeLowerIrql(old.value);
ops.PutDmaAdapter(a);`),
    );
    const line = lineOf(source, HERE);
    const r = await run(source, TEACHING);
    // AdapterControl's DeallocateObjectKeepRegisters is itself a finding for system DMA.
    expect(r.violations.map((v) => v.rule)).toEqual(['ADAPTER_CONTROL_NOT_KEEP_OBJECT', 'DMA_MAP_REGISTERS_FREED_TWICE']);
    expect(r.violations[1]!.line).toBe(line);
    const stopped = await run(source, BUGCHECK);
    expect(stopped.bugcheck).toMatchObject({ code: 0xe6, line });
    expect(stopped.bugcheck!.parameters[0]).toBe(0x05);
  });
});

// ---- The reference drivers ---------------------------------------------------------------------

describe('the reference drivers of labs/playground', () => {
  const REFERENCE: [driver: string, scenarios: string[]][] = [
    ['floppy-packet', ['floppy-packet', 'floppy-split']],
    ['sound-common-buffer', ['sound-playback', 'sound-capture']],
    ['scanner-sg', ['scanner-sg']],
  ];
  for (const [name, scenarios] of REFERENCE) {
    const source = readFileSync(`labs/playground/${name}.driver.ts`, 'utf8');
    for (const s of scenarios) {
      it(`${name}.driver.ts runs ${s} with no finding and no bug check`, async () => {
        const parsed = Scenario.parse(parse(readFileSync(`labs/playground/${s}.scenario.yaml`, 'utf8')));
        expect(parsed.verifier).toBe('bugcheck');
        const r = await run(source, parsed, `${name}.driver.ts`);
        expect(summary(r)).toEqual([]);
        expect(r.bugcheck).toBeNull();
      });
    }
  }
});
