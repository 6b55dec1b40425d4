// Lab 09: scatter/gather on system DMA.
//
// The SCN-1 scanner moves each read through the 8237 on channel 3, and the 8237 moves one
// physically contiguous piece per programming. GetScatterGatherList gives the pieces; the
// card pauses (WAITING) after each segment so the driver can program the next one.
//
// Given: DriverEntry, AddDevice, PnP START/REMOVE, dispatch, the ISR, and ./scanner (the
// card's registers, programChannel and maskChannel). Yours: StartIo, AdapterListControl
// and DpcForIsr, marked "Yours" below.
//
// This starter is a first draft that only knows element 0: a buffer of one piece works,
// anything scattered stops at the first WAITING. Make it walk the whole list.

import {
  CTRL_ABORT,
  CTRL_IEN,
  CTRL_RESET,
  CTRL_START,
  LINE_BYTES,
  MAX_TRANSFER,
  SCANNER_ID,
  SCN_CTRL,
  SCN_ID,
  SCN_STATUS,
  STATUS_DONE,
  STATUS_ERROR,
  STATUS_IRQ,
  STATUS_WAITING,
  isDmaChannel,
  isWordChannel,
  maskChannel,
  programChannel,
  setLines,
  setSegment,
} from './scanner';

interface ScannerExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  PortBase: PORT;
  DmaChannel: number;
  DmaAdapter: DMA_ADAPTER | null;
  DmaAlignment: number;
  Interrupt: KINTERRUPT | null;
  /** STATUS bits the ISR saw and the DPC has not yet taken (shared with the ISR). */
  IsrStatus: number;
  /** What the DPC took from IsrStatus. */
  DpcStatus: number;
  /** The current transfer: its list, the next element to program, its length. */
  ScatterGather: SCATTER_GATHER_LIST | null;
  NextElement: number;
  TransferLength: number;
}

// ---- Given: DriverEntry, AddDevice -----------------------------------------------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint('scn: DriverEntry %s\n', RegistryPath);
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.DriverStartIo = StartIo;
  DriverObject.MajorFunction[IRP_MJ_CREATE] = DispatchCreateClose;
  DriverObject.MajorFunction[IRP_MJ_CLOSE] = DispatchCreateClose;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchRead;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}

function AddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  const status = IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_UNKNOWN, 0, false, fdo);
  if (!NT_SUCCESS(status) || fdo.value === null) return status;
  const device = fdo.value;
  const ext: ScannerExtension = {
    Self: device,
    Pdo: PhysicalDeviceObject,
    LowerDevice: null,
    Started: false,
    PortBase: 0,
    DmaChannel: 0,
    DmaAdapter: null,
    DmaAlignment: 1,
    Interrupt: null,
    IsrStatus: 0,
    DpcStatus: 0,
    ScatterGather: null,
    NextElement: 0,
    TransferLength: 0,
  };
  device.DeviceExtension = ext;
  ext.LowerDevice = IoAttachDeviceToDeviceStack(device, PhysicalDeviceObject);
  if (ext.LowerDevice === null) {
    IoDeleteDevice(device);
    return STATUS_DEVICE_NOT_CONNECTED;
  }
  // Direct I/O: reads arrive with an MDL of the caller's locked pages, which is what
  // GetScatterGatherList describes.
  device.Flags |= DO_DIRECT_IO;
  IoInitializeDpcRequest(device, DpcForIsr);
  device.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

// ---- Given: PnP --------------------------------------------------------------------------------

