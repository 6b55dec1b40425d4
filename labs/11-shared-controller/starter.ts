/* eslint-disable @typescript-eslint/no-unused-vars */
// Lab 11: two floppy controllers on one DMA channel.
//
// This driver is correct, and with one controller it is as fast as any. With two on one
// channel it is slow: run it and read the throughput check. Then change StartIo,
// AdapterControl and DpcForIsr (and add what you need) so that the channel is held only
// while data moves. fdc.ts has FdcNeedsSeek, FdcStartSeek and FdcSeekSucceeded.
//
//   StartIo: KeFlushIoBuffers, AllocateAdapterChannel →
//   AdapterControl: [SEEK → DpcForIsr] → MapAndStart: MapTransfer, READ/WRITE DATA; KeepObject →
//   ISR: result phase, IoRequestDpc →
//   DpcForIsr: FlushAdapterBuffers, FreeAdapterChannel, IoCompleteRequest, IoStartNextPacket

import {
  type FdcController,
  DISK_BYTES,
  FDC_OP_SEEK,
  FDC_OP_TRANSFER,
  FdcAcknowledgeInterrupt,
  FdcInitialize,
  FdcNeedsSeek,
  FdcNewController,
  FdcSeekSucceeded,
  FdcShutdown,
  FdcStartSeek,
  FdcStartTransfer,
  FdcTransferStatus,
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
  // The current IRP's transfer, from StartIo to DpcForIsr
  WriteToDevice: boolean;
  Sector: number;
  Length: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  CommandFailed: boolean;
}

// ---- Given: DriverEntry, AddDevice, DispatchPnp, DispatchReadWrite, InterruptService -------

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
 * Whole sectors of one track, no more pages than the map registers reach; everything else
 * is refused here.
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
    ByteOffset + Length > DISK_BYTES ||
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

function InterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  if (!FdcAcknowledgeInterrupt(ext.Fdc)) return false;
  // A seek's end and a transfer's end go on in DpcForIsr; START_DEVICE waits for its own.
  const operation = ext.Fdc.Operation;
  if (operation === FDC_OP_SEEK || operation === FDC_OP_TRANSFER) IoRequestDpc(fdo, fdo.CurrentIrp, null);
  return true;
}

function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}

// ---- Yours: StartIo, AdapterControl, DpcForIsr ----------------------------------------------------

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

/** The channel is ours: move the heads if they are elsewhere, then map and start the command. */
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as FdcExtension;
  ext.MapRegisterBase = MapRegisterBase;
  if (FdcNeedsSeek(ext.Fdc, ext.Sector)) {
    // DpcForIsr calls MapAndStart when the heads arrive.
    ext.CommandFailed = !FdcStartSeek(ext.Fdc, ext.Sector);
    if (ext.CommandFailed) IoRequestDpc(DeviceObject, Irp, null);
    return KeepObject;
  }
  MapAndStart(DeviceObject, ext);
  return KeepObject;
}

function MapAndStart(DeviceObject: DEVICE_OBJECT, ext: FdcExtension): void {
  const adapter = ext.DmaAdapter!;
  const irp = DeviceObject.CurrentIrp!;
  const mdl = irp.MdlAddress!;
  const length = ref(ext.Length);
  adapter.DmaOperations.MapTransfer(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), length, ext.WriteToDevice);
  ext.CommandFailed = !(length.value === ext.Length && FdcStartTransfer(ext.Fdc, ext.Sector, ext.WriteToDevice));
  if (ext.CommandFailed) IoRequestDpc(DeviceObject, irp, null);
}

function DpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const irp = DeviceObject.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  const mdl = irp.MdlAddress!;
  if (ext.Fdc.Operation === FDC_OP_SEEK) {
    if (FdcSeekSucceeded(ext.Fdc)) {
      MapAndStart(DeviceObject, ext);
      return;
    }
    // No MapTransfer was made: give the channel back and fail the request.
    adapter.DmaOperations.FreeAdapterChannel(adapter);
    FinishRequest(DeviceObject, STATUS_DEVICE_NOT_READY, 0);
    return;
  }
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), ext.Length, ext.WriteToDevice);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : FdcTransferStatus(ext.Fdc);
  FinishRequest(DeviceObject, status, NT_SUCCESS(status) ? ext.Length : 0);
}
