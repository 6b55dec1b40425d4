import { irqToDirql, irqToVector } from '../hw/picPair';
import { IoAllocateMdl, Mdl, MDL_MAPPED_TO_SYSTEM_VA, MDL_PAGES_LOCKED, MDL_SOURCE_IS_NONPAGED_POOL, MDL_WRITE_OPERATION, MmBuildMdlForNonPagedPool } from '../machine/mdl';
import { EventKind } from '../trace/sink';
import type { Placement } from '../machine/addressSpace';
import { BUGCHECK } from './bugCheck';
import { Entry } from './driverCode';
import type { Kernel } from './kernel';
import { WDM_CONSTANTS as W } from './wdmConstants';

// The I/O manager (reference/wdk/ddi: nf-wdm-iocreatedevice, iostartpacket,
// iostartnextpacket, iocompleterequest, iomarkirppending, iogetcurrentirpstacklocation;
// kernel/using-direct-i-o-with-dma.md): device objects and their stacks, IRPs with one
// stack location for the driver, the StartIo queue with DeviceObject->CurrentIrp,
// completion, and the PnP manager's START and REMOVE with the device's resources. The
// scenario's devices are the PDOs of the ISA bus, whose "bus driver" is this file.

export interface ResourceDescriptor {
  Type: number;
  ShareDisposition: number;
  Flags: number;
  u: Record<string, Record<string, number>>;
}

export interface DeviceResources {
  ports: [number, number];
  irq: number;
  channels: number[];
}

export interface DeviceRecord {
  id: number;
  /** The scenario device this stack is for (PDOs and the FDOs attached over them). */
  deviceName: string;
  isPdo: boolean;
  resources: DeviceResources | null;
  lower: DeviceRecord | null;
  upper: DeviceRecord | null;
  deleted: boolean;
  /** DeviceObject->CurrentIrp as the StartIo queue sees it. */
  currentIrp: IrpRecord | null;
  queue: IrpRecord[];
  /** IoInitializeDpcRequest's DPC, 0 when there is none. */
  dpcForIsr: number;
}

export interface IrpRecord {
  id: number;
  major: number;
  minor: number;
  deviceName: string;
  length: number;
  offset: number;
  /** The caller's buffer (what the workload checks), 0 for none. */
  userBuffer: number;
  systemBuffer: number;
  mdl: Mdl | null;
  completed: boolean;
  /** Simulated times the IRP was built and completed (-1: not yet). */
  issuedAt: number;
  completedAt: number;
  pendingMarked: boolean;
  status: number;
  information: number;
  resources: { raw: ResourceDescriptor[]; translated: ResourceDescriptor[] } | null;
  onComplete: ((irp: IrpRecord) => void) | null;
}

export class IoManager {
  readonly devices = new Map<number, DeviceRecord>();
  readonly irps = new Map<number, IrpRecord>();
  private readonly pool = new Map<number, { bytes: number; tag: number; line: number | null }>();

  constructor(private readonly kernel: Kernel) {}

  // ---- Device objects ---------------------------------------------------------------

  createPdo(deviceName: string, resources: DeviceResources): DeviceRecord {
    return this.newDevice(deviceName, true, resources);
  }

  private newDevice(deviceName: string, isPdo: boolean, resources: DeviceResources | null): DeviceRecord {
    const device: DeviceRecord = {
      id: this.kernel.newId(),
      deviceName,
      isPdo,
      resources,
      lower: null,
      upper: null,
      deleted: false,
      currentIrp: null,
      queue: [],
      dpcForIsr: 0,
    };
    this.devices.set(device.id, device);
    return device;
  }

  device(id: number): DeviceRecord | null {
    const d = this.devices.get(id);
    return d && !d.deleted ? d : null;
  }

  IoCreateDevice(): DeviceRecord {
    return this.newDevice('', false, null);
  }

  IoDeleteDevice(device: DeviceRecord): void {
    device.deleted = true;
    if (device.lower) device.lower.upper = null;
  }

  /** IoAttachDeviceToDeviceStack: answers the device that was on top before, or null. */
  IoAttachDeviceToDeviceStack(source: DeviceRecord, target: DeviceRecord): DeviceRecord | null {
    let top = target;
    while (top.upper && !top.upper.deleted) top = top.upper;
    if (top.deleted) return null;
    top.upper = source;
    source.lower = top;
    source.deviceName = target.deviceName;
    return top;
  }

  IoDetachDevice(lower: DeviceRecord): void {
    if (lower.upper) lower.upper.lower = null;
    lower.upper = null;
  }