function StartDevice(ext: ScannerExtension, resources: CM_RESOURCE_LIST | null): NTSTATUS {
  let port: CM_PARTIAL_RESOURCE_DESCRIPTOR | null = null;
  let interrupt: CM_PARTIAL_RESOURCE_DESCRIPTOR | null = null;
  let dma: CM_PARTIAL_RESOURCE_DESCRIPTOR | null = null;
  for (const d of resources?.List[0]?.PartialResourceList.PartialDescriptors ?? []) {
    if (d.Type === CmResourceTypePort && port === null) port = d;
    else if (d.Type === CmResourceTypeInterrupt && interrupt === null) interrupt = d;
    else if (d.Type === CmResourceTypeDma && dma === null) dma = d;
  }
  if (port === null || interrupt === null || dma === null) return STATUS_INSUFFICIENT_RESOURCES;
  const channel = dma.u.Dma.Channel;
  if (!isDmaChannel(channel)) return STATUS_INSUFFICIENT_RESOURCES;

  ext.PortBase = port.u.Port.Start;
  if (READ_PORT_UCHAR(ext.PortBase + SCN_ID) !== SCANNER_ID) return STATUS_DEVICE_NOT_CONNECTED;
  // Quiet the card before its interrupt is connected: idle, IRQ line low.
  WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_RESET);

  // A subordinate device that cannot chain pages itself: the HAL's list is what lets the
  // driver do scatter/gather on the 8237 one element at a time.
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
    DmaChannel: channel,
    InterfaceType: Isa,
    DmaWidth: isWordChannel(channel) ? Width16Bits : Width8Bits,
    DmaSpeed: Compatible,
    MaximumLength: MAX_TRANSFER,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  const adapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (adapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = adapter;
  ext.DmaAlignment = adapter.DmaOperations.GetDmaAlignment(adapter);
  ext.DmaChannel = channel;

  const interruptObject = ref<KINTERRUPT | null>(null);
  const mode = (interrupt.Flags & CM_RESOURCE_INTERRUPT_LATCHED) !== 0 ? Latched : LevelSensitive;
  const status = IoConnectInterrupt(
    interruptObject,
    Isr,
    ext,
    null,
    interrupt.u.Interrupt.Vector,
    interrupt.u.Interrupt.Level,
    interrupt.u.Interrupt.Level,
    mode,
    false,
    interrupt.u.Interrupt.Affinity,
    false,
  );
  if (!NT_SUCCESS(status) || interruptObject.value === null) {
    ReleaseResources(ext);
    return NT_SUCCESS(status) ? STATUS_INSUFFICIENT_RESOURCES : status;
  }
  ext.Interrupt = interruptObject.value;
  ext.Started = true;
  return STATUS_SUCCESS;
}

/** Undoes StartDevice: the card quiet, the interrupt disconnected, the adapter given back. */
function ReleaseResources(ext: ScannerExtension): void {
  ext.Started = false;
  if (ext.PortBase !== 0) WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_RESET);
  if (ext.Interrupt !== null) {
    IoDisconnectInterrupt(ext.Interrupt);
    ext.Interrupt = null;
  }
  if (ext.DmaAdapter !== null) {
    ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);
    ext.DmaAdapter = null;
  }
}

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE: {
      IoForwardIrpSynchronously(ext.LowerDevice!, Irp);
      let status = Irp.IoStatus.Status;
      if (NT_SUCCESS(status)) status = StartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated);
      Irp.IoStatus.Status = status;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return status;
    }
    case IRP_MN_REMOVE_DEVICE: {
      ReleaseResources(ext);
      const lower = ext.LowerDevice!;
      Irp.IoStatus.Status = STATUS_SUCCESS;
      IoSkipCurrentIrpStackLocation(Irp);
      const status = IoCallDriver(lower, Irp);
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

// ---- Given: dispatch -------------------------------------------------------------------------

function CompleteRequest(Irp: IRP, Status: NTSTATUS, Information: number): NTSTATUS {
  Irp.IoStatus.Status = Status;
  Irp.IoStatus.Information = Information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return Status;
}

function DispatchCreateClose(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  return CompleteRequest(Irp, STATUS_SUCCESS, 0);
}

function DispatchRead(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  const length = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  if (!ext.Started) return CompleteRequest(Irp, STATUS_DEVICE_NOT_READY, 0);
  // One read = one scan of whole lines, no larger than the map registers can bounce.
  if (Irp.MdlAddress === null || length === 0 || length % LINE_BYTES !== 0 || length > MAX_TRANSFER) {
    return CompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
  }
  if ((MmGetMdlVirtualAddress(Irp.MdlAddress) & (ext.DmaAlignment - 1)) !== 0) return CompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
  // The card does one scan at a time: the StartIo queue serializes the reads.
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}

// ---- Yours: StartIo, AdapterListControl ------------------------------------------------------

/** StartIo (DISPATCH_LEVEL): asks for the channel and a scatter/gather list of the buffer. */
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  const mdl = Irp.MdlAddress!;
  const adapter = ext.DmaAdapter!;
  ext.TransferLength = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  KeFlushIoBuffers(mdl, true, true);
  const status = adapter.DmaOperations.GetScatterGatherList(adapter, DeviceObject, mdl, MmGetMdlVirtualAddress(mdl), ext.TransferLength, AdapterListControl, ext, false);
  // TODO: if GetScatterGatherList fails, AdapterListControl never runs: complete the read
  // with that status and start the next packet, or the queue stops here.
  DbgPrint('scn: GetScatterGatherList 0x%x\n', status);
}

