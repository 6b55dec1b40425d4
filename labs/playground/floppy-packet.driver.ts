// Floppy controller (Intel 82077AA, labs/devices/floppy.md): the reference packet-based
// system DMA driver.
//
// Each read or write IRP goes through the StartIo queue and is cut into pieces. A piece
// never leaves its track (one READ DATA / WRITE DATA, EOT = 18, no multi-track) and never
// needs more map registers than IoGetDmaAdapter granted: this is "splitting by the number
// of map registers" (splitting-dma-transfer-requests.md). For each piece:
//
//   [SEEK, when the heads are on another cylinder] → AllocateAdapterChannel →
//   AdapterControl: MapTransfer, READ DATA / WRITE DATA, KeepObject →
//   ISR: result phase, IoRequestDpc →
//   DpcForIsr: FlushAdapterBuffers, FreeAdapterChannel, then the next piece or
//   IoCompleteRequest + IoStartNextPacket.

// ---- The disk and the controller -----------------------------------------------------------

const SECTOR_SIZE = 512;
const SECTORS_PER_TRACK = 18;
const HEADS = 2;
const CYLINDERS = 80;
const TRACK_BYTES = SECTORS_PER_TRACK * SECTOR_SIZE;
const DISK_BYTES = CYLINDERS * HEADS * TRACK_BYTES;

// Register offsets from the port base (PC-AT mode).
const FDC_DOR = 2; // digital output register
const FDC_MSR = 4; // main status register (read)
const FDC_FIFO = 5; // command, parameter and result bytes
const FDC_CCR = 7; // configuration control register (write)

const DOR_RESET = 0x00; // controller held in reset, motors off, DMA gate off
const DOR_RUN_DRIVE0 = 0x1c; // motor 0 on, DMA gate, out of reset, drive 0 selected
const MSR_RQM = 0x80; // the data register is ready for the host
const MSR_DIO = 0x40; // 1: result bytes for the host; 0: the controller wants command bytes
const CCR_500K = 0x00; // 500 kbit/s: the rate 1.44 MB media are recorded at

const CMD_SPECIFY = 0x03;
const CMD_RECALIBRATE = 0x07;
const CMD_SENSE_INTERRUPT = 0x08;
const CMD_SEEK = 0x0f;
const CMD_READ_DATA = 0x46; // MFM, no multi-track: a piece never leaves its track
const CMD_WRITE_DATA = 0x45; // MFM, no multi-track
const SPECIFY_SRT_HUT = 0xdf; // the BIOS's values: 3 ms steps, 240 ms head unload
const SPECIFY_HLT_DMA = 0x02; // 2 ms head load, ND = 0 (DMA mode)
const SIZE_CODE_512 = 2; // N
const GAP_LENGTH = 0x1b; // GPL for 1.44 MB
const DATA_LENGTH = 0xff; // DTL, unused when N != 0
const DRIVE = 0;

const ST0_IC = 0xc0; // interrupt code: 00 normal termination
const ST0_SE = 0x20; // seek end
const IC_INVALID = 0x80; // SENSE INTERRUPT STATUS with nothing to report
const ST1_DE = 0x20; // CRC error
const ST1_OR = 0x10; // overrun / underrun
const ST1_ND = 0x04; // sector not found
const ST1_MA = 0x01; // no address mark

/** MSR polls before the controller is declared hung (each port access takes ~1 µs). */
const RQM_POLLS = 1000;
/** START_DEVICE waits at most this long for the reset's and RECALIBRATE's interrupts. */
const INIT_WAIT_US = 500_000;

// ---- The device extension ----------------------------------------------------------------------

// What the controller is doing, so that the ISR and DpcForIsr know what an interrupt ends.
const OP_NONE = 0;
/** START_DEVICE is resetting and recalibrating; it waits for the interrupts itself. */
const OP_INIT = 1;
/** SEEK or RECALIBRATE under way; its end comes back through SENSE INTERRUPT STATUS. */
const OP_SEEK = 2;
/** READ DATA or WRITE DATA under way on the channel AdapterControl was given. */
const OP_TRANSFER = 3;

