// SCN-1 line scanner: reference scatter/gather driver (labs/devices/scanner.md).
//
// The SCN-1 is a subordinate device on a system DMA channel, and the 8237 moves one
// physically contiguous piece per programming. The card pauses after each segment, so the
// driver gets the buffer's pieces from GetScatterGatherList and reprograms the channel for
// each element in turn: scatter/gather on system DMA (using-scatter-gather-dma.md).
//
// StartIo -> GetScatterGatherList -> AdapterListControl (element 0, START)
//   -> ISR (WAITING) -> DpcForIsr (next element, GO) -> ... -> ISR (DONE)
//   -> DpcForIsr: PutScatterGatherList, IoCompleteRequest, IoStartNextPacket.

// ---- The device ----------------------------------------------------------------------------

const SCN_CTRL = 0;
const SCN_STATUS = 1;
const SCN_LINES_LO = 2;
const SCN_LINES_HI = 3;
const SCN_SEGMENT_LO = 4;
const SCN_SEGMENT_HI = 5;
const SCN_SEGMENT_XHI = 6;
const SCN_ID = 7;

const CTRL_START = 0x01;
const CTRL_GO = 0x02;
const CTRL_IEN = 0x04;
const CTRL_ABORT = 0x08;
const CTRL_RESET = 0x80;

const STATUS_WAITING = 0x02;
const STATUS_DONE = 0x04;
const STATUS_ERROR = 0x08;
const STATUS_IRQ = 0x80;

const SCANNER_ID = 0x5c;

/** The card's line length (the datasheet's default; the card has no register for it). */
const LINE_BYTES = 2048;
/** The largest read accepted: MaximumLength for IoGetDmaAdapter, so the map registers cover a bounced buffer. */
const MAX_TRANSFER = 16 * LINE_BYTES;

// ---- The 8237 pair ------------------------------------------------------------------------------

interface DmaChannelPorts {
  Address: PORT;
  Count: PORT;
  Page: PORT;
  Mask: PORT;
  Mode: PORT;
  ClearBytePointer: PORT;
  /** Channels 5-7 count words and address memory in words. */
  Word: boolean;
}

const dma1 = (ch: number, page: PORT): DmaChannelPorts => ({ Address: ch * 2, Count: ch * 2 + 1, Page: page, Mask: 0x0a, Mode: 0x0b, ClearBytePointer: 0x0c, Word: false });
const dma2 = (ch: number, page: PORT): DmaChannelPorts => ({ Address: 0xc0 + (ch & 3) * 4, Count: 0xc2 + (ch & 3) * 4, Page: page, Mask: 0xd4, Mode: 0xd6, ClearBytePointer: 0xd8, Word: true });

/** Ports of each system DMA channel on the AT; channel 4 is the cascade. */
const DMA_CHANNELS: (DmaChannelPorts | null)[] = [dma1(0, 0x87), dma1(1, 0x83), dma1(2, 0x81), dma1(3, 0x82), null, dma2(5, 0x8b), dma2(6, 0x89), dma2(7, 0x8a)];

const DMA_MASK_SET = 0x04;
/** Single mode, write transfer (I/O -> memory), address increment, no auto-initialize. */
const DMA_MODE_SINGLE_WRITE = 0x44;

// ---- Device extension ------------------------------------------------------------------------

interface ScannerExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  PortBase: PORT;
  DmaChannel: number;
  Dma: DmaChannelPorts | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
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

// ---- DriverEntry, AddDevice --------------------------------------------------------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint('scn: DriverEntry %s\n', RegistryPath);
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.DriverStartIo = StartIo;
  DriverObject.DriverUnload = Unload;
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
    Dma: null,
    DmaAdapter: null,
    NumberOfMapRegisters: 0,
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
  // GetScatterGatherList maps.
  device.Flags |= DO_DIRECT_IO;
  IoInitializeDpcRequest(device, DpcForIsr);
  device.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function Unload(_DriverObject: DRIVER_OBJECT): void {
  // Every device object went at IRP_MN_REMOVE_DEVICE; nothing is left to free.
  DbgPrint('scn: Unload\n');
}

