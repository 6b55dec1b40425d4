// Sound Blaster 16: reference common-buffer, auto-initialize driver (labs/devices/sound.md).
//
// 16-bit stereo PCM at 44,100 Hz on the card's 16-bit system DMA channel. The 8237 runs in
// auto-initialize mode over one common buffer (a ring of two halves) that MapTransfer
// programs once per stream; the DSP interrupts at the end of each half, and the DpcForIsr
// refills (playback) or empties (capture) the half the controller has just left, as
// using-common-buffer-system-dma.md describes.
//
// START_DEVICE: IoGetDmaAdapter, AllocateCommonBuffer, IoAllocateMdl +
//   MmBuildMdlForNonPagedPool, IoConnectInterrupt, DSP reset.
// StartIo (first IRP) -> [fill both halves] -> AllocateAdapterChannel -> AdapterControl:
//   MapTransfer over the whole ring, program the DSP, KeepObject.
// ISR (end of a half) -> DpcForIsr: ReadDmaCounter says which half is free; move the next
//   data; complete IRPs; IoStartNextPacket for more data.
// End of data: D9h (exit auto-initialize); at its interrupt FlushAdapterBuffers,
//   FreeAdapterChannel.
// A write completes once its sound has been played (a block after its last byte was
// fetched), so the last write is heard before its caller can close or remove the device.

// ---- The card ---------------------------------------------------------------------------------

// Ports, as offsets from the base (2x0h).
const SB_MIXER_ADDRESS = 0x4;
const SB_MIXER_DATA = 0x5;
const SB_DSP_RESET = 0x6;
const SB_DSP_READ_DATA = 0xa;
const SB_DSP_WRITE = 0xc; // also the write-buffer status on read
const SB_DSP_READ_STATUS = 0xe; // reading it acknowledges the 8-bit interrupt
const SB_DSP_ACK16 = 0xf; // reading it acknowledges the 16-bit interrupt

const DSP_BUSY = 0x80; // bit 7 of 2xCh
const DSP_DATA_AVAILABLE = 0x80; // bit 7 of 2xEh
const DSP_READY = 0xaa;

const MIXER_IRQ_STATUS = 0x82;
const IRQ_STATUS_DMA8 = 0x01;
const IRQ_STATUS_DMA16 = 0x02;

const DSP_SET_OUTPUT_RATE = 0x41;
const DSP_SET_INPUT_RATE = 0x42;
const DSP_PLAY16_AUTO = 0xb6; // 16-bit, D/A, auto-initialize, FIFO on
const DSP_RECORD16_AUTO = 0xbe; // 16-bit, A/D, auto-initialize, FIFO on
const DSP_MODE_STEREO_SIGNED = 0x30;
const DSP_PAUSE16 = 0xd5;
const DSP_EXIT_AUTO16 = 0xd9;
const DSP_GET_VERSION = 0xe1;

// ---- The stream ----------------------------------------------------------------------------------

const SAMPLE_RATE = 44_100;
/** The ring: a multiple of PAGE_SIZE (using-common-buffer-system-dma.md), about 46 ms of sound. */
const COMMON_BUFFER_BYTES = 8192;
/** One DSP block: the DSP interrupts at the end of each half of the ring. */
const HALF = COMMON_BUFFER_BYTES / 2;
/** The DSP counts its block in 16-bit samples (both channels), minus one. */
const BLOCK_SAMPLES = HALF / 2;

// ---- Device extension -----------------------------------------------------------------------------

/**
 * An IRP whose data is all moved, waiting to be completed: a write once the DSP has played
 * it, a read once the next read takes over or the stream has stopped.
 */
interface HeldIrp {
  Irp: IRP;
  /** The DSP block (counted from the start of the stream) that held its last byte. */
  LastBlock: number;
}

interface SoundExtension {
  Self: DEVICE_OBJECT;
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  Started: boolean;
  Removed: boolean;
  PortBase: PORT;
  Interrupt: KINTERRUPT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
  CommonBufferVa: PVOID;
  CommonBufferLogical: PHYSICAL_ADDRESS;
  CommonBufferMdl: MDL | null;
  MapRegisterBase: MAP_REGISTER_BASE;

