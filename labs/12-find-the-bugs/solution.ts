// Lab 12: find the bugs (the driver with its bugs fixed).
//
// Packet-based system DMA for the floppy controller, with requests anywhere on cylinder 0:
// a request that crosses from head 0's track to head 1's is two pieces, two MapTransfer
// calls, two FlushAdapterBuffers, on one adapter channel.
//
//   DispatchReadWrite → IoStartPacket → StartIo: KeFlushIoBuffers, AllocateAdapterChannel →
//   AdapterControl: MapTransfer (the first piece), READ DATA or WRITE DATA, KeepObject →
//   ISR: result phase, IoRequestDpc →
//   DpcForIsr: FlushAdapterBuffers; MapTransfer for the next piece, or FreeAdapterChannel,
//     IoCompleteRequest, IoStartNextPacket

import {
  type FdcController,
  FDC_OP_NONE,
  FDC_OP_TRANSFER,
  FdcAcknowledgeInterrupt,
  FdcInitialize,
  FdcNewController,
  FdcShutdown,
  FdcStartTransfer,
  FdcTransferStatus,
  CYLINDER_0_SECTORS,
  SECTOR_SIZE,
  SECTORS_PER_TRACK,
  TRACK_BYTES,
} from './fdc';

interface FdcExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  Fdc: FdcController;
  Interrupt: KINTERRUPT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
  /** What GetDmaAlignment answered: a buffer must start at a multiple of it. */
  DmaAlignment: number;
  // The current IRP, from StartIo to its completion
  WriteToDevice: boolean;
  /** The first sector of the current piece. */
  Sector: number;
  /** The request's length. */
  Length: number;
  /** Where the current piece starts in the buffer, and the bytes from there to the end of the request. */
  CurrentVa: PVOID;
  Remaining: number;
  /** The current piece: what MapTransfer mapped and FlushAdapterBuffers flushes. */
  PieceLength: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  CommandFailed: boolean;
}

/** Offset of the media descriptor byte in a FAT boot sector's BIOS parameter block. */
const BPB_MEDIA = 0x15;

// ---- DriverEntry, AddDevice, PnP, DispatchReadWrite ---------------------------------------

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
    DmaAlignment: 0,
    WriteToDevice: false,
    Sector: 0,
    Length: 0,
    CurrentVa: 0,
    Remaining: 0,
    PieceLength: 0,
    MapRegisterBase: 0,
    CommandFailed: false,
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

/** The adapter object, the interrupt, and the controller reset and recalibrated. */
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
  ext.DmaAlignment = adapter.DmaOperations.GetDmaAlignment(adapter);

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
 * Whole sectors on cylinder 0 (either head: a request may cross from one track to the
 * next), in a buffer the adapter's alignment allows, spanning no more pages than the map
 * registers reach; everything else is refused here.
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
    (MmGetMdlVirtualAddress(Irp.MdlAddress) & (ext.DmaAlignment - 1)) !== 0 ||
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

// ---- StartIo, AdapterControl, the ISR, DpcForIsr -----------------------------------------

function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const mdl = Irp.MdlAddress!;
  const adapter = ext.DmaAdapter!;
  ext.WriteToDevice = stack.MajorFunction === IRP_MJ_WRITE;
  const parameters = ext.WriteToDevice ? stack.Parameters.Write : stack.Parameters.Read;
  ext.Sector = parameters.ByteOffset / SECTOR_SIZE;
  ext.Length = parameters.Length;
  ext.CurrentVa = MmGetMdlVirtualAddress(mdl);
  ext.Remaining = parameters.Length;
  // Map registers for the whole request: every piece is mapped with the same ones.
  const mapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, ext.Length);
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, mapRegisters, AdapterControl, ext);
  if (!NT_SUCCESS(status)) FinishRequest(DeviceObject, status, 0);
}

/** The channel and the map registers are ours until the request is done: start the first piece. */
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as FdcExtension;
  ext.MapRegisterBase = MapRegisterBase;
  StartPiece(DeviceObject, Irp!);
  return KeepObject;
}

/** Maps what is left of the request up to the end of its track, and sends READ DATA or WRITE DATA. */
function StartPiece(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const adapter = ext.DmaAdapter!;
  const toTrackEnd = (SECTORS_PER_TRACK - (ext.Sector % SECTORS_PER_TRACK)) * SECTOR_SIZE;
  ext.PieceLength = Math.min(ext.Remaining, toTrackEnd);
  // Before every transfer, in both directions: a write's data may still be in the cache
  // only; a read's buffer may have stale lines that would hide what the controller stores.
  KeFlushIoBuffers(Irp.MdlAddress!, !ext.WriteToDevice, true);
  const length = ref(ext.PieceLength);
  adapter.DmaOperations.MapTransfer(adapter, Irp.MdlAddress!, ext.MapRegisterBase, ext.CurrentVa, length, ext.WriteToDevice);
  ext.CommandFailed = !(length.value === ext.PieceLength && FdcStartTransfer(ext.Fdc, ext.Sector, ext.WriteToDevice));
  if (ext.CommandFailed) IoRequestDpc(DeviceObject, Irp, null);
}

function InterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  if (!FdcAcknowledgeInterrupt(ext.Fdc)) return false;
  if (ext.Fdc.Operation === FDC_OP_TRANSFER) IoRequestDpc(fdo, fdo.CurrentIrp, null);
  return true;
}

function DpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  void Dpc;
  void Context;
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const irp = Irp ?? DeviceObject.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  const mdl = irp.MdlAddress!;
  ext.Fdc.Operation = FDC_OP_NONE;
  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : FdcTransferStatus(ext.Fdc);
  // One FlushAdapterBuffers per MapTransfer, with the same CurrentVa and Length.
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, ext.CurrentVa, ext.PieceLength, ext.WriteToDevice);
  if (NT_SUCCESS(status) && ext.Sector === 0 && !ext.WriteToDevice) LogMediaDescriptor(mdl);
  ext.CurrentVa += ext.PieceLength;
  ext.Sector += ext.PieceLength / SECTOR_SIZE;
  ext.Remaining -= ext.PieceLength;
  if (NT_SUCCESS(status) && ext.Remaining > 0) {
    StartPiece(DeviceObject, irp); // the next track, on the channel and map registers still held
    return;
  }
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  FinishRequest(DeviceObject, status, NT_SUCCESS(status) ? ext.Length : 0);
}

/** The boot sector has just been read: note what kind of disk this is. */
function LogMediaDescriptor(mdl: MDL): void {
  const va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
  if (va !== null) DbgPrint('fdc: boot sector read, media descriptor 0x%02X\n', READ_MEMORY_UCHAR(va + BPB_MEDIA));
}

function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
