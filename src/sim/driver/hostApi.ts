import { irqToDirql } from '../hw/picPair';
import {
  IoAllocateMdl,
  IoBuildPartialMdl,
  IoFreeMdl,
  BYTE_OFFSET,
  isMdlViolation,
  type Mdl,
  type MdlViolation,
  MmBuildMdlForNonPagedPool,
  MmGetSystemAddressForMdlSafe,
} from '../machine/mdl';
import { EventKind } from '../trace/sink';
import { BUGCHECK } from '../kernel/bugCheck';
import type { AdapterObject, DeviceDescription, Hal } from '../kernel/hal';
import type { DeviceRecord, IoManager, IrpRecord } from '../kernel/ioManager';
import { ISA_IO_CYCLE_NS, type Kernel } from '../kernel/kernel';
import { WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import { DmaVerifier } from '../verifier/dmaVerifier';

// The host side of the `wdm` surface: one function per routine the guest calls, taking
// and returning numbers. Each checks the IRQL its WDK page requires and the objects it is
// given, then does the work in the kernel, I/O manager or HAL. A misuse is a finding
// (Kernel.report) and the routine answers what Windows would (NULL, a failure status,
// nothing); the misuses Windows stops on are bug checks.

const PASSIVE = W.PASSIVE_LEVEL;
const APC = W.APC_LEVEL;
const DISPATCH = W.DISPATCH_LEVEL;
const ANY = W.HIGH_LEVEL;

/** The highest IRQL each routine may be called at (from its reference page); `exact` for "IRQL = …". */
export const IRQL: Record<string, { max: number; exact?: boolean }> = {
  ExAllocatePool2: { max: DISPATCH },
  ExAllocatePoolWithTag: { max: DISPATCH },
  ExFreePool: { max: DISPATCH },
  MmGetSystemAddressForMdlSafe: { max: DISPATCH },
  MmGetPhysicalAddress: { max: DISPATCH },
  IoAllocateMdl: { max: DISPATCH },
  MmBuildMdlForNonPagedPool: { max: DISPATCH },
  IoBuildPartialMdl: { max: DISPATCH },
  IoFreeMdl: { max: DISPATCH },
  KeFlushIoBuffers: { max: DISPATCH },
  IoCreateDevice: { max: APC },
  IoDeleteDevice: { max: PASSIVE },
  IoAttachDeviceToDeviceStack: { max: PASSIVE },
  IoDetachDevice: { max: PASSIVE },
  IoCompleteRequest: { max: DISPATCH },
  IoStartPacket: { max: DISPATCH },
  IoStartNextPacket: { max: DISPATCH, exact: true },
  IoCallDriver: { max: DISPATCH },
  IoForwardIrpSynchronously: { max: PASSIVE },
  IoConnectInterrupt: { max: PASSIVE },
  IoDisconnectInterrupt: { max: PASSIVE },
  KeInitializeTimer: { max: DISPATCH },
  KeSetTimerEx: { max: DISPATCH },
  KeCancelTimer: { max: DISPATCH },
  IoGetDmaAdapter: { max: PASSIVE },
  PutDmaAdapter: { max: DISPATCH },
  AllocateCommonBuffer: { max: PASSIVE },
  FreeCommonBuffer: { max: PASSIVE },
  AllocateAdapterChannel: { max: DISPATCH, exact: true },
  FlushAdapterBuffers: { max: DISPATCH },
  FreeAdapterChannel: { max: DISPATCH, exact: true },
  FreeMapRegisters: { max: DISPATCH, exact: true },
  MapTransfer: { max: DISPATCH },
  GetDmaAlignment: { max: PASSIVE },
  ReadDmaCounter: { max: DISPATCH },
  GetScatterGatherList: { max: DISPATCH, exact: true },
  PutScatterGatherList: { max: DISPATCH, exact: true },
  CalculateScatterGatherList: { max: ANY },
};

/** KeSetTimer's DueTime bound, in 100 ns units (about 11 days). */
const MAX_DUE_TIME = 1e13;
const UNBUILT = "the MDL's pages are not built: call MmBuildMdlForNonPagedPool first (or use the IRP's MDL)";

/** The DMA_OPERATIONS routines and IoGetDmaAdapter: Driver Verifier checks their IRQL itself (0xE6, 0x13). */
const DMA_ROUTINES = new Set([
  'IoGetDmaAdapter',
  'PutDmaAdapter',
  'AllocateCommonBuffer',
  'FreeCommonBuffer',
  'AllocateAdapterChannel',
  'FlushAdapterBuffers',
  'FreeAdapterChannel',
  'FreeMapRegisters',
  'MapTransfer',
  'GetDmaAlignment',
  'ReadDmaCounter',
  'GetScatterGatherList',
  'PutScatterGatherList',
  'CalculateScatterGatherList',
]);

/** How the HAL's MapTransfer says a buffer needs map registers it was not given. */
const NEEDS_MAP_REGISTERS = 'the transfer needs map registers';

const LEVEL_NAMES: Record<number, string> = { 0: 'PASSIVE_LEVEL', 1: 'APC_LEVEL', 2: 'DISPATCH_LEVEL' };
const levelName = (irql: number) => LEVEL_NAMES[irql] ?? `DIRQL ${irql}`;

export type LeanFunction = (...args: number[]) => number;

export interface RichFunctions {
  describe(kind: string, id: number): string;
  print(text: string): void;
  getDmaAdapter(pdo: number, description: string): string;
}

export interface HostApi {
  lean: Record<string, LeanFunction>;
  rich: RichFunctions;
  /** Host MDLs by id (the workload's IRP MDLs are registered here too). */
  mdls: Map<number, Mdl>;
  /** Every driver API call so far, by routine name. */
  calls: Map<string, number>;
  verifier: DmaVerifier;
}

export function createHostApi(kernel: Kernel, io: IoManager, hal: Hal): HostApi {
  const machine = kernel.machine;
  const cpu = machine.cpu;
  const bus = machine.bus;
  const mdls = new Map<number, Mdl>();
  const mdlIds = new WeakMap<Mdl, number>();
  /** The id of a host MDL, registering one the guest has not seen yet (an IRP's). */
  const idOfMdl = (m: Mdl): number => {
    let id = mdlIds.get(m);
    if (id === undefined) {
      id = kernel.newId();
      mdls.set(id, m);
      mdlIds.set(m, id);
    }
    return id;
  };
  const calls = new Map<string, number>();
  const outs = [0, 0];
  const skipped = new Set<number>();

  const checkIrql = (name: string): void => {
    const rule = IRQL[name];
    if (!rule) return;
    const irql = kernel.irql;
    if (rule.exact ? irql !== rule.max : irql > rule.max) {
      const detail = `${name} must be called at IRQL ${rule.exact ? '=' : '<='} ${levelName(rule.max)}; it was called at ${levelName(irql)}.`;
      if (DMA_ROUTINES.has(name)) kernel.report('DMA_WRONG_IRQL', detail, rule.exact ? 1 : 2, rule.max, irql);
      else kernel.report('IRQL_MISMATCH', detail, irql, 0, 0);
    }
  };

  const fail = (name: string, message: string): void => kernel.report('INVALID_ARGUMENT', `${name}: ${message}`);
  /** An MDL routine misused: a finding, and in the bug-check mode the bug check Windows raises for it. */
  const violation = (v: MdlViolation): void => {
    kernel.report('MDL_MISUSE', v.message);
    if (v.bugCheck && kernel.verifierMode === 'bugcheck') kernel.bugCheck(v.bugCheck.code, v.message);
  };
  const verifier = new DmaVerifier(kernel, hal, io);

  const deviceOf = (name: string, id: number): DeviceRecord | null => {
    const d = io.device(id);
    if (!d) fail(name, id === 0 ? 'DeviceObject is NULL' : 'the argument is not a device object that exists');
    return d;
  };
  const irpOf = (name: string, id: number): IrpRecord | null => {
    const irp = io.irps.get(id) ?? null;
    if (!irp) fail(name, id === 0 ? 'Irp is NULL' : 'the argument is not an IRP');
    return irp;
  };
  const mdlOf = (name: string, id: number): Mdl | null => {
    const m = mdls.get(id) ?? null;
    if (!m) fail(name, id === 0 ? 'Mdl is NULL' : 'the argument is not an MDL');
    else if (m.freed) {
      kernel.report('MDL_ALREADY_FREED', `${name} was given an MDL that IoFreeMdl already freed.`, id);
      return null;
    }
    return m;
  };
  /**
   * Whether [va, va + length) lies inside the MDL's buffer, on pages whose frames are built:
   * the HAL plans a scatter/gather list page by page and would never finish otherwise.
   */
  const mdlRange = (m: Mdl, va: number, length: number): 'outside' | 'unbuilt' | null => {
    const start = m.StartVa + m.ByteOffset;
    if (!Number.isSafeInteger(va) || !Number.isSafeInteger(length) || length <= 0 || va < start || va + length > start + m.ByteCount) return 'outside';
    for (let page = Math.floor(va / 4096); page <= Math.floor((va + length - 1) / 4096); page++) {
      if (!((m.PfnArray[page - m.StartVa / 4096] ?? -1) >= 0)) return 'unbuilt';
    }
    return null;
  };
  const adapterOf = (name: string, id: number): AdapterObject | null => {
    const a = hal.adapters.get(id) ?? null;
    if (id === 0) kernel.report('DMA_NULL_ADAPTER', `${name} was given a NULL DMA_ADAPTER.`);
    else if (!a) fail(name, 'the argument is not a DMA adapter from IoGetDmaAdapter');
    else if (a.put) {
      kernel.report('DMA_ADAPTER_ALREADY_PUT', `${name} was called on an adapter that PutDmaAdapter already released.`, a.id);
      return null;
    }
    return a;
  };
  const pageFault = (va: number, write: boolean): never =>
    kernel.bugCheck(BUGCHECK.PAGE_FAULT_IN_NONPAGED_AREA, `the driver ${write ? 'wrote' : 'read'} address 0x${(va >>> 0).toString(16)}, which is not mapped`, va >>> 0, write ? 1 : 0, 0, 0);

  const port = (name: string, p: number): number => {
    if (!Number.isInteger(p) || p < 0 || p > 0xffff) {
      fail(name, `port ${p} is not an I/O port (0–0xFFFF)`);
      return -1;
    }
    kernel.spend(ISA_IO_CYCLE_NS);
    return p;
  };

  const lean: Record<string, LeanFunction> = {
    out: (i) => outs[i] ?? 0,

    READ_PORT_UCHAR: (p) => (port('READ_PORT_UCHAR', p) < 0 ? 0xff : bus.inb(p)),
    READ_PORT_USHORT: (p) => (port('READ_PORT_USHORT', p) < 0 ? 0xffff : bus.inw(p)),
    READ_PORT_ULONG: (p) => (port('READ_PORT_ULONG', p) < 0 ? 0xffff_ffff : bus.inl(p)),
    WRITE_PORT_UCHAR: (p, v) => (port('WRITE_PORT_UCHAR', p) < 0 ? 0 : (verifier.onPortWrite(p, v & 0xff), bus.outb(p, v & 0xff), 0)),
    WRITE_PORT_USHORT: (p, v) => (port('WRITE_PORT_USHORT', p) < 0 ? 0 : (verifier.onPortWrite(p, v & 0xff), bus.outw(p, v & 0xffff), 0)),
    WRITE_PORT_ULONG: (p, v) => (port('WRITE_PORT_ULONG', p) < 0 ? 0 : (verifier.onPortWrite(p, v & 0xff), bus.outl(p, v >>> 0), 0)),

    RtlCopyMemory: (d, s, n) => {
      if (n <= 0) return 0;
      if (!cpu.copy(d, s, n)) pageFault(cpu.lastFault?.va ?? d, cpu.lastFault?.write ?? true);
      return 0;
    },
    RtlMoveMemory: (d, s, n) => {
      if (n <= 0) return 0;
      if (!cpu.copy(d, s, n)) pageFault(cpu.lastFault?.va ?? d, cpu.lastFault?.write ?? true);
      return 0;
    },
    RtlFillMemory: (d, n, v) => {
      if (n <= 0) return 0;
      if (!cpu.fill(d, n, v & 0xff)) pageFault(cpu.lastFault?.va ?? d, true);
      return 0;
    },
    RtlCompareMemory: (a, b, n) => {
      const x = cpu.readBytes(a, n);
      const y = cpu.readBytes(b, n);
      if (!x || !y) return pageFault(cpu.lastFault?.va ?? a, false);
      let i = 0;
      while (i < n && x[i] === y[i]) i++;
      return i;
    },
    READ_MEMORY_UCHAR: (va) => (cpu.space.isMapped(va, 1) ? cpu.readByte(va) : pageFault(va, false)),
    READ_MEMORY_USHORT: (va) => (cpu.space.isMapped(va, 2) ? cpu.readWord(va) : pageFault(va, false)),
    READ_MEMORY_ULONG: (va) => (cpu.space.isMapped(va, 4) ? cpu.readDword(va) : pageFault(va, false)),
    WRITE_MEMORY_UCHAR: (va, v) => (cpu.writeByte(va, v & 0xff) ? 0 : pageFault(va, true)),
    WRITE_MEMORY_USHORT: (va, v) => (cpu.writeWord(va, v & 0xffff) ? 0 : pageFault(va, true)),
    WRITE_MEMORY_ULONG: (va, v) => (cpu.writeDword(va, v >>> 0) ? 0 : pageFault(va, true)),

    ExAllocatePool2: (flags, bytes, tag) => {
      if ((flags & W.POOL_FLAG_PAGED) !== 0) fail('ExAllocatePool2', 'paged pool cannot be used for DMA or at DISPATCH_LEVEL; use POOL_FLAG_NON_PAGED');
      return io.ExAllocatePool(bytes, tag);
    },
    ExAllocatePoolWithTag: (_type, bytes, tag) => io.ExAllocatePool(bytes, tag),
    ExFreePool: (va) => {
      if (!io.ExFreePool(va)) kernel.bugCheck(BUGCHECK.BAD_POOL_CALLER, `ExFreePool was given 0x${(va >>> 0).toString(16)}, which is not a pool allocation (or was already freed)`, 7, 0, va >>> 0, 0);
      return 0;
    },

    MmGetSystemAddressForMdlSafe: (id, priority) => {
      const m = mdlOf('MmGetSystemAddressForMdlSafe', id);
      if (!m) return 0;
      const va = MmGetSystemAddressForMdlSafe(m, priority);
      if (isMdlViolation(va)) return violation(va), 0;
      return va ?? 0;
    },
    MmGetPhysicalAddress: (va) => machine.space.translate(va) ?? 0,
    IoAllocateMdl: (va, length, secondary, quota, irpId) => {
      const irp = irpId > 0 ? io.irps.get(irpId) ?? null : null;
      const link = irp ? { MdlAddress: irp.mdl } : null;
      const m = IoAllocateMdl(machine.space, va, length, secondary === 1, quota === 1, link);
      if (m === null) return 0;
      if (isMdlViolation(m)) return violation(m), 0;
      const id = kernel.newId();
      mdls.set(id, m);
      mdlIds.set(m, id);
      if (irp && link && secondary !== 1) irp.mdl = m;
      return id;
    },
    MmBuildMdlForNonPagedPool: (id) => {
      const m = mdlOf('MmBuildMdlForNonPagedPool', id);
      const v = m && MmBuildMdlForNonPagedPool(m);
      if (v) violation(v);
      return 0;
    },
    IoBuildPartialMdl: (source, target, va, length) => {
      const s = mdlOf('IoBuildPartialMdl', source);
      const t = mdlOf('IoBuildPartialMdl', target);
      const v = s && t && IoBuildPartialMdl(s, t, va, length);
      if (v) violation(v);
      return 0;
    },
    IoFreeMdl: (id) => {
      const m = mdls.get(id);
      if (!m) return fail('IoFreeMdl', 'the argument is not an MDL'), 0;
      const v = IoFreeMdl(m);
      if (v) violation(v);
      return 0;
    },
    KeFlushIoBuffers: (id, read, dma) => {
      const m = mdlOf('KeFlushIoBuffers', id);
      if (m) {
        cpu.KeFlushIoBuffers(m, read === 1, dma === 1);
        verifier.onKeFlushIoBuffers(m);
      }
      return 0;
    },

    KeGetCurrentIrql: () => kernel.irql,
    KeRaiseIrql: (irql) => kernel.KeRaiseIrql(irql),
    KeLowerIrql: (irql) => (kernel.KeLowerIrql(irql), 0),
    KeStallExecutionProcessor: (us) => {
      if (Number.isNaN(us)) return fail('KeStallExecutionProcessor', 'MicroSeconds is not a number'), 0;
      if (us > 50) kernel.report('STALL_TOO_LONG', `KeStallExecutionProcessor(${us}): stalls longer than 50 µs hold the processor; use a timer.`);
      kernel.spend(Math.max(0, Math.min(us, 1_000_000)) * 1000);
      return 0;
    },
    KeBugCheckEx: (code, p1, p2, p3, p4) => kernel.bugCheck(code >>> 0, 'the driver called KeBugCheckEx', p1, p2, p3, p4),

    IoCreateDevice: () => io.IoCreateDevice().id,
    IoDeleteDevice: (id) => {
      const d = deviceOf('IoDeleteDevice', id);
      if (d) io.IoDeleteDevice(d);
      return 0;
    },
    IoAttachDeviceToDeviceStack: (source, target) => {
      const s = deviceOf('IoAttachDeviceToDeviceStack', source);
      const t = deviceOf('IoAttachDeviceToDeviceStack', target);
      return s && t ? io.IoAttachDeviceToDeviceStack(s, t)?.id ?? 0 : 0;
    },
    IoDetachDevice: (id) => {
      const d = deviceOf('IoDetachDevice', id);
      if (d) io.IoDetachDevice(d);
      return 0;
    },

    IoSkipCurrentIrpStackLocation: (id) => (skipped.add(id), 0),
    IoMarkIrpPending: (id) => {
      const irp = irpOf('IoMarkIrpPending', id);
      if (irp) irp.pendingMarked = true;
      return 0;
    },
    IoCompleteRequest: (id, status, information) => {
      const irp = irpOf('IoCompleteRequest', id);
      if (!irp) return 0;
      if (irp.completed) kernel.bugCheck(BUGCHECK.MULTIPLE_IRP_COMPLETE_REQUESTS, `IRP ${id} was completed twice`, id, 0, 0, 0);
      verifier.onCompleteRequest(irp, status | 0);
      io.IoCompleteRequest(irp, status, information);
      return 0;
    },
    IoStartPacket: (deviceId, irpId) => {
      const d = deviceOf('IoStartPacket', deviceId);
      const irp = irpOf('IoStartPacket', irpId);
      if (d && irp) io.IoStartPacket(d, irp);
      return 0;
    },
    IoStartNextPacket: (deviceId) => {
      const d = deviceOf('IoStartNextPacket', deviceId);
      return d ? io.IoStartNextPacket(d) : 0;
    },
    IoCallDriver: (deviceId, irpId) => {
      const d = deviceOf('IoCallDriver', deviceId);
      const irp = irpOf('IoCallDriver', irpId);
      if (!d || !irp) return W.STATUS_INVALID_PARAMETER;
      if (d.isPdo && !skipped.has(irpId)) {
        kernel.report('IRP_NOT_PASSED_DOWN_PROPERLY', 'IoCallDriver sent an IRP down without IoSkipCurrentIrpStackLocation or IoCopyCurrentIrpStackLocationToNext.');
      }
      skipped.delete(irpId);
      return io.IoCallDriver(d, irp);
    },
    IoForwardIrpSynchronously: (deviceId, irpId) => {
      const d = deviceOf('IoForwardIrpSynchronously', deviceId);
      const irp = irpOf('IoForwardIrpSynchronously', irpId);
      return d && irp ? io.forwardToBus(irp) : W.STATUS_INVALID_PARAMETER;
    },

    IoConnectInterrupt: (vector, irql, syncIrql, mode) => {
      const irq = vector - 0x30;
      const owned = [...io.devices.values()].some((d) => d.isPdo && d.resources?.irq === irq);
      if (irq < 0 || irq > 15 || !owned) {
        fail('IoConnectInterrupt', `Vector 0x${vector.toString(16)} is not the translated vector of the device's interrupt; take u.Interrupt.Vector from AllocatedResourcesTranslated`);
        return W.STATUS_INVALID_PARAMETER;
      }
      if (irql !== irqToDirql(irq)) {
        fail('IoConnectInterrupt', `Irql ${irql} is not the device's DIRQL (${irqToDirql(irq)}); take u.Interrupt.Level from AllocatedResourcesTranslated`);
        return W.STATUS_INVALID_PARAMETER;
      }
      if (syncIrql < irql) {
        fail('IoConnectInterrupt', `SynchronizeIrql ${syncIrql} is below Irql ${irql}`);
        return W.STATUS_INVALID_PARAMETER;
      }
      if (mode !== W.Latched) kernel.report('INTERRUPT_MODE', 'ISA interrupts are edge-triggered: InterruptMode should be Latched.');
      return kernel.IoConnectInterrupt(irq, vector, irql, syncIrql, mode === W.Latched).id;
    },
    IoDisconnectInterrupt: (id) => {
      if (!kernel.IoDisconnectInterrupt(id)) fail('IoDisconnectInterrupt', 'the argument is not a connected interrupt object');
      return 0;
    },
    KeSynchronizeExecutionEnter: (id) => {
      const object = kernel.interrupt(id);
      if (!object) return fail('KeSynchronizeExecution', 'Interrupt is not an interrupt object from IoConnectInterrupt'), -1;
      if (kernel.irql > object.synchronizeIrql) {
        kernel.report('IRQL_MISMATCH', `KeSynchronizeExecution must be called at IRQL <= ${object.synchronizeIrql} (the interrupt's SynchronizeIrql); it was called at ${levelName(kernel.irql)}.`);
        return -1;
      }
      return kernel.KeRaiseIrql(object.synchronizeIrql);
    },
    KeSynchronizeExecutionLeave: (old) => (kernel.KeLowerIrql(old), 0),

    KeInitializeDpc: () => kernel.newDpc().id,
    KeInsertQueueDpc: (id) => {
      const dpc = kernel.dpc(id);
      if (!dpc) return fail('KeInsertQueueDpc', 'Dpc was not initialized with KeInitializeDpc'), 0;
      return kernel.KeInsertQueueDpc(dpc) ? 1 : 0;
    },
    KeRemoveQueueDpc: (id) => {
      const dpc = kernel.dpc(id);
      return dpc && kernel.KeRemoveQueueDpc(dpc) ? 1 : 0;
    },
    IoInitializeDpcRequest: (deviceId) => {
      const d = deviceOf('IoInitializeDpcRequest', deviceId);
      if (!d) return 0;
      const dpc = kernel.newDpc(d.id);
      d.dpcForIsr = dpc.id;
      return dpc.id;
    },
    IoRequestDpc: (deviceId, dpcId) => {
      const d = deviceOf('IoRequestDpc', deviceId);
      const dpc = kernel.dpc(dpcId);
      if (!d) return 0;
      if (!dpc || d.dpcForIsr !== dpcId) return fail('IoRequestDpc', 'the device has no DpcForIsr: call IoInitializeDpcRequest in AddDevice'), 0;
      return kernel.KeInsertQueueDpc(dpc) ? 1 : 0;
    },
    KeInitializeTimer: () => kernel.newTimer().id,
    KeSetTimerEx: (id, due, period, dpcId) => {
      const timer = kernel.timer(id);
      if (!timer) return fail('KeSetTimer', 'Timer was not initialized with KeInitializeTimer'), 0;
      if (dpcId !== 0 && !kernel.dpc(dpcId)) return fail('KeSetTimer', 'Dpc was not initialized with KeInitializeDpc'), 0;
      // The scheduler takes whole, safe ns only: an expiry it cannot hold would throw later, outside any driver call.
      if (!Number.isFinite(due) || Math.abs(due) > MAX_DUE_TIME || !Number.isInteger(period) || period < 0 || period > 0x7fff_ffff) {
        return fail('KeSetTimer', `DueTime ${due} (100 ns units) or Period ${period} (ms) is out of range`), 0;
      }
      return kernel.KeSetTimer(timer, due, dpcId, period) ? 1 : 0;
    },
    KeCancelTimer: (id) => {
      const timer = kernel.timer(id);
      return timer && kernel.KeCancelTimer(timer) ? 1 : 0;
    },

    PutDmaAdapter: (id) => {
      const a = adapterOf('PutDmaAdapter', id);
      if (a) {
        verifier.beforePutAdapter(a);
        hal.PutDmaAdapter(a);
      }
      return 0;
    },
    AllocateCommonBuffer: (id, length) => {
      const a = adapterOf('AllocateCommonBuffer', id);
      const buffer = a && hal.AllocateCommonBuffer(a, length);
      if (!buffer) return 0;
      outs[0] = buffer.physical;
      return buffer.va;
    },
    FreeCommonBuffer: (id, length, physical, va) => {
      const a = adapterOf('FreeCommonBuffer', id);
      if (!a || !verifier.beforeFreeCommonBuffer(a, va)) return 0;
      const problem = hal.FreeCommonBuffer(a, length, physical, va);
      if (problem) fail('FreeCommonBuffer', problem);
      else verifier.freedCommonBuffer(a, va);
      return 0;
    },
    AllocateAdapterChannel: (id, deviceId, count, wait) => {
      const a = adapterOf('AllocateAdapterChannel', id);
      const d = deviceOf('AllocateAdapterChannel', deviceId);
      if (!a || !d) return W.STATUS_INVALID_PARAMETER;
      if (!verifier.beforeAllocateChannel(a, count)) return W.STATUS_INSUFFICIENT_RESOURCES;
      return hal.AllocateAdapterChannel(a, d, count, wait);
    },
    FlushAdapterBuffers: (id, mdlId, base, va, length) => {
      const a = adapterOf('FlushAdapterBuffers', id);
      const m = mdlOf('FlushAdapterBuffers', mdlId);
      if (!a || !m || !verifier.beforeFlush(a, m, base, va, length)) return 0;
      const flushed = hal.FlushAdapterBuffers(a);
      verifier.afterFlush(a);
      return flushed ? 1 : 0;
    },
    FreeAdapterChannel: (id) => {
      const a = adapterOf('FreeAdapterChannel', id);
      if (a && verifier.beforeFreeChannel(a)) hal.FreeAdapterChannel(a);
      return 0;
    },
    FreeMapRegisters: (id, base, count) => {
      const a = adapterOf('FreeMapRegisters', id);
      if (!a || !verifier.beforeFreeMapRegisters(a, base)) return 0;
      if (hal.FreeMapRegisters(a, base, count)) verifier.freedGrant(a, base);
      else fail('FreeMapRegisters', 'MapRegisterBase and NumberOfMapRegisters do not match registers this adapter holds');
      return 0;
    },
    MapTransfer: (id, mdlId, base, va, length, write) => {
      outs[0] = 0;
      const a = adapterOf('MapTransfer', id);
      const m = mdlOf('MapTransfer', mdlId);
      if (!a || !m) return 0;
      if (!Number.isSafeInteger(va) || !Number.isSafeInteger(length)) return fail('MapTransfer', `CurrentVa ${va} and Length ${length} must be whole numbers`), 0;
      const grant = base === 0 ? null : hal.grant(base) ?? null;
      if (base !== 0 && !grant) fail('MapTransfer', 'MapRegisterBase is not the value AdapterControl received');
      if (!verifier.beforeMapTransfer(a, m, grant, va, length)) return 0;
      const result = hal.MapTransfer(a, m, grant, va, length, write === 1);
      if (typeof result === 'string') {
        if (result.startsWith(NEEDS_MAP_REGISTERS)) {
          kernel.report('UNREACHABLE_WITHOUT_MAP_REGISTERS', `MapTransfer: ${result}.`);
          // Windows' MapTransfer cannot refuse: the driver flushes and frees as after any other, so it counts as mapped.
          verifier.afterMapTransfer(a, m, base, va, length);
        } else fail('MapTransfer', result);
        return 0;
      }
      // A system DMA adapter gives Length back as it came (nf-wdm-pmap_transfer: only a
      // scatter/gather bus master learns how much was mapped). Past the map registers the
      // HAL programs what they cover; the verifier has said so, and the device sees T/C early.
      verifier.afterMapTransfer(a, m, base, va, length);
      outs[0] = length;
      return result.address;
    },
    GetDmaAlignment: (id) => {
      const a = adapterOf('GetDmaAlignment', id);
      return a ? hal.GetDmaAlignment(a) : 1;
    },
    ReadDmaCounter: (id) => {
      const a = adapterOf('ReadDmaCounter', id);
      return a ? hal.ReadDmaCounter(a) : 0;
    },
    GetScatterGatherList: (id, deviceId, mdlId, va, length, wait, write, bufferLength) => {
      const a = adapterOf('GetScatterGatherList', id);
      const d = deviceOf('GetScatterGatherList', deviceId);
      const m = mdlOf('GetScatterGatherList', mdlId);
      if (!a || !d || !m) return W.STATUS_INVALID_PARAMETER;
      if (!Number.isSafeInteger(va) || !Number.isSafeInteger(length)) return fail('GetScatterGatherList', `CurrentVa ${va} and Length ${length} must be whole numbers`), W.STATUS_INVALID_PARAMETER;
      // Driver Verifier's buffer checks (zero length, outside the MDL, pages not locked) come first, as in MapTransfer.
      if (!verifier.checkBuffer('GetScatterGatherList', m, va, length)) return W.STATUS_INVALID_PARAMETER;
      const range = mdlRange(m, va, length);
      if (range === 'outside') return W.STATUS_INVALID_PARAMETER;
      if (range === 'unbuilt') return fail('GetScatterGatherList', UNBUILT), W.STATUS_INVALID_PARAMETER;
      if (bufferLength !== 0) {
        const { listSize } = hal.CalculateScatterGatherList(a, m, va, length);
        if (bufferLength < 0 || bufferLength < listSize) return W.STATUS_BUFFER_TOO_SMALL;
      }
      if (!verifier.beforeAllocateChannel(a, 0)) return W.STATUS_INSUFFICIENT_RESOURCES;
      return hal.GetScatterGatherList(a, d, m, va, length, write === 1, wait);
    },
    PutScatterGatherList: (id, sgId) => {
      const a = adapterOf('PutScatterGatherList', id);
      const list = hal.sgLists.get(sgId);
      if (!a) return 0;
      if (!list) return fail('PutScatterGatherList', 'ScatterGather is not a list GetScatterGatherList produced'), 0;
      if (!verifier.beforePutSgList(sgId)) return 0;
      const problem = hal.PutScatterGatherList(a, list);
      if (problem) fail('PutScatterGatherList', problem);
      else verifier.putSgList(sgId);
      return 0;
    },
    CalculateScatterGatherList: (id, mdlId, va, length) => {
      const a = adapterOf('CalculateScatterGatherList', id);
      if (!a) return W.STATUS_INVALID_PARAMETER;
      const m = mdlId === 0 ? null : mdlOf('CalculateScatterGatherList', mdlId);
      if (m === null) {
        // Without an MDL the HAL assumes every page may need its own element.
        const pages = Math.ceil((BYTE_OFFSET(va) + length) / 4096);
        outs[0] = 8 + 16 * pages;
        outs[1] = pages;
        return W.STATUS_SUCCESS;
      }
      const range = mdlRange(m, va, length);
      if (range === 'outside') return fail('CalculateScatterGatherList', 'CurrentVa and Length are not inside the MDL\'s buffer'), W.STATUS_INVALID_PARAMETER;
      if (range === 'unbuilt') return fail('CalculateScatterGatherList', UNBUILT), W.STATUS_INVALID_PARAMETER;
      const r = hal.CalculateScatterGatherList(a, m, va, length);
      outs[0] = r.listSize;
      outs[1] = r.mapRegisters;
      return W.STATUS_SUCCESS;
    },
  };

  // Every lean routine counts as an API call, checks its IRQL and may be traced.
  const counted: Record<string, LeanFunction> = {};
  const trace = machine.trace;
  const names = Object.keys(lean);
  for (const [index, name] of names.entries()) {
    const fn = lean[name]!;
    const ruled = IRQL[name] !== undefined;
    calls.set(name, 0);
    counted[name] =
      name === 'out'
        ? fn
        : (...args: number[]) => {
            kernel.stats.apiCalls++;
            calls.set(name, calls.get(name)! + 1);
            if (ruled) checkIrql(name);
            const result = fn(...args);
            if (trace.enabled) {
              trace.record(kernel.now, EventKind.ApiCall, index, kernel.line() ?? 0, result);
              for (let i = 0; i < args.length; i += 3) trace.record(kernel.now, EventKind.ApiArgs, args[i]!, args[i + 1] ?? 0, args[i + 2] ?? 0);
            }
            return result;
          };
  }

  const rich: RichFunctions = {
    describe(kind, id) {
      if (kind === 'irp') {
        const irp = io.irps.get(id);
        if (!irp) return 'null';
        const mdlId = irp.mdl ? idOfMdl(irp.mdl) : 0;
        return JSON.stringify({
          major: irp.major,
          minor: irp.minor,
          length: irp.length,
          offset: irp.offset,
          mdl: mdlId,
          userBuffer: irp.mdl || irp.systemBuffer ? 0 : irp.userBuffer,
          systemBuffer: irp.systemBuffer,
          resources: irp.resources,
        });
      }
      if (kind === 'mdl') {
        const m = mdls.get(id);
        if (!m) return 'null';
        const next = m.Next ? (mdlIds.get(m.Next) ?? 0) : 0;
        return JSON.stringify({ Next: next, Size: m.Size, MdlFlags: m.MdlFlags, MappedSystemVa: m.MappedSystemVa, StartVa: m.StartVa, ByteCount: m.ByteCount, ByteOffset: m.ByteOffset });
      }
      if (kind === 'sg') {
        const list = hal.sgLists.get(id);
        return JSON.stringify({ elements: list?.elements ?? [] });
      }
      return 'null';
    },
    print(text) {
      kernel.stats.apiCalls++;
      kernel.print(String(text).slice(0, 4096));
    },
    getDmaAdapter(pdoId, json) {
      kernel.stats.apiCalls++;
      checkIrql('IoGetDmaAdapter');
      const pdo = io.device(pdoId);
      if (!pdo?.isPdo) {
        fail('IoGetDmaAdapter', 'PhysicalDeviceObject is not the PDO AddDevice received');
        return JSON.stringify({ id: 0, mapRegisters: 0 });
      }
      // The guest's JSON.stringify (and toJSON) are the driver's to replace: trust only an object.
      let d: unknown;
      try {
        d = JSON.parse(json);
      } catch {
        d = null;
      }
      if (typeof d !== 'object' || d === null || Array.isArray(d)) {
        fail('IoGetDmaAdapter', 'DeviceDescription is not a DEVICE_DESCRIPTION');
        return JSON.stringify({ id: 0, mapRegisters: 0 });
      }
      const version = (d as { Version?: unknown }).Version;
      if (version !== 0 && version !== 1 && version !== 2 && version !== 3) {
        kernel.report('DMA_UNKNOWN_DESCRIPTION_VERSION', `IoGetDmaAdapter was given DEVICE_DESCRIPTION.Version ${String(version)}.`);
        return JSON.stringify({ id: 0, mapRegisters: 0 });
      }
      const adapter = hal.IoGetDmaAdapter(pdo, d as DeviceDescription);
      if (typeof adapter === 'string') {
        kernel.report('BAD_DEVICE_DESCRIPTION', `IoGetDmaAdapter returned NULL: ${adapter}.`);
        return JSON.stringify({ id: 0, mapRegisters: 0 });
      }
      return JSON.stringify({ id: adapter.id, mapRegisters: adapter.numberOfMapRegisters });
    },
  };

  return { lean: counted, rich, mdls, calls, verifier };
}


/** The API ids the trace's ApiCall events use (index into this list). */
export function apiNames(api: HostApi): string[] {
  return Object.keys(api.lean);
}