  /** The adapter channel is ours and the DSP is running over the ring. */
  Streaming: boolean;
  /** IRP_MJ_WRITE (playback) or IRP_MJ_READ (capture). */
  Direction: number;
  /** D9h has been sent: the block now moving is the last one. */
  Stopping: boolean;
  /** DSP blocks that have ended since the stream started. */
  BlocksDone: number;
  /** Playback: whether each half holds sound (false: silence). */
  HalfHasData: boolean[];
  /** IRPs whose data is all moved, oldest first. */
  Held: HeldIrp[];
  /** CurrentIrp's buffer in system space, its length, and the bytes moved so far. */
  IrpVa: PVOID;
  IrpLength: number;
  IrpOffset: number;
}

function extensionOf(DeviceObject: DEVICE_OBJECT): SoundExtension {
  return DeviceObject.DeviceExtension as SoundExtension;
}

// ---- DriverEntry, AddDevice, Unload -----------------------------------------------------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint(`sb16: DriverEntry ${RegistryPath}\n`);
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.DriverStartIo = StartIo;
  DriverObject.DriverUnload = Unload;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_WRITE] = DispatchReadWrite;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}

function AddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  const status = IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_SOUND, 0, false, fdo);
  if (!NT_SUCCESS(status) || fdo.value === null) return status;
  const DeviceObject = fdo.value;
  const ext: SoundExtension = {
    Self: DeviceObject,
    Pdo: PhysicalDeviceObject,
    LowerDevice: null,
    Started: false,
    Removed: false,
    PortBase: 0,
    Interrupt: null,
    DmaAdapter: null,
    NumberOfMapRegisters: 0,
    CommonBufferVa: 0,
    CommonBufferLogical: 0,
    CommonBufferMdl: null,
    MapRegisterBase: 0,
    Streaming: false,
    Direction: 0,
    Stopping: false,
    BlocksDone: 0,
    HalfHasData: [false, false],
    Held: [],
    IrpVa: 0,
    IrpLength: 0,
    IrpOffset: 0,
  };
  DeviceObject.DeviceExtension = ext;
  ext.LowerDevice = IoAttachDeviceToDeviceStack(DeviceObject, PhysicalDeviceObject);
  if (ext.LowerDevice === null) {
    IoDeleteDevice(DeviceObject);
    return STATUS_NO_MEMORY;
  }
  // Direct I/O: each IRP brings an MDL of the caller's locked pages to copy from or to.
  DeviceObject.Flags |= DO_DIRECT_IO;
  IoInitializeDpcRequest(DeviceObject, DpcForIsr);
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function Unload(_DriverObject: DRIVER_OBJECT): void {
  DbgPrint('sb16: Unload\n');
}

// ---- The DSP's ports --------------------------------------------------------------------------------

/** Writes a command or argument byte once the DSP's write buffer is free. */
function DspWrite(ext: SoundExtension, Value: number): boolean {
  for (let i = 0; i < 100; i++) {
    if ((READ_PORT_UCHAR(ext.PortBase + SB_DSP_WRITE) & DSP_BUSY) === 0) {
      WRITE_PORT_UCHAR(ext.PortBase + SB_DSP_WRITE, Value);
      return true;
    }
  }
  return false;
}

/** Reads the DSP's next byte, or -1 if none comes within about 1 ms. */
function DspRead(ext: SoundExtension): number {
  for (let i = 0; i < 500; i++) {
    if ((READ_PORT_UCHAR(ext.PortBase + SB_DSP_READ_STATUS) & DSP_DATA_AVAILABLE) !== 0) return READ_PORT_UCHAR(ext.PortBase + SB_DSP_READ_DATA);
    KeStallExecutionProcessor(1);
  }
  return -1;
}

/** Reset: 1 for at least 3 µs, then 0; the DSP answers 0AAh about 100 µs later. */
function DspReset(ext: SoundExtension): boolean {
  WRITE_PORT_UCHAR(ext.PortBase + SB_DSP_RESET, 1);
  KeStallExecutionProcessor(3);
  WRITE_PORT_UCHAR(ext.PortBase + SB_DSP_RESET, 0);
  return DspRead(ext) === DSP_READY;
}