  /** The device an IRP for this stack is sent to: the top of the stack. */
  topOf(pdo: DeviceRecord): DeviceRecord {
    let top = pdo;
    while (top.upper && !top.upper.deleted) top = top.upper;
    return top;
  }

  // ---- IRPs -------------------------------------------------------------------------

  newIrp(fields: Partial<IrpRecord> & { major: number; deviceName: string }): IrpRecord {
    const irp: IrpRecord = {
      id: this.kernel.newId(),
      minor: 0,
      length: 0,
      offset: 0,
      userBuffer: 0,
      systemBuffer: 0,
      mdl: null,
      completed: false,
      issuedAt: this.kernel.now,
      completedAt: -1,
      pendingMarked: false,
      status: W.STATUS_PENDING,
      information: 0,
      resources: null,
      onComplete: null,
      ...fields,
    };
    this.irps.set(irp.id, irp);
    return irp;
  }

  /**
   * A read or write IRP as the I/O manager builds it for `device`'s flags: DO_DIRECT_IO
   * gets an MDL of the caller's locked pages, DO_BUFFERED_IO a system buffer, neither the
   * caller's address.
   */
  newTransferIrp(device: DeviceRecord, major: number, userBuffer: number, length: number, offset: number): IrpRecord {
    const flags = this.kernel.call(Entry.DeviceFlags, this.kernel.irql, device.id);
    const irp = this.newIrp({ major, deviceName: device.deviceName, userBuffer, length, offset });
    if (flags & W.DO_DIRECT_IO) {
      const mdl = IoAllocateMdl(this.kernel.machine.space, userBuffer, length);
      if (mdl instanceof Mdl) {
        MmBuildMdlForNonPagedPool(mdl); // as MmProbeAndLockPages would: the caller's pages, locked
        mdl.MdlFlags = (mdl.MdlFlags & ~MDL_SOURCE_IS_NONPAGED_POOL) | MDL_PAGES_LOCKED | (major === W.IRP_MJ_READ ? MDL_WRITE_OPERATION : 0);
        mdl.MappedSystemVa = 0;
        mdl.MdlFlags &= ~MDL_MAPPED_TO_SYSTEM_VA;
        irp.mdl = mdl;
      }
    } else if (flags & W.DO_BUFFERED_IO) {
      const sys = this.ExAllocatePool(length, 0x6f49); // 'Io'
      irp.systemBuffer = sys;
      if (major === W.IRP_MJ_WRITE && sys !== 0) this.kernel.machine.cpu.copy(sys, userBuffer, length);
    }
    return irp;
  }

  /** Sends an IRP to the top of a device's stack at PASSIVE_LEVEL: its dispatch routine runs. */
  dispatch(device: DeviceRecord, irp: IrpRecord): number {
    this.kernel.machine.trace.record(this.kernel.now, EventKind.IrpStart, irp.id, irp.major, irp.length);
    return this.kernel.call(Entry.Dispatch, W.PASSIVE_LEVEL, device.id, irp.id);
  }

  IoCompleteRequest(irp: IrpRecord, status: number, information: number): void {
    const k = this.kernel;
    if (irp.completed) {
      k.bugCheck(BUGCHECK.MULTIPLE_IRP_COMPLETE_REQUESTS, `IoCompleteRequest was called for IRP ${irp.id}, which was already completed`, irp.id, 0, 0, 0);
    }
    if (status === W.STATUS_PENDING) {
      k.report('COMPLETE_WITH_PENDING', 'IoCompleteRequest was called with Irp->IoStatus.Status still STATUS_PENDING; set the final status first.');
    }
    irp.completed = true;
    irp.completedAt = k.now;
    irp.status = status | 0;
    irp.information = information;
    k.machine.trace.record(k.now, EventKind.IrpComplete, irp.id, irp.status, information);
    if (irp.systemBuffer !== 0) {
      if (irp.major === W.IRP_MJ_READ && status >= 0) k.machine.cpu.copy(irp.userBuffer, irp.systemBuffer, Math.min(information, irp.length));
      this.ExFreePool(irp.systemBuffer);
      irp.systemBuffer = 0;
    }
    irp.onComplete?.(irp);
  }

  /** IoStartPacket: StartIo runs now at DISPATCH_LEVEL if the device is idle, else the IRP queues. */
  IoStartPacket(device: DeviceRecord, irp: IrpRecord): void {
    if (device.currentIrp !== null) {
      device.queue.push(irp);
      return;
    }
    device.currentIrp = irp;
    this.kernel.call(Entry.StartIo, Math.max(W.DISPATCH_LEVEL, this.kernel.irql), device.id, irp.id);
  }

