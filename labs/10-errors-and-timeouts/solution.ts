// Lab 10: a device error, and a device that never interrupts (reference solution).
//
//   DispatchReadWrite → IoStartPacket → StartIo: KeFlushIoBuffers, AllocateAdapterChannel →
//   AdapterControl: MapTransfer, KeSetTimer (the watchdog), READ DATA or WRITE DATA, KeepObject →
//   ISR: result phase; the transfer is over; IoRequestDpc →
//   DpcForIsr: KeCancelTimer, FlushAdapterBuffers, FreeAdapterChannel, the result's NTSTATUS,
//              IoCompleteRequest, IoStartNextPacket
// or, when no interrupt comes within a second:
//   TransferTimeout: the transfer is over (KeSynchronizeExecution); FdcRecover (a reset);
//              FlushAdapterBuffers, FreeAdapterChannel, STATUS_IO_TIMEOUT, IoStartNextPacket

import {
  type FdcController,
  FDC_OP_NONE,
  FDC_OP_TRANSFER,
  FdcAcknowledgeInterrupt,
  FdcInitialize,
  FdcNewController,
  FdcRecover,
  FdcShutdown,
  FdcStartTransfer,
  CYLINDER_0_SECTORS,
  IC_NORMAL,
  SECTOR_SIZE,
  SECTORS_PER_TRACK,
  ST0_IC,
  ST1_DE,
  ST1_EN,
  ST1_MA,
  ST1_ND,
  ST1_OR,
  ST2_DD,
  TRACK_BYTES,
} from './fdc';

/**
 * KeSetTimer's DueTime for the watchdog: one second from now (negative = relative, in
 * 100 ns units). The longest request, a whole track, takes about 0.2 s, 0.5 s with the
 * motor's spin-up.
 */
const TRANSFER_TIMEOUT = -10_000_000;

interface FdcExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  Fdc: FdcController;
  Interrupt: KINTERRUPT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
  // The current IRP's transfer, from StartIo to DpcForIsr (or TransferTimeout)
  WriteToDevice: boolean;
  Sector: number;
  Length: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  CommandFailed: boolean;
  // The watchdog: set when a transfer starts, cancelled when its interrupt comes
  Timer: KTIMER;
  TimerDpc: KDPC;
}

// ---- Given: DriverEntry, AddDevice, DispatchPnp, DispatchReadWrite, StartIo --------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  void RegistryPath;
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = DispatchReadWrite;
  DriverObject.DriverStartIo = StartIo;
  return STATUS_SUCCESS;
}

function AddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  const status = IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_DISK, 0, false, fdo);
  if (!NT_SUCCESS(status) || fdo.value === null) return status;
  const device = fdo.value;
  const ext: FdcExtension = {
    Self: device,
    Pdo: PhysicalDeviceObject,
    LowerDevice: null,
    Started: false,
    Fdc: FdcNewController(),
    Interrupt: null,
    DmaAdapter: null,
    NumberOfMapRegisters: 0,
    WriteToDevice: false,
    Sector: 0,
    Length: 0,
    MapRegisterBase: 0,
    CommandFailed: false,
    Timer: {},
    TimerDpc: {},
  };
  device.DeviceExtension = ext;
  // Direct I/O: the I/O manager locks the caller's pages and describes them in an MDL.
  device.Flags |= DO_DIRECT_IO;
  ext.LowerDevice = IoAttachDeviceToDeviceStack(device, PhysicalDeviceObject);
  if (ext.LowerDevice === null) {
    IoDeleteDevice(device);
    return STATUS_DEVICE_NOT_CONNECTED;
  }
  // The ISR's IoRequestDpc queues DpcForIsr.
  IoInitializeDpcRequest(device, DpcForIsr);
  // The watchdog: a timer whose expiry queues TransferTimeout, with the device object as its context.
  KeInitializeTimer(ext.Timer);
  KeInitializeDpc(ext.TimerDpc, TransferTimeout, device);
  device.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  let status: NTSTATUS;

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE:
      IoForwardIrpSynchronously(ext.LowerDevice!, Irp);
      status = Irp.IoStatus.Status;
      if (NT_SUCCESS(status)) status = StartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated);
      Irp.IoStatus.Status = status;
      Irp.IoStatus.Information = 0;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return status;

    case IRP_MN_REMOVE_DEVICE: {
      ReleaseResources(ext);
      Irp.IoStatus.Status = STATUS_SUCCESS;
      IoSkipCurrentIrpStackLocation(Irp);
      const lower = ext.LowerDevice!;
      status = IoCallDriver(lower, Irp);
      IoDetachDevice(lower);
      ext.LowerDevice = null;
      IoDeleteDevice(DeviceObject);
      return status;
    }

    default:
      IoSkipCurrentIrpStackLocation(Irp);
      return IoCallDriver(ext.LowerDevice!, Irp);
  }
}