// ---- PnP ----------------------------------------------------------------------------------------------

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  const stack = IoGetCurrentIrpStackLocation(Irp);
  let status: NTSTATUS;

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE:
      // The bus driver starts the device first; then the function driver takes its resources.
      IoForwardIrpSynchronously(ext.LowerDevice!, Irp);
      status = NT_SUCCESS(Irp.IoStatus.Status) ? StartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated) : Irp.IoStatus.Status;
      if (!NT_SUCCESS(status)) ReleaseResources(ext);
      ext.Started = NT_SUCCESS(status);
      Irp.IoStatus.Status = status;
      IoCompleteRequest(Irp, IO_NO_INCREMENT);
      return status;

    case IRP_MN_REMOVE_DEVICE: {
      ext.Removed = true;
      ext.Started = false;
      if (ext.Streaming) {
        // Normally every stream has ended by now; if not, stop the card and give back the channel.
        const old = ref(PASSIVE_LEVEL);
        KeRaiseIrql(DISPATCH_LEVEL, old);
        AbortStream(ext);
        KeLowerIrql(old.value);
        DspReset(ext);
      }
      ReleaseResources(ext);
      // The PDO's bus driver finishes the remove; then this device object goes.
      IoSkipCurrentIrpStackLocation(Irp);
      status = IoCallDriver(ext.LowerDevice!, Irp);
      IoDetachDevice(ext.LowerDevice!);
      IoDeleteDevice(DeviceObject);
      return status;
    }

    default:
      IoSkipCurrentIrpStackLocation(Irp);
      return IoCallDriver(ext.LowerDevice!, Irp);
  }
}

