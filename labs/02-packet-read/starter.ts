// Lab 02: a packet-based read.
//
// DriverEntry, AddDevice, DispatchPnp and DispatchReadWrite are given, and fdc.ts speaks to
// the floppy controller. You write the four routines at the bottom, which take one IRP
// through the system DMA controller:
//
//   DispatchReadWrite → IoStartPacket → StartIo: KeFlushIoBuffers, AllocateAdapterChannel →
//   AdapterControl: MapTransfer, READ DATA, KeepObject →
//   ISR: result phase, IoRequestDpc →
//   DpcForIsr: FlushAdapterBuffers, FreeAdapterChannel, IoCompleteRequest, IoStartNextPacket

// Some of what is imported, and AdapterControl, are used only once your routines are written.
/* eslint-disable @typescript-eslint/no-unused-vars */
import {
  type FdcController,
  FDC_OP_TRANSFER,
  FdcAcknowledgeInterrupt,
  FdcInitialize,
  FdcNewController,
  FdcShutdown,
  FdcStartRead,
  FdcTransferStatus,
  CYLINDER_0_SECTORS,
  SECTOR_SIZE,
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
  Sector: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  CommandFailed: boolean;
}

// ---- Given: DriverEntry, AddDevice, DispatchPnp, DispatchReadWrite ----------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  void RegistryPath;
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchReadWrite;
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
    Sector: 0,
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

/** One sector on cylinder 0, into a locked buffer; everything else is refused here. */
function DispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const { Length, ByteOffset } = IoGetCurrentIrpStackLocation(Irp).Parameters.Read;
  let status = STATUS_PENDING;
  if (!ext.Started) status = STATUS_DEVICE_NOT_READY;
  else if (Irp.MdlAddress === null || Length !== SECTOR_SIZE || ByteOffset % SECTOR_SIZE !== 0 || ByteOffset < 0 || ByteOffset / SECTOR_SIZE >= CYLINDER_0_SECTORS) {
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

// ---- Written in this lab: StartIo, AdapterControl, the ISR, DpcForIsr ---------------------

function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  ext.Sector = stack.Parameters.Read.ByteOffset / SECTOR_SIZE;
  // TODO: KeFlushIoBuffers for the IRP's MDL (a read: ReadOperation true, DmaOperation true),
  // then ask for the channel and the map registers one sector needs:
  //   ext.DmaAdapter!.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject,
  //     ADDRESS_AND_SIZE_TO_SPAN_PAGES(MmGetMdlVirtualAddress(mdl), SECTOR_SIZE), AdapterControl, ext)
  // The IRP then stays pending until DpcForIsr completes it.
  FinishRequest(DeviceObject, STATUS_NOT_IMPLEMENTED, 0);
}

/** Called when the channel and the map registers are the driver's. */
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as FdcExtension;
  void DeviceObject;
  void Irp;
  void ext;
  void MapRegisterBase;
  // TODO: keep MapRegisterBase, MapTransfer one sector of the MDL (WriteToDevice false),
  // then FdcStartRead(ext.Fdc, ext.Sector). If either fails, note it in ext.CommandFailed
  // and IoRequestDpc so that DpcForIsr cleans up. Keep the channel until the DPC.
  return DeallocateObject;
}

function InterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  // Given: takes the controller's answer, or says the interrupt was not the controller's.
  // START_DEVICE counts on it for its own reset and recalibrate.
  if (!FdcAcknowledgeInterrupt(ext.Fdc)) return false;
  // TODO: when a transfer has ended (ext.Fdc.Operation === FDC_OP_TRANSFER), queue DpcForIsr.
  return true;
}

function DpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  void Dpc;
  void DeviceObject;
  void Irp;
  void Context;
  // TODO: FlushAdapterBuffers with the same MDL, MapRegisterBase, CurrentVa, length and
  // direction as the MapTransfer; FreeAdapterChannel; then FinishRequest with
  // FdcTransferStatus(ext.Fdc) (or STATUS_DEVICE_NOT_READY when ext.CommandFailed).
}

function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