interface FdcExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  // Resources (from AllocatedResourcesTranslated)
  PortBase: number;
  Interrupt: KINTERRUPT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
  // Controller state, shared by the ISR and DpcForIsr. The ISR writes it before it queues
  // the DPC, and the controller raises no new interrupt until the driver issues the next
  // command, so the DPC reads it without KeSynchronizeExecution.
  Operation: number;
  InterruptCount: number;
  /** Result bytes of the last READ/WRITE DATA (ST0 ST1 ST2 C H R N), or [ST0, PCN] of a seek end. */
  Result: number[];
  /** Where the heads are (the PCN); −1 = unknown, RECALIBRATE first. */
  Cylinder: number;
  SeekTarget: number;
  // The current IRP (DeviceObject->CurrentIrp) as it progresses, piece by piece
  WriteToDevice: boolean;
  /** MapTransfer's CurrentVa for the next piece: an index into the MDL, never dereferenced. */
  CurrentVa: PVOID;
  Lba: number;
  BytesRemaining: number;
  BytesTransferred: number;
  // The piece on the channel now
  PieceLength: number;
  PieceMapRegisters: number;
  MapRegisterBase: MAP_REGISTER_BASE;
  CommandFailed: boolean;
}

// ---- DriverEntry, AddDevice, Unload ------------------------------------------------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  void RegistryPath;
  DriverObject.DriverExtension.AddDevice = FdcAddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = FdcDispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_READ] = FdcDispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = FdcDispatchReadWrite;
  DriverObject.DriverStartIo = FdcStartIo;
  DriverObject.DriverUnload = FdcUnload;
  return STATUS_SUCCESS;
}

function FdcAddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  const status = IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_DISK, 0, false, fdo);
  if (!NT_SUCCESS(status) || fdo.value === null) return status;
  const device = fdo.value;
  const ext: FdcExtension = {
    Self: device,
    Pdo: PhysicalDeviceObject,
    LowerDevice: null,
    Started: false,
    PortBase: 0,
    Interrupt: null,
    DmaAdapter: null,
    NumberOfMapRegisters: 0,
    Operation: OP_NONE,
    InterruptCount: 0,
    Result: [],
    Cylinder: -1,
    SeekTarget: 0,
    WriteToDevice: false,
    CurrentVa: 0,
    Lba: 0,
    BytesRemaining: 0,
    BytesTransferred: 0,
    PieceLength: 0,
    PieceMapRegisters: 0,
    MapRegisterBase: 0,
    CommandFailed: false,
  };
  device.DeviceExtension = ext;
  // Direct I/O: the I/O manager locks the caller's pages and describes them in an MDL,
  // which is what MapTransfer maps.
  device.Flags |= DO_DIRECT_IO;
  ext.LowerDevice = IoAttachDeviceToDeviceStack(device, PhysicalDeviceObject);
  if (ext.LowerDevice === null) {
    IoDeleteDevice(device);
    return STATUS_DEVICE_NOT_CONNECTED;
  }
  // The ISR's IoRequestDpc queues this DpcForIsr.
  IoInitializeDpcRequest(device, FdcDpcForIsr);
  device.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function FdcUnload(DriverObject: DRIVER_OBJECT): void {
  // REMOVE_DEVICE has already given everything back and deleted the device object.
  void DriverObject;
}

// ---- Plug and Play --------------------------------------------------------------------------

function FdcDispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  let status: NTSTATUS;

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE:
      // The bus driver starts the device first; then this driver uses its resources.
      IoForwardIrpSynchronously(ext.LowerDevice!, Irp);
      status = Irp.IoStatus.Status;
      if (NT_SUCCESS(status)) status = FdcStartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated);
      Irp.IoStatus.Status = status;
      Irp.IoStatus.Information = 0;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return status;

    case IRP_MN_REMOVE_DEVICE: {
      FdcReleaseResources(ext);
      // Pass the IRP to the bus driver, then leave the stack and delete the device object.
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
      // Not ours to handle: the bus driver below answers.
      IoSkipCurrentIrpStackLocation(Irp);
      return IoCallDriver(ext.LowerDevice!, Irp);
  }
}

