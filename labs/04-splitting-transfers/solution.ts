// Lab 04: splitting a transfer (reference solution).
//
//   DispatchReadWrite → IoStartPacket → StartIo: KeFlushIoBuffers, AllocateAdapterChannel
//     (the pages the request spans, at most NumberOfMapRegisters) →
//   AdapterControl: StartPiece, KeepObject →
//   StartPiece: a seek if the heads are elsewhere, else MapTransfer of one piece, READ/WRITE DATA →
//   ISR: the controller's answer, IoRequestDpc →
//   DpcForIsr: after a seek, StartPiece; after a piece, FlushAdapterBuffers, advance CurrentVa
//     and the sector, then StartPiece again with the same MapRegisterBase, or
//     FreeAdapterChannel and complete the IRP.

import {
  type FdcController,
  FDC_OP_NONE,
  FDC_OP_SEEK,
  FDC_OP_TRANSFER,
  FdcAcknowledgeInterrupt,
  FdcBytesToEndOfCylinder,
  FdcHeadsOn,
  FdcInitialize,
  FdcNewController,
  FdcSeekStatus,
  FdcShutdown,
  FdcStartSeek,
  FdcStartTransfer,
  FdcTransferStatus,
  CYLINDER_BYTES,
  DISK_SECTORS,
  SECTOR_SIZE,
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
  // The current IRP, from StartIo until it completes
  WriteToDevice: boolean;
  /** Where the next piece starts in the MDL: MmGetMdlVirtualAddress, then advanced piece by piece. */
  CurrentVa: number;
  /** Where the next piece starts on the disk. */
  Sector: number;
  BytesLeft: number;
  /** Bytes transferred so far: the IRP's Information. */
  BytesDone: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  /** The map registers AllocateAdapterChannel was asked for: what one piece may span. */
  MapRegisterCount: number;
  /** The piece mapped now: the Length its MapTransfer and FlushAdapterBuffers take. */
  PieceLength: number;
  CommandFailed: boolean;
}

// ---- Given: DriverEntry, AddDevice, DispatchPnp, DispatchReadWrite ----------------------

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
    CurrentVa: 0,
    Sector: 0,
    BytesLeft: 0,
    BytesDone: 0,
    MapRegisterBase: 0,
    MapRegisterCount: 0,
    PieceLength: 0,
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
    // The most one command moves: a cylinder. The platform may grant fewer map registers.
    MaximumLength: CYLINDER_BYTES,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  const adapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (adapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = adapter;
  ext.NumberOfMapRegisters = mapRegisters.value;
  DbgPrint('fdc: channel %d, %d map registers\n', description.DmaChannel, ext.NumberOfMapRegisters);

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

/** Whole sectors inside the disk, of any length: StartIo's pieces take care of the rest. */
function DispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const { Length, ByteOffset } = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write : stack.Parameters.Read;
  let status = STATUS_PENDING;
  if (!ext.Started) status = STATUS_DEVICE_NOT_READY;
  else if (
    Irp.MdlAddress === null ||
    Length === 0 ||
    Length % SECTOR_SIZE !== 0 ||
    ByteOffset % SECTOR_SIZE !== 0 ||
    ByteOffset < 0 ||
    ByteOffset / SECTOR_SIZE + Length / SECTOR_SIZE > DISK_SECTORS
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

// ---- The transfer: StartIo, AdapterControl, StartPiece, the ISR, DpcForIsr ---------------

function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const mdl = Irp.MdlAddress!;
  ext.WriteToDevice = stack.MajorFunction === IRP_MJ_WRITE;
  const parameters = ext.WriteToDevice ? stack.Parameters.Write : stack.Parameters.Read;
  ext.CurrentVa = MmGetMdlVirtualAddress(mdl);
  ext.Sector = parameters.ByteOffset / SECTOR_SIZE;
  ext.BytesLeft = parameters.Length;
  ext.BytesDone = 0;
  KeFlushIoBuffers(mdl, !ext.WriteToDevice, true);
  // One AllocateAdapterChannel for the whole request: the channel and these map registers
  // stay the driver's for every piece, until FreeAdapterChannel. A request that spans more
  // pages than IoGetDmaAdapter granted gets them all, and is cut into pieces that fit.
  ext.MapRegisterCount = Math.min(ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, ext.BytesLeft), ext.NumberOfMapRegisters);
  const adapter = ext.DmaAdapter!;
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, ext.MapRegisterCount, AdapterControl, ext);
  if (!NT_SUCCESS(status)) FinishRequest(DeviceObject, status, 0);
}