function StartDevice(ext: SoundExtension, resources: CM_RESOURCE_LIST | null): NTSTATUS {
  const descriptors = resources?.List[0]?.PartialResourceList.PartialDescriptors ?? [];
  const port = descriptors.find((d) => d.Type === CmResourceTypePort);
  const interrupt = descriptors.find((d) => d.Type === CmResourceTypeInterrupt);
  // Two DMA descriptors: the 8-bit and the 16-bit channel. 16-bit PCM goes on the 16-bit one.
  const dma = descriptors.find((d) => d.Type === CmResourceTypeDma && (d.Flags & CM_RESOURCE_DMA_16) !== 0);
  if (port === undefined || interrupt === undefined || dma === undefined) return STATUS_INSUFFICIENT_RESOURCES;
  ext.PortBase = port.u.Port.Start;

  if (!DspReset(ext)) {
    DbgPrint('sb16: no 0AAh after reset at 0x%x\n', ext.PortBase);
    return STATUS_DEVICE_NOT_CONNECTED;
  }
  DspWrite(ext, DSP_GET_VERSION);
  const major = DspRead(ext);
  const minor = DspRead(ext);
  if (major < 4) {
    DbgPrint('sb16: DSP version %d.%02d, 16-bit DMA needs 4.xx\n', major, minor);
    return STATUS_DEVICE_NOT_CONNECTED;
  }

  // A subordinate device on the ISA system DMA controller, cycling over one ring.
  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION,
    Master: false,
    ScatterGather: false,
    DemandMode: false, // single mode, as Creative's guide says
    AutoInitialize: true, // the 8237 reloads itself at the end of the ring
    Dma32BitAddresses: false,
    IgnoreCount: false,
    Reserved1: false,
    Dma64BitAddresses: false,
    BusNumber: 0,
    DmaChannel: dma.u.Dma.Channel,
    InterfaceType: Isa,
    DmaWidth: Width16Bits, // channels 5-7 move words
    DmaSpeed: Compatible,
    MaximumLength: COMMON_BUFFER_BYTES,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  ext.DmaAdapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (ext.DmaAdapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.NumberOfMapRegisters = mapRegisters.value;

  // The HAL places the common buffer where the controller can reach it: below 16 MiB,
  // physically contiguous, inside one 128 KiB page.
  const logical = ref<PHYSICAL_ADDRESS>(0);
  const va = ext.DmaAdapter.DmaOperations.AllocateCommonBuffer(ext.DmaAdapter, COMMON_BUFFER_BYTES, logical, false);
  if (va === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.CommonBufferVa = va;
  ext.CommonBufferLogical = logical.value; // kept only for FreeCommonBuffer
  // MapTransfer takes an MDL: one describing the common buffer.
  ext.CommonBufferMdl = IoAllocateMdl(va, COMMON_BUFFER_BYTES, false, false, null);
  if (ext.CommonBufferMdl === null) return STATUS_INSUFFICIENT_RESOURCES;
  MmBuildMdlForNonPagedPool(ext.CommonBufferMdl);

  const object = ref<KINTERRUPT | null>(null);
  const connected = IoConnectInterrupt(
    object,
    SoundIsr,
    ext,
    null,
    interrupt.u.Interrupt.Vector,
    interrupt.u.Interrupt.Level,
    interrupt.u.Interrupt.Level,
    Latched, // ISA interrupts are edge-triggered
    false,
    interrupt.u.Interrupt.Affinity,
    false,
  );
  if (!NT_SUCCESS(connected)) return connected;
  ext.Interrupt = object.value;

  DbgPrint('sb16: DSP %d.%02d at 0x%x, channel %d, %d map registers, ring at 0x%x\n', major, minor, ext.PortBase, description.DmaChannel, ext.NumberOfMapRegisters, ext.CommonBufferLogical);
  return STATUS_SUCCESS;
}

/** Gives back whatever START_DEVICE took, in reverse order (PASSIVE_LEVEL). */
function ReleaseResources(ext: SoundExtension): void {
  if (ext.Interrupt !== null) {
    IoDisconnectInterrupt(ext.Interrupt);
    ext.Interrupt = null;
  }
  if (ext.CommonBufferMdl !== null) {
    IoFreeMdl(ext.CommonBufferMdl);
    ext.CommonBufferMdl = null;
  }
  const adapter = ext.DmaAdapter;
  if (adapter !== null) {
    if (ext.CommonBufferVa !== 0) {
      adapter.DmaOperations.FreeCommonBuffer(adapter, COMMON_BUFFER_BYTES, ext.CommonBufferLogical, ext.CommonBufferVa, false);
      ext.CommonBufferVa = 0;
    }
    adapter.DmaOperations.PutDmaAdapter(adapter);
    ext.DmaAdapter = null;
  }
}

// ---- Reads and writes -------------------------------------------------------------------------------

function DispatchReadWrite(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const length = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write.Length : stack.Parameters.Read.Length;
  let status = STATUS_SUCCESS;
  if (!ext.Started) status = ext.Removed ? STATUS_DELETE_PENDING : STATUS_DEVICE_NOT_READY;
  else if (Irp.MdlAddress === null && length > 0) status = STATUS_INVALID_PARAMETER;
  if (!NT_SUCCESS(status) || length === 0) {
    Irp.IoStatus.Status = status;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  // One stream at a time, in order: the StartIo queue keeps the sound in the callers' order.
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}

/** Runs (DISPATCH_LEVEL) each time an IRP becomes DeviceObject->CurrentIrp. */
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = extensionOf(DeviceObject);
  const stack = IoGetCurrentIrpStackLocation(Irp);
  const va = ext.Removed ? null : MmGetSystemAddressForMdlSafe(Irp.MdlAddress!, NormalPagePriority);
  if (va === null) {
    Irp.IoStatus.Status = ext.Removed ? STATUS_DELETE_PENDING : STATUS_INSUFFICIENT_RESOURCES;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    IoStartNextPacket(DeviceObject, false);
    return;
  }
  ext.IrpVa = va;
  ext.IrpLength = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write.Length : stack.Parameters.Read.Length;
  ext.IrpOffset = 0;
  // A running stream takes the IRP's data at its next half-buffer interrupt.
  if (!ext.Streaming) StartStream(DeviceObject, ext, stack.MajorFunction);
}

/** Whether CurrentIrp is one the running stream moves data for. */
function CurrentIrpFits(DeviceObject: DEVICE_OBJECT, ext: SoundExtension): boolean {
  const irp = DeviceObject.CurrentIrp;
  return irp !== null && IoGetCurrentIrpStackLocation(irp).MajorFunction === ext.Direction;
}

function StartStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Direction: number): void {
  ext.Streaming = true;
  ext.Direction = Direction;
  ext.Stopping = false;
  ext.BlocksDone = 0;
  // Playback: both halves hold sound before the DSP starts, so it never waits for data.
  if (Direction === IRP_MJ_WRITE) {
    FillHalf(DeviceObject, ext, 0, 0);
    FillHalf(DeviceObject, ext, 1, 1);
  }
  const adapter = ext.DmaAdapter!;
  // The ring is physically contiguous; ask for the map registers it spans, as the WDK does.
  const mapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CommonBufferVa, COMMON_BUFFER_BYTES);
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, mapRegisters, AdapterControl, ext);
  if (!NT_SUCCESS(status)) {
    DbgPrint('sb16: AllocateAdapterChannel failed 0x%x\n', status);
    ext.Streaming = false;
    FailStream(DeviceObject, ext, status);
  }
}