function FdcStartDevice(ext: FdcExtension, resources: CM_RESOURCE_LIST | null): NTSTATUS {
  const descriptors = resources?.List[0]?.PartialResourceList.PartialDescriptors ?? [];
  const port = descriptors.find((d) => d.Type === CmResourceTypePort);
  const interrupt = descriptors.find((d) => d.Type === CmResourceTypeInterrupt);
  const dma = descriptors.find((d) => d.Type === CmResourceTypeDma);
  if (port === undefined || interrupt === undefined || dma === undefined) return STATUS_INSUFFICIENT_RESOURCES;
  ext.PortBase = port.u.Port.Start;

  // The adapter object for the device's system DMA channel. The floppy controller is a
  // subordinate ISA device on an 8-bit channel; the largest transfer is one track.
  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION,
    Master: false,
    ScatterGather: false,
    DemandMode: false, // single mode: the 82077AA raises DRQ once per byte
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

  // ISA interrupts are edge-triggered (Latched). Vector and Level are the translated ones.
  const object = ref<KINTERRUPT | null>(null);
  const level = interrupt.u.Interrupt.Level;
  const connected = IoConnectInterrupt(object, FdcInterruptService, ext.Self, null, interrupt.u.Interrupt.Vector, level, level, Latched, false, interrupt.u.Interrupt.Affinity, false);
  if (!NT_SUCCESS(connected) || object.value === null) {
    FdcReleaseResources(ext);
    return NT_SUCCESS(connected) ? STATUS_INSUFFICIENT_RESOURCES : connected;
  }
  ext.Interrupt = object.value;

  if (!FdcInitializeController(ext)) {
    DbgPrint('fdc: the controller did not answer reset and recalibrate\n');
    FdcReleaseResources(ext);
    return STATUS_DEVICE_NOT_READY;
  }
  ext.Started = true;
  DbgPrint('fdc: channel %d, IRQ vector 0x%x, %d map registers\n', description.DmaChannel, interrupt.u.Interrupt.Vector, ext.NumberOfMapRegisters);
  return STATUS_SUCCESS;
}