/** The channel and the map registers are the driver's: start the first piece, and keep them. */
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  void Irp;
  const ext = Context as FdcExtension;
  ext.MapRegisterBase = MapRegisterBase;
  StartPiece(DeviceObject, ext);
  return KeepObject;
}

/**
 * DISPATCH_LEVEL, with the channel held: the piece of the request at ext.CurrentVa and
 * ext.Sector, or first a seek to its cylinder (DpcForIsr calls StartPiece again after it).
 */
function StartPiece(DeviceObject: DEVICE_OBJECT, ext: FdcExtension): void {
  const irp = DeviceObject.CurrentIrp!;
  if (!FdcHeadsOn(ext.Fdc, ext.Sector)) {
    if (!FdcStartSeek(ext.Fdc, ext.Sector)) EndRequest(DeviceObject, ext, STATUS_DEVICE_NOT_READY);
    return;
  }
  // The piece: what is left of the request, but no further than the end of the cylinder
  // (where one READ DATA / WRITE DATA stops) and no more bytes than the map registers held
  // reach from CurrentVa's offset in its page, in whole sectors. (With one map register the
  // whole buffer lies in one page, so the reach is never less than a sector.)
  const reach = ext.MapRegisterCount * PAGE_SIZE - BYTE_OFFSET(ext.CurrentVa);
  ext.PieceLength = Math.min(ext.BytesLeft, FdcBytesToEndOfCylinder(ext.Sector), reach - (reach % SECTOR_SIZE));
  const adapter = ext.DmaAdapter!;
  const length = ref(ext.PieceLength);
  // The same MDL, MapRegisterBase and direction for every piece; CurrentVa and Length move.
  adapter.DmaOperations.MapTransfer(adapter, irp.MdlAddress!, ext.MapRegisterBase, ext.CurrentVa, length, ext.WriteToDevice);
  // For system DMA, Length comes back as it went in; the controller moves exactly this piece.
  ext.CommandFailed = !(length.value === ext.PieceLength && FdcStartTransfer(ext.Fdc, ext.Sector, ext.WriteToDevice));
  if (ext.CommandFailed) IoRequestDpc(DeviceObject, irp, null);
}

function InterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  if (!FdcAcknowledgeInterrupt(ext.Fdc)) return false;
  // The end of a seek or of a piece; START_DEVICE waits for its own interrupts.
  if (ext.Fdc.Operation === FDC_OP_SEEK || ext.Fdc.Operation === FDC_OP_TRANSFER) IoRequestDpc(fdo, fdo.CurrentIrp, null);
  return true;
}

function DpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  void Dpc;
  void Irp;
  void Context;
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const operation = ext.Fdc.Operation;
  ext.Fdc.Operation = FDC_OP_NONE;
  if (operation === FDC_OP_SEEK) {
    const status = FdcSeekStatus(ext.Fdc);
    if (NT_SUCCESS(status)) StartPiece(DeviceObject, ext);
    else EndRequest(DeviceObject, ext, status);
    return;
  }

  // A piece has ended (or never started). Flush it with exactly what its MapTransfer had:
  // once per MapTransfer, before anything else happens to the buffer or the channel.
  const irp = DeviceObject.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!, ext.MapRegisterBase, ext.CurrentVa, ext.PieceLength, ext.WriteToDevice);
  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : FdcTransferStatus(ext.Fdc);
  if (!NT_SUCCESS(status)) {
    DbgPrint('fdc: the piece at sector %d failed: ST0 %02x ST1 %02x ST2 %02x\n', ext.Sector, ext.Fdc.Result[0] ?? 0, ext.Fdc.Result[1] ?? 0, ext.Fdc.Result[2] ?? 0);
    EndRequest(DeviceObject, ext, status);
    return;
  }
  ext.CurrentVa += ext.PieceLength;
  ext.Sector += ext.PieceLength / SECTOR_SIZE;
  ext.BytesLeft -= ext.PieceLength;
  ext.BytesDone += ext.PieceLength;
  // More to do: the channel and the map registers are still the driver's, so the next
  // piece is mapped with the same MapRegisterBase, without another AllocateAdapterChannel.
  if (ext.BytesLeft > 0) StartPiece(DeviceObject, ext);
  else EndRequest(DeviceObject, ext, STATUS_SUCCESS);
}

/** The request is over (nothing is mapped now): give the channel back and complete it. */
function EndRequest(DeviceObject: DEVICE_OBJECT, ext: FdcExtension, status: NTSTATUS): void {
  const adapter = ext.DmaAdapter!;
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  FinishRequest(DeviceObject, status, ext.BytesDone);
}

function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