/** Lab 01's adapter object, the interrupt, and the controller reset and recalibrated. */
function StartDevice(ext: FdcExtension, resources: CM_RESOURCE_LIST | null): NTSTATUS {
  const descriptors = resources?.List[0]?.PartialResourceList.PartialDescriptors ?? [];
  const port = descriptors.find((d) => d.Type === CmResourceTypePort);
  const interrupt = descriptors.find((d) => d.Type === CmResourceTypeInterrupt);
  const dma = descriptors.find((d) => d.Type === CmResourceTypeDma);
  if (port === undefined || interrupt === undefined || dma === undefined) return STATUS_INSUFFICIENT_RESOURCES;
  ext.Fdc.PortBase = port.u.Port.Start;

  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION,
    Master: false,
    ScatterGather: false,
    DemandMode: false,
    AutoInitialize: false,
    Dma32BitAddresses: false,
    IgnoreCount: false,
    Reserved1: false,
    Dma64BitAddresses: false,
    BusNumber: 0,
    DmaChannel: dma.u.Dma.Channel,
    InterfaceType: Isa,
    DmaWidth: Width8Bits,
    DmaSpeed: Compatible,
    MaximumLength: TRACK_BYTES,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  const adapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (adapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = adapter;
  ext.NumberOfMapRegisters = mapRegisters.value;

  const object = ref<KINTERRUPT | null>(null);
  const level = interrupt.u.Interrupt.Level;
  const connected = IoConnectInterrupt(object, InterruptService, ext.Self, null, interrupt.u.Interrupt.Vector, level, level, Latched, false, interrupt.u.Interrupt.Affinity, false);
  if (!NT_SUCCESS(connected) || object.value === null) {
    ReleaseResources(ext);
    return NT_SUCCESS(connected) ? STATUS_INSUFFICIENT_RESOURCES : connected;
  }
  ext.Interrupt = object.value;

  if (!FdcInitialize(ext.Fdc)) {
    ReleaseResources(ext);
    return STATUS_DEVICE_NOT_READY;
  }
  ext.Started = true;
  return STATUS_SUCCESS;
}

function ReleaseResources(ext: FdcExtension): void {
  ext.Started = false;
  // No timer may stay set once the device is gone (KeSetTimer: cancel every active timer).
  KeCancelTimer(ext.Timer);
  FdcShutdown(ext.Fdc);
  if (ext.Interrupt !== null) {
    IoDisconnectInterrupt(ext.Interrupt);
    ext.Interrupt = null;
  }
  if (ext.DmaAdapter !== null) {
    ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);
    ext.DmaAdapter = null;
  }
}

/**
 * Whole sectors of one track on cylinder 0, no more pages than the map registers reach;
 * everything else is refused here.
 */
function DispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const { Length, ByteOffset } = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write : stack.Parameters.Read;
  const first = ByteOffset / SECTOR_SIZE;
  const last = (ByteOffset + Length) / SECTOR_SIZE - 1;
  let status = STATUS_PENDING;
  if (!ext.Started) status = STATUS_DEVICE_NOT_READY;
  else if (
    Irp.MdlAddress === null ||
    Length === 0 ||
    Length % SECTOR_SIZE !== 0 ||
    ByteOffset % SECTOR_SIZE !== 0 ||
    first < 0 ||
    last >= CYLINDER_0_SECTORS ||
    Math.floor(first / SECTORS_PER_TRACK) !== Math.floor(last / SECTORS_PER_TRACK) ||
    ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(Irp.MdlAddress), Length) > ext.NumberOfMapRegisters
  ) {
    status = STATUS_INVALID_PARAMETER;
  }
  if (status !== STATUS_PENDING) {
    Irp.IoStatus.Status = status;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  // StartIo runs the requests one at a time: the controller and its channel do one transfer.
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}

/** Lab 03's StartIo: flush, then ask for the channel; AdapterControl starts the transfer. */
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const mdl = Irp.MdlAddress!;
  ext.WriteToDevice = stack.MajorFunction === IRP_MJ_WRITE;
  const parameters = ext.WriteToDevice ? stack.Parameters.Write : stack.Parameters.Read;
  ext.Sector = parameters.ByteOffset / SECTOR_SIZE;
  ext.Length = parameters.Length;
  KeFlushIoBuffers(mdl, !ext.WriteToDevice, true);
  const adapter = ext.DmaAdapter!;
  const mapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), ext.Length);
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, mapRegisters, AdapterControl, ext);
  if (!NT_SUCCESS(status)) FinishRequest(DeviceObject, status, 0);
}

// ---- AdapterControl, the ISR, DpcForIsr, TransferTimeout -------------------------------