/** Everything START_DEVICE took, given back (REMOVE_DEVICE, or a start that failed). */
function FdcReleaseResources(ext: FdcExtension): void {
  ext.Started = false;
  // Motor off and the controller held in reset: it raises no interrupt and no DRQ from now on.
  if (ext.PortBase !== 0) WRITE_PORT_UCHAR(ext.PortBase + FDC_DOR, DOR_RESET);
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
 * Reset, data rate, SPECIFY, RECALIBRATE (floppy.md, "Programming a one-sector read", steps
 * 1–6). Runs at PASSIVE_LEVEL with the interrupt connected; the lab has no KEVENT to wait
 * on, so it stalls in 50 µs steps while the machine runs and the ISR counts interrupts.
 * The motor's 300 ms spin-up is left to the controller: the first READ DATA waits for it.
 */
function FdcInitializeController(ext: FdcExtension): boolean {
  ext.Operation = OP_INIT;
  let seen = ext.InterruptCount;
  WRITE_PORT_UCHAR(ext.PortBase + FDC_DOR, DOR_RESET);
  WRITE_PORT_UCHAR(ext.PortBase + FDC_DOR, DOR_RUN_DRIVE0);
  // The reset's interrupt: the ISR collects the four ready changes with SENSE INTERRUPT STATUS.
  if (!FdcWaitForInterrupt(ext, seen)) return false;
  WRITE_PORT_UCHAR(ext.PortBase + FDC_CCR, CCR_500K);
  if (!FdcWriteCommand(ext, [CMD_SPECIFY, SPECIFY_SRT_HUT, SPECIFY_HLT_DMA])) return false;
  // A reset clears the PCN but does not move the heads: recalibrate.
  seen = ext.InterruptCount;
  if (!FdcWriteCommand(ext, [CMD_RECALIBRATE, DRIVE])) return false;
  if (!FdcWaitForInterrupt(ext, seen)) return false;
  const [st0 = IC_INVALID, pcn = -1] = ext.Result;
  ext.Operation = OP_NONE;
  if ((st0 & (ST0_IC | ST0_SE)) !== ST0_SE || pcn !== 0) return false;
  ext.Cylinder = 0;
  return true;
}

function FdcWaitForInterrupt(ext: FdcExtension, seen: number): boolean {
  for (let waited = 0; ext.InterruptCount === seen; waited += 50) {
    if (waited >= INIT_WAIT_US) return false;
    KeStallExecutionProcessor(50);
  }
  return true;
}

// ---- The controller's command and result phases -------------------------------------------

/** Polls the MSR until RQM; answers the MSR, or −1 when the controller never gets ready. */
function FdcWaitForRqm(ext: FdcExtension): number {
  for (let i = 0; i < RQM_POLLS; i++) {
    const msr = READ_PORT_UCHAR(ext.PortBase + FDC_MSR);
    if (msr & MSR_RQM) return msr;
  }
  return -1;
}

/** The command phase: each byte after RQM = 1, DIO = 0. */
function FdcWriteCommand(ext: FdcExtension, bytes: number[]): boolean {
  for (const byte of bytes) {
    const msr = FdcWaitForRqm(ext);
    if (msr < 0 || msr & MSR_DIO) return false;
    WRITE_PORT_UCHAR(ext.PortBase + FDC_FIFO, byte);
  }
  return true;
}

/** The result phase: bytes while RQM = 1, DIO = 1 (at most 7). */
function FdcReadResult(ext: FdcExtension): number[] {
  const bytes: number[] = [];
  while (bytes.length < 7) {
    const msr = FdcWaitForRqm(ext);
    if (msr < 0 || (msr & MSR_DIO) === 0) break;
    bytes.push(READ_PORT_UCHAR(ext.PortBase + FDC_FIFO));
  }
  return bytes;
}

// ---- Read and write -----------------------------------------------------------------------

function FdcDispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const parameters = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write : stack.Parameters.Read;
  const { Length, ByteOffset } = parameters;

  let status = STATUS_PENDING;
  if (!ext.Started) status = STATUS_DEVICE_NOT_READY;
  else if (Length === 0) status = STATUS_SUCCESS;
  else if (Irp.MdlAddress === null || Length % SECTOR_SIZE !== 0 || ByteOffset % SECTOR_SIZE !== 0 || ByteOffset < 0 || ByteOffset + Length > DISK_BYTES) {
    // Whole sectors inside the disk only: the controller moves nothing smaller.
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

function FdcStartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const mdl = Irp.MdlAddress!;
  ext.WriteToDevice = stack.MajorFunction === IRP_MJ_WRITE;
  const parameters = ext.WriteToDevice ? stack.Parameters.Write : stack.Parameters.Read;
  // MmGetMdlVirtualAddress gives the index into the MDL the first MapTransfer starts from.
  ext.CurrentVa = MmGetMdlVirtualAddress(mdl);
  ext.Lba = parameters.ByteOffset / SECTOR_SIZE;
  ext.BytesRemaining = parameters.Length;
  ext.BytesTransferred = 0;
  FdcStartPiece(DeviceObject, ext);
}

/** Starts the next piece of the current IRP at DISPATCH_LEVEL: a seek first if the heads are elsewhere. */
function FdcStartPiece(DeviceObject: DEVICE_OBJECT, ext: FdcExtension): void {
  const cylinder = Math.floor(ext.Lba / (SECTORS_PER_TRACK * HEADS));
  const head = Math.floor(ext.Lba / SECTORS_PER_TRACK) % HEADS;
  if (ext.Cylinder !== cylinder) {
    // Seek without the adapter channel: another device may use the DMA controller meanwhile.
    ext.Operation = OP_SEEK;
    ext.SeekTarget = ext.Cylinder < 0 ? 0 : cylinder;
    const command = ext.Cylinder < 0 ? [CMD_RECALIBRATE, DRIVE] : [CMD_SEEK, (head << 2) | DRIVE, cylinder];
    if (!FdcWriteCommand(ext, command)) {
      ext.Operation = OP_NONE;
      FdcFinishRequest(DeviceObject, ext, STATUS_DEVICE_NOT_READY);
    }
    return; // DpcForIsr goes on when the seek ends
  }

  // The piece: the rest of the request, but no further than the end of this track and no
  // more pages than the map registers IoGetDmaAdapter granted, in whole sectors.
  let length = Math.min(ext.BytesRemaining, (SECTORS_PER_TRACK - (ext.Lba % SECTORS_PER_TRACK)) * SECTOR_SIZE);
  if (ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, length) > ext.NumberOfMapRegisters) {
    const reach = ext.NumberOfMapRegisters * PAGE_SIZE - BYTE_OFFSET(ext.CurrentVa);
    length = Math.floor(reach / SECTOR_SIZE) * SECTOR_SIZE;
  }
  if (length === 0) {
    // One map register and a sector that crosses a page: no piece can be mapped.
    FdcFinishRequest(DeviceObject, ext, STATUS_INSUFFICIENT_RESOURCES);
    return;
  }
  ext.PieceLength = length;
  ext.PieceMapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, length);
  // KeFlushIoBuffers just before allocating the controller, for every piece: where DMA does
  // not snoop the cache, the last piece's copy out of the map registers may have pulled
  // this piece's first bytes into a cache line that DMA would bypass.
  KeFlushIoBuffers(DeviceObject.CurrentIrp!.MdlAddress!, !ext.WriteToDevice, true);
  const adapter = ext.DmaAdapter!;
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, ext.PieceMapRegisters, FdcAdapterControl, ext);
  if (!NT_SUCCESS(status)) FdcFinishRequest(DeviceObject, ext, status);
}