  /** IoStartNextPacket: answers the IRP started, or 0 when the queue was empty (CurrentIrp = NULL). */
  IoStartNextPacket(device: DeviceRecord): number {
    const next = device.queue.shift() ?? null;
    device.currentIrp = next;
    if (next === null) return 0;
    this.kernel.call(Entry.StartIo, Math.max(W.DISPATCH_LEVEL, this.kernel.irql), device.id, next.id);
    return next.id;
  }

  /**
   * IoCallDriver: to one of the driver's own devices, its dispatch routine; to a PDO, the
   * ISA bus driver, which completes PnP IRPs with STATUS_SUCCESS and refuses the rest.
   */
  IoCallDriver(device: DeviceRecord, irp: IrpRecord): number {
    if (!device.isPdo) return this.kernel.call(Entry.Dispatch, this.kernel.irql, device.id, irp.id);
    const status = irp.major === W.IRP_MJ_PNP ? W.STATUS_SUCCESS : W.STATUS_INVALID_DEVICE_REQUEST;
    this.IoCompleteRequest(irp, status, 0);
    return status;
  }

  /** IoForwardIrpSynchronously to the bus driver: the PDO does its part and the IRP comes back. */
  forwardToBus(irp: IrpRecord): number {
    return irp.major === W.IRP_MJ_PNP ? W.STATUS_SUCCESS : W.STATUS_INVALID_DEVICE_REQUEST;
  }

  // ---- PnP --------------------------------------------------------------------------

  /** IRP_MN_START_DEVICE for a PDO's stack, with its raw and translated resources. */
  newStartIrp(pdo: DeviceRecord): IrpRecord {
    const r = pdo.resources!;
    const raw: ResourceDescriptor[] = [];
    const translated: ResourceDescriptor[] = [];
    const port = (d: ResourceDescriptor[]) =>
      d.push({ Type: W.CmResourceTypePort, ShareDisposition: W.CmResourceShareDeviceExclusive, Flags: W.CM_RESOURCE_PORT_IO, u: { Port: { Start: r.ports[0], Length: r.ports[1] - r.ports[0] + 1 } } });
    port(raw);
    port(translated);
    raw.push({ Type: W.CmResourceTypeInterrupt, ShareDisposition: W.CmResourceShareDeviceExclusive, Flags: W.CM_RESOURCE_INTERRUPT_LATCHED, u: { Interrupt: { Level: r.irq, Vector: r.irq, Affinity: 1 } } });
    translated.push({
      Type: W.CmResourceTypeInterrupt,
      ShareDisposition: W.CmResourceShareDeviceExclusive,
      Flags: W.CM_RESOURCE_INTERRUPT_LATCHED,
      u: { Interrupt: { Level: irqToDirql(r.irq), Vector: irqToVector(r.irq), Affinity: 1 } },
    });
    for (const channel of r.channels) {
      const dma = { Type: W.CmResourceTypeDma, ShareDisposition: W.CmResourceShareDeviceExclusive, Flags: channel < 4 ? W.CM_RESOURCE_DMA_8 : W.CM_RESOURCE_DMA_16, u: { Dma: { Channel: channel, Port: 0, Reserved1: 0 } } };
      raw.push(dma);
      translated.push({ ...dma, u: { Dma: { ...dma.u.Dma } } });
    }
    return this.newIrp({ major: W.IRP_MJ_PNP, minor: W.IRP_MN_START_DEVICE, deviceName: pdo.deviceName, resources: { raw, translated } });
  }

  // ---- Pool -------------------------------------------------------------------------

  /** ExAllocatePool2 / ExAllocatePoolWithTag for nonpaged pool: answers a VA or 0 (NULL). */
  ExAllocatePool(bytes: number, tag: number): number {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > 64 * 1024 * 1024) return 0;
    const placement: Placement = { kind: bytes <= 4096 ? 'contiguous' : 'fragmented' };
    const va = this.kernel.machine.space.allocate(bytes, placement) ?? 0;
    if (va !== 0) this.pool.set(va, { bytes, tag, line: this.kernel.line() });
    return va;
  }

  /** ExFreePoolWithTag: false when `va` is not a pool allocation (BAD_POOL_CALLER in Windows). */
  ExFreePool(va: number): boolean {
    if (!this.pool.delete(va)) return false;
    return this.kernel.machine.space.free(va);
  }

  poolAllocations(): number {
    return this.pool.size;
  }

  /** The driver line of the oldest pool allocation not freed, or null. */
  poolLeakLine(): number | null {
    return this.pool.values().next().value?.line ?? null;
  }

  /** A buffer for the workload, placed as the scenario says; not pool, so never a leak. */
  callerBuffer(length: number, placement: Placement): number {
    return this.kernel.machine.space.allocate(length, placement) ?? 0;
  }
}