/** AdapterControl (DISPATCH_LEVEL): the channel is ours; map the ring once and start the DSP. */
function AdapterControl(_DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as SoundExtension;
  const adapter = ext.DmaAdapter!;
  const mdl = ext.CommonBufferMdl!;
  const playback = ext.Direction === IRP_MJ_WRITE;
  ext.MapRegisterBase = MapRegisterBase;

  // One MapTransfer over the whole ring: with AutoInitialize the 8237 cycles over it by itself.
  const length = ref(COMMON_BUFFER_BYTES);
  adapter.DmaOperations.MapTransfer(adapter, mdl, MapRegisterBase, MmGetMdlVirtualAddress(mdl), length, playback);
  if (length.value !== COMMON_BUFFER_BYTES) DbgPrint('sb16: MapTransfer mapped %d of %d bytes\n', length.value, COMMON_BUFFER_BYTES);

  // Rate (high byte first), then the 16-bit auto-initialize command with a block of half
  // the ring, so that the DSP interrupts twice per trip round it.
  DspWrite(ext, playback ? DSP_SET_OUTPUT_RATE : DSP_SET_INPUT_RATE);
  DspWrite(ext, SAMPLE_RATE >> 8);
  DspWrite(ext, SAMPLE_RATE & 0xff);
  DspWrite(ext, playback ? DSP_PLAY16_AUTO : DSP_RECORD16_AUTO);
  DspWrite(ext, DSP_MODE_STEREO_SIGNED);
  DspWrite(ext, (BLOCK_SAMPLES - 1) & 0xff);
  DspWrite(ext, (BLOCK_SAMPLES - 1) >> 8);
  DbgPrint('sb16: %s stream started\n', playback ? 'playback' : 'capture');
  // Auto-initialize DMA keeps the channel for the whole stream (the DPC frees it).
  return KeepObject;
}

// ---- Interrupt and DPC ------------------------------------------------------------------------------

/** ISR (DIRQL): the DSP ended a block. Acknowledge it now (edge-triggered), the rest in the DPC. */
function SoundIsr(_Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  const ext = ServiceContext as SoundExtension;
  WRITE_PORT_UCHAR(ext.PortBase + SB_MIXER_ADDRESS, MIXER_IRQ_STATUS);
  const pending = READ_PORT_UCHAR(ext.PortBase + SB_MIXER_DATA);
  if ((pending & (IRQ_STATUS_DMA8 | IRQ_STATUS_DMA16)) === 0) return false; // not this card's
  if (pending & IRQ_STATUS_DMA8) READ_PORT_UCHAR(ext.PortBase + SB_DSP_READ_STATUS);
  if (pending & IRQ_STATUS_DMA16) {
    READ_PORT_UCHAR(ext.PortBase + SB_DSP_ACK16);
    IoRequestDpc(ext.Self, ext.Self.CurrentIrp, null);
  }
  return true;
}

/** DpcForIsr (DISPATCH_LEVEL): one DSP block has ended; service the half it used. */
function DpcForIsr(_Dpc: KDPC, DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, _Context: unknown): void {
  const ext = extensionOf(DeviceObject);
  if (!ext.Streaming) return;
  const adapter = ext.DmaAdapter!;

  // Bytes the 8237 has left in this trip round the ring: more than half means it is in the
  // first half, so the second has just ended, and the other way round.
  const left = adapter.DmaOperations.ReadDmaCounter(adapter);
  const finished = left > HALF ? 1 : 0;
  const block = ext.BlocksDone++;
  if (finished !== block % 2) DbgPrint('sb16: block %d ended in half %d: an interrupt was missed\n', block, finished);

  if (ext.Direction === IRP_MJ_WRITE) {
    // Block `block - 1` was fetched a whole block ago: what it held has been heard.
    CompleteHeld(ext, block - 1);
    if (ext.Stopping) return StopStream(DeviceObject, ext);
    // The DSP now fetches the other half; refill this one with the block after that.
    FillHalf(DeviceObject, ext, finished, block + 2);
    // Neither half holds sound: the DSP's current block (silence) is its last. Exiting one
    // block after the last sound lets that sound leave the FIFO before the DAC stops.
    if (!ext.HalfHasData[0] && !ext.HalfHasData[1]) {
      DspWrite(ext, DSP_EXIT_AUTO16);
      ext.Stopping = true;
    }
  } else {
    // The half the DSP just filled has reached memory: hand it to the readers in order.
    DrainHalf(DeviceObject, ext, finished, block);
    if (ext.Stopping) return StopStream(DeviceObject, ext);
    if (CurrentIrpFits(DeviceObject, ext)) CompleteHeld(ext, block);
    else {
      // No reader left: the block now being recorded is the last. The filled reads complete
      // when it ends, with the channel given back (or sooner, if another read arrives).
      DspWrite(ext, DSP_EXIT_AUTO16);
      ext.Stopping = true;
    }
  }
}