/**
 * AdapterControl: the channel and PieceMapRegisters map registers are ours. Map the piece,
 * start the controller, and keep the channel (KeepObject: system DMA) until DpcForIsr has
 * flushed the piece.
 */
function FdcAdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as FdcExtension;
  const adapter = ext.DmaAdapter!;
  ext.MapRegisterBase = MapRegisterBase;
  ext.Operation = OP_TRANSFER;
  ext.CommandFailed = false;

  // MapTransfer programs the 8237 (through map registers when the buffer is out of its
  // reach); Length comes back as what it mapped. Its logical address is not ours to use.
  const length = ref(ext.PieceLength);
  adapter.DmaOperations.MapTransfer(adapter, Irp!.MdlAddress!, MapRegisterBase, ext.CurrentVa, length, ext.WriteToDevice);
  if (length.value > 0 && length.value <= ext.PieceLength && length.value % SECTOR_SIZE === 0) {
    ext.PieceLength = length.value;
    // T/C after the piece's last byte ends the command; EOT = 18 keeps it on this track.
    const cylinder = Math.floor(ext.Lba / (SECTORS_PER_TRACK * HEADS));
    const head = Math.floor(ext.Lba / SECTORS_PER_TRACK) % HEADS;
    const sector = (ext.Lba % SECTORS_PER_TRACK) + 1;
    const opcode = ext.WriteToDevice ? CMD_WRITE_DATA : CMD_READ_DATA;
    if (FdcWriteCommand(ext, [opcode, (head << 2) | DRIVE, cylinder, head, sector, SIZE_CODE_512, SECTORS_PER_TRACK, GAP_LENGTH, DATA_LENGTH])) return KeepObject;
  }
  // No transfer started: let DpcForIsr flush, free the channel and fail the IRP.
  ext.CommandFailed = true;
  IoRequestDpc(DeviceObject, Irp, null);
  return KeepObject;
}

// ---- Interrupt and DPC --------------------------------------------------------------------

/**
 * The ISR, at DIRQL: take the controller's answer, which also drops its INT, and leave
 * the rest to DpcForIsr. A READ/WRITE DATA ends in a result phase; a seek, a recalibrate
 * and a reset end with statuses collected by SENSE INTERRUPT STATUS.
 */
