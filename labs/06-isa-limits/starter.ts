// Lab 06: buffers the 8237 cannot reach.
//
// A colleague made lab 03's driver "faster": StartIo takes the buffer's physical address
// from MmGetPhysicalAddress and programs the 8237 itself — no AllocateAdapterChannel, no
// AdapterControl, no MapTransfer, no FlushAdapterBuffers. The first request comes back
// right. Run it and read what happens to the others; then put the adapter object back
// between the driver and the DMA controller. The rest of the driver is given and correct.
//
//   DispatchReadWrite → IoStartPacket → StartIo: MmGetPhysicalAddress, the 8237's ports,
//     READ DATA or WRITE DATA →
//   ISR: result phase, IoRequestDpc →
//   DpcForIsr: mask the channel, IoCompleteRequest, IoStartNextPacket

import {
  type FdcController,
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
  /** The 8237 channel, from the CmResourceTypeDma descriptor (the fast path's). */
  DmaChannel: number;
  // The current IRP's transfer, from StartIo to DpcForIsr
  WriteToDevice: boolean;
  Sector: number;
  Length: number;
  MapRegisterBase: MAP_REGISTER_BASE;
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
    DmaChannel: 0,
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
  ext.DmaChannel = dma.u.Dma.Channel;

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

// ---- The fast path: the 8237's ports, written by the driver --------------------------------

// The AT's first DMA controller, channels 0–3 (hw/i8237a.md §3, §4, §19).
const DMA1_SINGLE_MASK = 0x0a;
const DMA1_MODE = 0x0b;
const DMA1_CLEAR_BYTE_POINTER = 0x0c;
const DMA_MASK_SET = 0x04;
const DMA_MODE_SINGLE_WRITE = 0x44; // single transfers, device → memory
const DMA_MODE_SINGLE_READ = 0x48; // single transfers, memory → device
const DMA_ADDRESS_PORT = [0x00, 0x02, 0x04, 0x06];
const DMA_COUNT_PORT = [0x01, 0x03, 0x05, 0x07];
const DMA_PAGE_PORT = [0x87, 0x83, 0x81, 0x82];

/** The classic sequence: mask, byte pointer, mode, address, page, count − 1, unmask. */
function ProgramDmaChannel(channel: number, physical: PHYSICAL_ADDRESS, length: number, writeToDevice: boolean): void {
  WRITE_PORT_UCHAR(DMA1_SINGLE_MASK, DMA_MASK_SET | channel);
  WRITE_PORT_UCHAR(DMA1_CLEAR_BYTE_POINTER, 0);
  WRITE_PORT_UCHAR(DMA1_MODE, (writeToDevice ? DMA_MODE_SINGLE_READ : DMA_MODE_SINGLE_WRITE) | channel);
  WRITE_PORT_UCHAR(DMA_ADDRESS_PORT[channel]!, physical & 0xff);
  WRITE_PORT_UCHAR(DMA_ADDRESS_PORT[channel]!, (physical >> 8) & 0xff);
  WRITE_PORT_UCHAR(DMA_PAGE_PORT[channel]!, (physical >> 16) & 0xff);
  WRITE_PORT_UCHAR(DMA_COUNT_PORT[channel]!, (length - 1) & 0xff);
  WRITE_PORT_UCHAR(DMA_COUNT_PORT[channel]!, ((length - 1) >> 8) & 0xff);
  WRITE_PORT_UCHAR(DMA1_SINGLE_MASK, channel);
}

// ---- StartIo, the ISR, DpcForIsr: what you rewrite ------------------------------------------

function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const mdl = Irp.MdlAddress!;
  ext.WriteToDevice = stack.MajorFunction === IRP_MJ_WRITE;
  const parameters = ext.WriteToDevice ? stack.Parameters.Write : stack.Parameters.Read;
  ext.Sector = parameters.ByteOffset / SECTOR_SIZE;
  ext.Length = parameters.Length;
  KeFlushIoBuffers(mdl, !ext.WriteToDevice, true);
  // "Direct I/O locked the pages, so their physical address cannot change while the
  // transfer runs: why wait for an adapter channel and copy through map registers?"
  const va = MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority);
  if (va === null) {
    FinishRequest(DeviceObject, STATUS_INSUFFICIENT_RESOURCES, 0);
    return;
  }
  ProgramDmaChannel(ext.DmaChannel, MmGetPhysicalAddress(va), ext.Length, ext.WriteToDevice);
  ext.CommandFailed = !FdcStartTransfer(ext.Fdc, ext.Sector, ext.WriteToDevice);
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
  ext.Fdc.Operation = 0;
  WRITE_PORT_UCHAR(DMA1_SINGLE_MASK, DMA_MASK_SET | ext.DmaChannel);
  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : FdcTransferStatus(ext.Fdc);
  FinishRequest(DeviceObject, status, NT_SUCCESS(status) ? ext.Length : 0);
}

function FinishRequest(DeviceObject: DEVICE_OBJECT, status: NTSTATUS, information: number): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = information;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