/** The channel and the map registers are ours: map the buffer, set the watchdog, start the command. */
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as FdcExtension;
  const adapter = ext.DmaAdapter!;
  const mdl = Irp!.MdlAddress!;
  ext.MapRegisterBase = MapRegisterBase;
  const length = ref(ext.Length);
  adapter.DmaOperations.MapTransfer(adapter, mdl, MapRegisterBase, MmGetMdlVirtualAddress(mdl), length, ext.WriteToDevice);
  // The watchdog goes on before the command: from here on, either the interrupt or the
  // timer ends the transfer.
  KeSetTimer(ext.Timer, TRANSFER_TIMEOUT, ext.TimerDpc);
  ext.CommandFailed = !(length.value === ext.Length && FdcStartTransfer(ext.Fdc, ext.Sector, ext.WriteToDevice));
  if (ext.CommandFailed) {
    KeCancelTimer(ext.Timer);
    IoRequestDpc(DeviceObject, Irp, null);
  }
  return KeepObject;
}

function InterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  if (!FdcAcknowledgeInterrupt(ext.Fdc)) return false;
  // The end of the transfer, unless the watchdog has already taken it: then this is the
  // reset's interrupt, or one that came too late.
  if (ext.Fdc.Operation === FDC_OP_TRANSFER) {
    ext.Fdc.Operation = FDC_OP_NONE; // from now on TransferTimeout finds nothing to time out
    IoRequestDpc(fdo, fdo.CurrentIrp, null);
  }
  return true;
}

function DpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  void Dpc;
  void Context;
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const irp = Irp ?? DeviceObject.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  const mdl = irp.MdlAddress!;
  // The transfer ended in time: the watchdog goes off. KeCancelTimer answers FALSE when the
  // timer has expired already; its DPC has then either run (and found the transfer taken)
  // or is still queued, where it would run after IoStartNextPacket, against the next
  // transfer: take it out of the queue. (One processor: it cannot be running right now.)
  if (!KeCancelTimer(ext.Timer)) KeRemoveQueueDpc(ext.TimerDpc);
  // Error or not, the transfer is over: flush and give the channel back before completing.
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), ext.Length, ext.WriteToDevice);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : TransferStatus(ext.Fdc.Result);
  FinishRequest(DeviceObject, status, NT_SUCCESS(status) ? ext.Length : 0);
}

/** The NTSTATUS a READ DATA or WRITE DATA result means, as the Windows floppy driver maps it. */
function TransferStatus(result: number[]): NTSTATUS {
  const [st0 = 0, st1 = 0, st2 = 0] = result;
  if (result.length < 7) return STATUS_IO_DEVICE_ERROR; // no proper result phase
  if ((st0 & ST0_IC) === IC_NORMAL && st1 === 0 && st2 === 0) return STATUS_SUCCESS;
  if (st1 & ST1_DE || st2 & ST2_DD) return STATUS_CRC_ERROR;
  if (st1 & ST1_OR) return STATUS_DATA_OVERRUN;
  if (st1 & (ST1_ND | ST1_MA | ST1_EN)) return STATUS_NONEXISTENT_SECTOR;
  return STATUS_DEVICE_DATA_ERROR;
}

/** The watchdog's DPC, at DISPATCH_LEVEL: a second has passed since the command started. */
function TransferTimeout(Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown): void {
  void Dpc;
  void SystemArgument1;
  void SystemArgument2;
  const fdo = DeferredContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  // The interrupt may have come just now: the ISR and this DPC decide who ends the transfer
  // under the interrupt's lock. If the ISR won, DpcForIsr completes the request.
  if (ext.Interrupt === null || !KeSynchronizeExecution(ext.Interrupt, TakeTimedOutTransfer, ext)) return;
  const irp = fdo.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  const mdl = irp.MdlAddress!;
  // Only a reset ends a command that waits for a disk that does not turn. (If the controller
  // does not come back, the next commands fail or time out on their own.)
  FdcRecover(ext.Fdc);
  // The channel is masked and drained, the map registers copied back, the channel freed:
  // the same calls as after an interrupt, once for the one MapTransfer.
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), ext.Length, ext.WriteToDevice);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  FinishRequest(fdo, STATUS_IO_TIMEOUT, 0);
}

/** At the interrupt's SynchronizeIrql: takes the transfer for the watchdog if no interrupt has. */
function TakeTimedOutTransfer(SynchronizeContext: unknown): boolean {
  const ext = SynchronizeContext as FdcExtension;
  if (ext.Fdc.Operation !== FDC_OP_TRANSFER) return false;
  ext.Fdc.Operation = FDC_OP_NONE; // a late interrupt will not queue DpcForIsr
  return true;
}

/** Given: completes the current IRP with `status` and `information`, then starts the next one. */
function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  // A failed request gives the waiting thread no priority boost (IoCompleteRequest's page).
  IoCompleteRequest(irp, NT_SUCCESS(status) ? IO_DISK_INCREMENT : IO_NO_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