// ---- PnP -------------------------------------------------------------------------------------

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
  const ports = DMA_CHANNELS[channel] ?? null;
  if (ports === null) return STATUS_INSUFFICIENT_RESOURCES;

  ext.PortBase = port.u.Port.Start;
  if (READ_PORT_UCHAR(ext.PortBase + SCN_ID) !== SCANNER_ID) return STATUS_DEVICE_NOT_CONNECTED;
  // Quiet the card before its interrupt is connected: idle, IRQ line low.
  WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_RESET);

  // A subordinate device: the system DMA controller does the transfers. The channel and its
  // width come from the resources, so the driver follows the card to another channel.
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
    DmaWidth: ports.Word ? Width16Bits : Width8Bits,
    DmaSpeed: Compatible,
    MaximumLength: MAX_TRANSFER,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  const adapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (adapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = adapter;
  ext.NumberOfMapRegisters = mapRegisters.value;
  ext.DmaAlignment = adapter.DmaOperations.GetDmaAlignment(adapter);
  ext.DmaChannel = channel;
  ext.Dma = ports;

  // The translated Vector and Level are what IoConnectInterrupt takes; ISA is edge-triggered.
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
  DbgPrint('scn: ports 0x%x, channel %d, %d map registers\n', ext.PortBase, channel, ext.NumberOfMapRegisters);
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
      // The bus driver starts the device first; then this driver takes its resources.
      IoForwardIrpSynchronously(ext.LowerDevice!, Irp);
      let status = Irp.IoStatus.Status;
      if (NT_SUCCESS(status)) status = StartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated);
      Irp.IoStatus.Status = status;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return status;
    }
    case IRP_MN_REMOVE_DEVICE: {
      // Release what START took, pass the IRP down, then leave the stack.
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

function DispatchCreateClose(_DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = 0;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}

// ---- Reads -----------------------------------------------------------------------------------

function CompleteRequest(Irp: IRP, Status: NTSTATUS, Information: number): NTSTATUS {
  Irp.IoStatus.Status = Status;
  Irp.IoStatus.Information = Information;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return Status;
}

function DispatchRead(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  const length = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  if (!ext.Started) return CompleteRequest(Irp, STATUS_DEVICE_NOT_READY, 0);
  // One read = one scan of whole lines, no larger than the map registers can bounce.
  if (Irp.MdlAddress === null || length === 0 || length % LINE_BYTES !== 0 || length > MAX_TRANSFER) {
    return CompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
  }
  // A 16-bit channel moves whole words from even addresses.
  if ((MmGetMdlVirtualAddress(Irp.MdlAddress) & (ext.DmaAlignment - 1)) !== 0) return CompleteRequest(Irp, STATUS_INVALID_PARAMETER, 0);
  // The device does one scan at a time: the StartIo queue serializes the reads.
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}

/** StartIo (DISPATCH_LEVEL): asks for the channel and a scatter/gather list of the buffer. */
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  const mdl = Irp.MdlAddress!;
  const adapter = ext.DmaAdapter!;
  ext.TransferLength = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  // Before a DMA read: no dirty cache line may later overwrite what the device writes.
  KeFlushIoBuffers(mdl, true, true);
  const status = adapter.DmaOperations.GetScatterGatherList(adapter, DeviceObject, mdl, MmGetMdlVirtualAddress(mdl), ext.TransferLength, AdapterListControl, ext, false);
  if (!NT_SUCCESS(status)) {
    // No list, so nothing to put back: fail this read and go on to the next.
    DbgPrint('scn: GetScatterGatherList failed 0x%x\n', status);
    IoStartNextPacket(DeviceObject, false);
    CompleteRequest(Irp, status, 0);
  }
}

/** Programs the channel for one element: mask, byte pointer, mode, address, page, count - 1, unmask. */
function ProgramDmaChannel(ext: ScannerExtension, Element: SCATTER_GATHER_ELEMENT): void {
  const p = ext.Dma!;
  const local = ext.DmaChannel & 3;
  const address = p.Word ? (Element.Address >>> 1) & 0xffff : Element.Address & 0xffff;
  const count = (p.Word ? Element.Length >>> 1 : Element.Length) - 1;
  WRITE_PORT_UCHAR(p.Mask, DMA_MASK_SET | local);
  WRITE_PORT_UCHAR(p.ClearBytePointer, 0);
  WRITE_PORT_UCHAR(p.Mode, DMA_MODE_SINGLE_WRITE | local);
  WRITE_PORT_UCHAR(p.Address, address & 0xff);
  WRITE_PORT_UCHAR(p.Address, (address >>> 8) & 0xff);
  WRITE_PORT_UCHAR(p.Page, (Element.Address >>> 16) & 0xff);
  WRITE_PORT_UCHAR(p.Count, count & 0xff);
  WRITE_PORT_UCHAR(p.Count, (count >>> 8) & 0xff);
  WRITE_PORT_UCHAR(p.Mask, local);
}