function FdcInterruptService(Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  void Interrupt;
  const fdo = ServiceContext as DEVICE_OBJECT;
  const ext = fdo.DeviceExtension as FdcExtension;
  const msr = READ_PORT_UCHAR(ext.PortBase + FDC_MSR);
  if ((msr & (MSR_RQM | MSR_DIO)) === (MSR_RQM | MSR_DIO)) {
    ext.Result = FdcReadResult(ext);
  } else if ((msr & (MSR_RQM | MSR_DIO)) === MSR_RQM) {
    let ours = false;
    for (let drive = 0; drive < 4; drive++) {
      if (!FdcWriteCommand(ext, [CMD_SENSE_INTERRUPT])) break;
      const status = FdcReadResult(ext);
      if (status.length < 2 || status[0] === IC_INVALID) break;
      ours = true;
      if ((status[0]! & 0x03) === DRIVE) ext.Result = status;
    }
    if (!ours) return false;
  } else {
    return false; // mid-command: this interrupt is not the controller's
  }
  ext.InterruptCount++;
  IoRequestDpc(fdo, fdo.CurrentIrp, null);
  return true;
}

function FdcDpcForIsr(Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  void Dpc;
  void Irp;
  void Context;
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const operation = ext.Operation;
  if (operation === OP_SEEK) {
    ext.Operation = OP_NONE;
    const [st0 = IC_INVALID, pcn = -1] = ext.Result;
    if ((st0 & (ST0_IC | ST0_SE)) !== ST0_SE || pcn !== ext.SeekTarget) {
      ext.Cylinder = -1;
      FdcFinishRequest(DeviceObject, ext, STATUS_DEVICE_NOT_READY);
      return;
    }
    ext.Cylinder = pcn;
    FdcStartPiece(DeviceObject, ext);
    return;
  }
  if (operation !== OP_TRANSFER) return; // START_DEVICE's interrupts: it waits for those itself
  ext.Operation = OP_NONE;

  const irp = DeviceObject.CurrentIrp!;
  const adapter = ext.DmaAdapter!;
  // Once per MapTransfer: drain the controller and, for a read through map registers,
  // copy the data out to the caller's pages.
  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!, ext.MapRegisterBase, ext.CurrentVa, ext.PieceLength, ext.WriteToDevice);
  // Give the channel back now: the next piece may need a seek first, and another device
  // may use the DMA controller meanwhile.
  adapter.DmaOperations.FreeAdapterChannel(adapter);

  const status = ext.CommandFailed ? STATUS_DEVICE_NOT_READY : FdcResultStatus(ext.Result);
  if (!NT_SUCCESS(status)) {
    DbgPrint('fdc: sector %d failed: ST0 %02x ST1 %02x ST2 %02x\n', ext.Lba, ext.Result[0] ?? 0, ext.Result[1] ?? 0, ext.Result[2] ?? 0);
    ext.Cylinder = -1; // recalibrate before the next request
    FdcFinishRequest(DeviceObject, ext, status);
    return;
  }
  ext.CurrentVa += ext.PieceLength;
  ext.Lba += ext.PieceLength / SECTOR_SIZE;
  ext.BytesRemaining -= ext.PieceLength;
  ext.BytesTransferred += ext.PieceLength;
  if (ext.BytesRemaining > 0) FdcStartPiece(DeviceObject, ext);
  else FdcFinishRequest(DeviceObject, ext, STATUS_SUCCESS);
}

/** An NTSTATUS for the result phase of READ DATA / WRITE DATA. */
function FdcResultStatus(result: number[]): NTSTATUS {
  const [st0 = IC_INVALID, st1 = 0, st2 = 0] = result;
  if (result.length < 7) return STATUS_IO_DEVICE_ERROR;
  if ((st0 & ST0_IC) === 0 && st1 === 0 && st2 === 0) return STATUS_SUCCESS;
  if (st1 & ST1_DE) return STATUS_CRC_ERROR;
  if (st1 & ST1_OR) return STATUS_DATA_OVERRUN;
  if (st1 & (ST1_ND | ST1_MA)) return STATUS_NONEXISTENT_SECTOR;
  return STATUS_DEVICE_DATA_ERROR;
}

/** Completes DeviceObject->CurrentIrp and lets StartIo have the next one. */
function FdcFinishRequest(DeviceObject: DEVICE_OBJECT, ext: FdcExtension, status: NTSTATUS): void {
  const irp = DeviceObject.CurrentIrp!;
  irp.IoStatus.Status = status;
  irp.IoStatus.Information = ext.BytesTransferred;
  IoCompleteRequest(irp, IO_DISK_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
}