/**
 * AdapterListControl (DISPATCH_LEVEL): the channel is ours and the list describes the buffer
 * in pieces the 8237 can reach. Keep the list, program element 0, start the scan.
 */
function AdapterListControl(_DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown): void {
  const ext = Context as ScannerExtension;
  ext.ScatterGather = ScatterGather;
  // TODO: remember which element comes next (ext.NextElement), for the DPC.
  const first = ScatterGather.Elements[0]!;
  programChannel(ext.DmaChannel, first.Address, first.Length);
  setLines(ext.PortBase, ext.TransferLength / LINE_BYTES);
  setSegment(ext.PortBase, first.Length);
  WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_IEN | CTRL_START);
}

// ---- Given: the ISR ------------------------------------------------------------------------------

/** ISR (DIRQL): claim the interrupt, acknowledge it, and leave the work to the DPC. */
function Isr(_Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  const ext = ServiceContext as ScannerExtension;
  const status = READ_PORT_UCHAR(ext.PortBase + SCN_STATUS);
  if ((status & STATUS_IRQ) === 0) return false; // not ours
  WRITE_PORT_UCHAR(ext.PortBase + SCN_STATUS, status);
  // Accumulate: a DPC already queued runs once, and must see every event.
  ext.IsrStatus |= status;
  IoRequestDpc(ext.Self, ext.Self.CurrentIrp, status);
  return true;
}

/** Runs at the interrupt's SynchronizeIrql, so the ISR cannot change IsrStatus under it. */
function TakeIsrStatus(SynchronizeContext: unknown): boolean {
  const ext = SynchronizeContext as ScannerExtension;
  ext.DpcStatus = ext.IsrStatus;
  ext.IsrStatus = 0;
  return (ext.DpcStatus & (STATUS_WAITING | STATUS_DONE | STATUS_ERROR)) !== 0;
}

// ---- Yours: the DPC --------------------------------------------------------------------------

/** DpcForIsr (DISPATCH_LEVEL): the next element on WAITING, the end of the transfer on DONE. */
function DpcForIsr(_Dpc: KDPC, DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, _Context: unknown): void {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  if (!KeSynchronizeExecution(ext.Interrupt!, TakeIsrStatus, ext)) return; // an earlier run took it
  const status = ext.DpcStatus;
  const irp = DeviceObject.CurrentIrp;
  const list = ext.ScatterGather;
  if (irp === null || list === null) return; // nothing in progress: a late or stray event

  // TODO: on WAITING (no DONE, no ERROR) with elements left, program the channel for the
  // next element, set SEGMENT to its length, write CTRL = IEN | GO, and return.

  // Draft: every event ends the transfer. Only DONE is success.
  const done = (status & STATUS_DONE) !== 0 && (status & STATUS_ERROR) === 0;
  if (!done) WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_ABORT);
  maskChannel(ext.DmaChannel);
  // PutScatterGatherList copies bounced data back and frees the map registers and the
  // channel, before anyone looks at the buffer.
  const adapter = ext.DmaAdapter!;
  adapter.DmaOperations.PutScatterGatherList(adapter, list, false);
  ext.ScatterGather = null;
  const length = ext.TransferLength;
  IoStartNextPacket(DeviceObject, false);
  CompleteRequest(irp, done ? STATUS_SUCCESS : STATUS_DEVICE_DATA_ERROR, done ? length : 0);
}