/** Playback: copies the next sound into one half (silence where there is none). */
function FillHalf(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Half: number, Block: number): void {
  const va = ext.CommonBufferVa + Half * HALF;
  let done = 0;
  while (done < HALF && CurrentIrpFits(DeviceObject, ext)) {
    const n = Math.min(HALF - done, ext.IrpLength - ext.IrpOffset);
    RtlCopyMemory(va + done, ext.IrpVa + ext.IrpOffset, n);
    done += n;
    ext.IrpOffset += n;
    if (ext.IrpOffset === ext.IrpLength) {
      // All its data is in the ring; it completes when heard. The next IRP's data follows on.
      ext.Held.push({ Irp: DeviceObject.CurrentIrp!, LastBlock: Block });
      IoStartNextPacket(DeviceObject, false);
    }
  }
  if (done < HALF) RtlZeroMemory(va + done, HALF - done); // 16-bit signed silence
  ext.HalfHasData[Half] = done > 0;
}

/** Completes, with all their bytes, the held IRPs whose last block is `Block` or earlier. */
function CompleteHeld(ext: SoundExtension, Block: number): void {
  while (ext.Held.length > 0 && ext.Held[0]!.LastBlock <= Block) {
    const { Irp } = ext.Held.shift()!;
    const stack = IoGetCurrentIrpStackLocation(Irp);
    Irp.IoStatus.Status = STATUS_SUCCESS;
    Irp.IoStatus.Information = stack.MajorFunction === IRP_MJ_WRITE ? stack.Parameters.Write.Length : stack.Parameters.Read.Length;
    IoCompleteRequest(Irp, IO_SOUND_INCREMENT);
  }
}

/** Capture: copies one half into the current read IRPs, in order, holding each that fills. */
function DrainHalf(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Half: number, Block: number): void {
  const va = ext.CommonBufferVa + Half * HALF;
  let done = 0;
  while (done < HALF && CurrentIrpFits(DeviceObject, ext)) {
    const n = Math.min(HALF - done, ext.IrpLength - ext.IrpOffset);
    RtlCopyMemory(ext.IrpVa + ext.IrpOffset, va + done, n);
    done += n;
    ext.IrpOffset += n;
    if (ext.IrpOffset === ext.IrpLength) {
      ext.Held.push({ Irp: DeviceObject.CurrentIrp!, LastBlock: Block });
      IoStartNextPacket(DeviceObject, false);
    }
  }
}

/** The last block has ended (after D9h): release the controller; start the next stream if an IRP waits. */
function StopStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension): void {
  const adapter = ext.DmaAdapter!;
  const mdl = ext.CommonBufferMdl!;
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), COMMON_BUFFER_BYTES, ext.Direction === IRP_MJ_WRITE);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  ext.Streaming = false;
  CompleteHeld(ext, Number.MAX_SAFE_INTEGER);
  DbgPrint('sb16: stream stopped after %d blocks\n', ext.BlocksDone);
  // An IRP that arrived after D9h (or one of the other direction) starts a stream of its own.
  const next = DeviceObject.CurrentIrp;
  if (next !== null && !ext.Removed) StartStream(DeviceObject, ext, IoGetCurrentIrpStackLocation(next).MajorFunction);
}

/** Stops a stream at once (DISPATCH_LEVEL), when remove comes first: D5h; the caller resets the DSP. */
function AbortStream(ext: SoundExtension): void {
  DspWrite(ext, DSP_PAUSE16);
  DbgPrint('sb16: stream stopped at once after %d blocks\n', ext.BlocksDone);
  const adapter = ext.DmaAdapter!;
  const mdl = ext.CommonBufferMdl!;
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), COMMON_BUFFER_BYTES, ext.Direction === IRP_MJ_WRITE);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  ext.Streaming = false;
  FailStream(ext.Self, ext, STATUS_DELETE_PENDING);
}

/**
 * Ends the IRPs the stream holds: filled reads with their data, unplayed writes and the
 * current IRP with `Status`; StartIo then takes the next queued one.
 */
function FailStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Status: NTSTATUS): void {
  if (ext.Direction === IRP_MJ_READ) CompleteHeld(ext, Number.MAX_SAFE_INTEGER);
  for (const { Irp } of ext.Held.splice(0)) {
    Irp.IoStatus.Status = Status;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
  }
  const irp = DeviceObject.CurrentIrp;
  if (irp !== null) {
    irp.IoStatus.Status = Status;
    irp.IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    IoStartNextPacket(DeviceObject, false); // after a remove, StartIo fails the queued ones too
  }
}