function MaskDmaChannel(ext: ScannerExtension): void {
  WRITE_PORT_UCHAR(ext.Dma!.Mask, DMA_MASK_SET | (ext.DmaChannel & 3));
}

function WriteSegment(ext: ScannerExtension, Length: number): void {
  WRITE_PORT_UCHAR(ext.PortBase + SCN_SEGMENT_LO, Length & 0xff);
  WRITE_PORT_UCHAR(ext.PortBase + SCN_SEGMENT_HI, (Length >>> 8) & 0xff);
  WRITE_PORT_UCHAR(ext.PortBase + SCN_SEGMENT_XHI, (Length >>> 16) & 0xff);
}

/**
 * AdapterListControl (DISPATCH_LEVEL): the channel is ours and the list describes the
 * buffer in controller-reachable pieces (none crosses 64 KiB; pieces above 16 MiB are
 * bounce pages). Keep the list for PutScatterGatherList, then start the scan on element 0.
 */
function AdapterListControl(_DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown): void {
  const ext = Context as ScannerExtension;
  ext.ScatterGather = ScatterGather;
  ext.NextElement = 1;
  const first = ScatterGather.Elements[0]!;
  ProgramDmaChannel(ext, first);
  const lines = ext.TransferLength / LINE_BYTES;
  WRITE_PORT_UCHAR(ext.PortBase + SCN_LINES_LO, lines & 0xff);
  WRITE_PORT_UCHAR(ext.PortBase + SCN_LINES_HI, (lines >>> 8) & 0xff);
  WriteSegment(ext, first.Length);
  WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_IEN | CTRL_START);
}

// ---- Interrupt and DPC ---------------------------------------------------------------------------

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

/** DpcForIsr (DISPATCH_LEVEL): next element, or the end of the transfer. */
function DpcForIsr(_Dpc: KDPC, DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, _Context: unknown): void {
  const ext = DeviceObject.DeviceExtension as ScannerExtension;
  if (!KeSynchronizeExecution(ext.Interrupt!, TakeIsrStatus, ext)) return; // an earlier run took it
  const status = ext.DpcStatus;
  const irp = DeviceObject.CurrentIrp;
  const list = ext.ScatterGather;
  if (irp === null || list === null) return; // nothing in progress: a late or stray event

  if ((status & (STATUS_ERROR | STATUS_DONE)) === 0 && ext.NextElement < list.NumberOfElements) {
    // The card waits with its motor stopped: point the channel at the next piece, size the
    // segment to it, and let the card go on.
    const element = list.Elements[ext.NextElement++]!;
    ProgramDmaChannel(ext, element);
    WriteSegment(ext, element.Length);
    WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_IEN | CTRL_GO);
    return;
  }

  // The transfer is over: DONE, ERROR, or a pause with no element left (the card and the
  // list disagree, so stop the card). PutScatterGatherList copies bounced data back and
  // frees the map registers and the channel, before anyone looks at the buffer.
  const done = (status & STATUS_DONE) !== 0 && (status & STATUS_ERROR) === 0 && ext.NextElement === list.NumberOfElements;
  if (!done) WRITE_PORT_UCHAR(ext.PortBase + SCN_CTRL, CTRL_ABORT);
  MaskDmaChannel(ext);
  const adapter = ext.DmaAdapter!;
  adapter.DmaOperations.PutScatterGatherList(adapter, list, false);
  ext.ScatterGather = null;
  const length = ext.TransferLength;
  if (!done) DbgPrint('scn: scan failed, STATUS 0x%02x\n', status);
  IoStartNextPacket(DeviceObject, false);
  CompleteRequest(irp, done ? STATUS_SUCCESS : STATUS_DEVICE_DATA_ERROR, done ? length : 0);
}
