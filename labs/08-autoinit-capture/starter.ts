// Lab 08: auto-initialize capture through a common buffer.
//
// Two seconds of 16-bit stereo sound at 44,100 Hz come from the Sound Blaster 16's ADC
// into one 8 KiB common buffer, a ring of two halves that the 8237 fills over and over in
// auto-initialize mode. The DSP interrupts at the end of each half; the DpcForIsr asks
// ReadDmaCounter where the controller is and copies the half it has just filled into the
// read IRPs, in order, before the controller comes round to it again.
//
// Everything is given except the two routines at the end: AdapterControl and DpcForIsr.
// AdapterControl is much as in lab 07, the other way round.

/* eslint-disable @typescript-eslint/no-unused-vars -- the starter declares what your AdapterControl and DpcForIsr will use */
import { DspAcknowledge, DspExitAutoInit, DspPause, DspReset, DspStartAutoInit, DspVersion } from './dsp';

const SAMPLE_RATE = 44_100;
/** The ring: a multiple of PAGE_SIZE, about 46 ms of sound. */
const COMMON_BUFFER_BYTES = 8192;
/** One DSP block: the DSP interrupts at the end of each half of the ring. */
const HALF = COMMON_BUFFER_BYTES / 2;

/** A read whose buffer is full, waiting to be completed. */
interface HeldIrp {
  Irp: IRP;
  /** The DSP block (counted from the start of the stream) that gave its last byte. */
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
  /** D9h has been sent: the block now recording is the last one. */
  Stopping: boolean;
  /** DSP blocks that have ended since the stream started. */
  BlocksDone: number;
  /** Reads whose buffers are full, oldest first. */
  Held: HeldIrp[];
  /** CurrentIrp's buffer in system space, its length, and the bytes copied so far. */
  IrpVa: PVOID;
  IrpLength: number;
  IrpOffset: number;
}

function extensionOf(DeviceObject: DEVICE_OBJECT): SoundExtension {
  return DeviceObject.DeviceExtension as SoundExtension;
}

// ---- Given: DriverEntry, AddDevice ------------------------------------------------------------------

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint(`sb16: DriverEntry ${RegistryPath}\n`);
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.DriverStartIo = StartIo;
  DriverObject.DriverUnload = Unload;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchRead;
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
    Stopping: false,
    BlocksDone: 0,
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
  DeviceObject.Flags |= DO_DIRECT_IO;
  IoInitializeDpcRequest(DeviceObject, DpcForIsr);
  DeviceObject.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}

function Unload(_DriverObject: DRIVER_OBJECT): void {
  DbgPrint('sb16: Unload\n');
}

// ---- Given: PnP --------------------------------------------------------------------------------------

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  const stack = IoGetCurrentIrpStackLocation(Irp);
  let status: NTSTATUS;

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE:
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
        // Normally the stream has ended by now; if not, stop the card and give back the channel.
        const old = ref(PASSIVE_LEVEL);
        KeRaiseIrql(DISPATCH_LEVEL, old);
        AbortStream(ext);
        KeLowerIrql(old.value);
        DspReset(ext.PortBase);
      }
      ReleaseResources(ext);
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
  if (!DspReset(ext.PortBase) || DspVersion(ext.PortBase) < 400) return STATUS_DEVICE_NOT_CONNECTED;

  // A subordinate device on the ISA system DMA controller, cycling over one ring.
  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION,
    Master: false,
    ScatterGather: false,
    DemandMode: false,
    AutoInitialize: true, // the 8237 reloads itself at the end of the ring
    Dma32BitAddresses: false,
    IgnoreCount: false,
    Reserved1: false,
    Dma64BitAddresses: false,
    BusNumber: 0,
    DmaChannel: dma.u.Dma.Channel,
    InterfaceType: Isa,
    DmaWidth: Width16Bits,
    DmaSpeed: Compatible,
    MaximumLength: COMMON_BUFFER_BYTES,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  ext.DmaAdapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (ext.DmaAdapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.NumberOfMapRegisters = mapRegisters.value;

  // The HAL places the common buffer where the controller can reach it.
  const logical = ref<PHYSICAL_ADDRESS>(0);
  const va = ext.DmaAdapter.DmaOperations.AllocateCommonBuffer(ext.DmaAdapter, COMMON_BUFFER_BYTES, logical, false);
  if (va === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.CommonBufferVa = va;
  ext.CommonBufferLogical = logical.value;
  // MapTransfer takes an MDL: this one describes the common buffer.
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
    Latched,
    false,
    interrupt.u.Interrupt.Affinity,
    false,
  );
  if (!NT_SUCCESS(connected)) return connected;
  ext.Interrupt = object.value;
  return STATUS_SUCCESS;
}

/** Gives back whatever START_DEVICE took, in reverse order. */
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

// ---- Given: reads and StartIo -----------------------------------------------------------------------

function DispatchRead(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = extensionOf(DeviceObject);
  const length = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  let status = STATUS_SUCCESS;
  if (!ext.Started) status = ext.Removed ? STATUS_DELETE_PENDING : STATUS_DEVICE_NOT_READY;
  else if (Irp.MdlAddress === null && length > 0) status = STATUS_INVALID_PARAMETER;
  if (!NT_SUCCESS(status) || length === 0) {
    Irp.IoStatus.Status = status;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    return status;
  }
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}

/** Runs each time a read becomes DeviceObject->CurrentIrp. */
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const ext = extensionOf(DeviceObject);
  const va = ext.Removed ? null : MmGetSystemAddressForMdlSafe(Irp.MdlAddress!, NormalPagePriority);
  if (va === null) {
    Irp.IoStatus.Status = ext.Removed ? STATUS_DELETE_PENDING : STATUS_INSUFFICIENT_RESOURCES;
    Irp.IoStatus.Information = 0;
    IoCompleteRequest(Irp, IO_NO_INCREMENT);
    IoStartNextPacket(DeviceObject, false);
    return;
  }
  ext.IrpVa = va;
  ext.IrpLength = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
  ext.IrpOffset = 0;
  // A running stream fills this read from the next half it empties.
  if (!ext.Streaming) StartStream(DeviceObject, ext);
}

/** Asks for the adapter channel; AdapterControl starts the DSP. */
function StartStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension): void {
  ext.Streaming = true;
  ext.Stopping = false;
  ext.BlocksDone = 0;
  const adapter = ext.DmaAdapter!;
  const mapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CommonBufferVa, COMMON_BUFFER_BYTES);
  const status = adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, mapRegisters, AdapterControl, ext);
  if (!NT_SUCCESS(status)) {
    ext.Streaming = false;
    FailStream(DeviceObject, ext, status);
  }
}

// ---- Given: the ISR ------------------------------------------------------------------------------------

/** The DSP ended a block (half the ring). Acknowledge it now (edge-triggered), the rest in the DPC. */
function SoundIsr(_Interrupt: KINTERRUPT, ServiceContext: unknown): boolean {
  const ext = ServiceContext as SoundExtension;
  const what = DspAcknowledge(ext.PortBase);
  if (what === 'none') return false; // not this card's
  if (what === 'block') IoRequestDpc(ext.Self, ext.Self.CurrentIrp, null);
  return true;
}

// ---- Given: helpers for the DPC --------------------------------------------------------------------------

/**
 * Copies one half of the ring into the current reads, in order. A read whose buffer fills is
 * held, to complete a little later, and the next read becomes CurrentIrp. `Block` is the DSP
 * block that recorded this half. What no read wants is dropped: the stream is ending.
 */
function DrainHalf(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Half: number, Block: number): void {
  const va = ext.CommonBufferVa + Half * HALF;
  let done = 0;
  while (done < HALF && DeviceObject.CurrentIrp !== null) {
    const n = Math.min(HALF - done, ext.IrpLength - ext.IrpOffset);
    RtlCopyMemory(ext.IrpVa + ext.IrpOffset, va + done, n);
    done += n;
    ext.IrpOffset += n;
    if (ext.IrpOffset === ext.IrpLength) {
      ext.Held.push({ Irp: DeviceObject.CurrentIrp, LastBlock: Block });
      IoStartNextPacket(DeviceObject, false);
    }
  }
}

/** Completes, with all their bytes, the held reads whose last block is `Block` or earlier. */
function CompleteHeld(ext: SoundExtension, Block: number): void {
  while (ext.Held.length > 0 && ext.Held[0]!.LastBlock <= Block) {
    const { Irp } = ext.Held.shift()!;
    Irp.IoStatus.Status = STATUS_SUCCESS;
    Irp.IoStatus.Information = IoGetCurrentIrpStackLocation(Irp).Parameters.Read.Length;
    IoCompleteRequest(Irp, IO_SOUND_INCREMENT);
  }
}

/** The last block has ended (after D9h): flush, give back the channel, start again if a read waits. */
function StopStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension): void {
  const adapter = ext.DmaAdapter!;
  const mdl = ext.CommonBufferMdl!;
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), COMMON_BUFFER_BYTES, false);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  ext.Streaming = false;
  CompleteHeld(ext, Number.MAX_SAFE_INTEGER);
  if (DeviceObject.CurrentIrp !== null && !ext.Removed) StartStream(DeviceObject, ext);
}

/** Stops a stream at once, when remove comes first; the caller resets the DSP. */
function AbortStream(ext: SoundExtension): void {
  DspPause(ext.PortBase);
  const adapter = ext.DmaAdapter!;
  const mdl = ext.CommonBufferMdl!;
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, ext.MapRegisterBase, MmGetMdlVirtualAddress(mdl), COMMON_BUFFER_BYTES, false);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  ext.Streaming = false;
  FailStream(ext.Self, ext, STATUS_DELETE_PENDING);
}

/** Completes the filled reads with their data, and fails the current one with `Status`. */
function FailStream(DeviceObject: DEVICE_OBJECT, ext: SoundExtension, Status: NTSTATUS): void {
  CompleteHeld(ext, Number.MAX_SAFE_INTEGER);
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
    IoStartNextPacket(DeviceObject, false);
  }
}

// ---- You write: AdapterControl -------------------------------------------------------------------------

/** The channel is ours (DISPATCH_LEVEL): map the whole ring once, start recording, keep the channel. */
function AdapterControl(_DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const ext = Context as SoundExtension;
  ext.MapRegisterBase = MapRegisterBase;

  // TODO: one MapTransfer over the whole common buffer. This time the data goes from the
  //   device to memory: which way is WriteToDevice?
  // TODO: start recording: DspStartAutoInit(ext.PortBase, false, SAMPLE_RATE, HALF).
  // TODO: return the action that keeps the channel for the whole stream.
  return DeallocateObject;
}

// ---- You write: DpcForIsr ------------------------------------------------------------------------------

/** One DSP block has ended (DISPATCH_LEVEL): copy out the half the controller has just filled. */
function DpcForIsr(_Dpc: KDPC, DeviceObject: DEVICE_OBJECT, _Irp: IRP | null, _Context: unknown): void {
  const ext = extensionOf(DeviceObject);
  if (!ext.Streaming) return;
  const block = ext.BlocksDone++;

  // TODO: ask ReadDmaCounter how many bytes the 8237 has left in this trip round the ring,
  //   and work out which half it has just filled.
  // TODO: copy that half out with DrainHalf(DeviceObject, ext, finished, block), now: one
  //   block from now the controller writes over it.
  // TODO: if D9h was sent at the previous interrupt (ext.Stopping), this was the last block:
  //   StopStream and return.
  // TODO: if a read is still waiting for data (DeviceObject.CurrentIrp), complete the filled
  //   ones (CompleteHeld with block); if none is, DspExitAutoInit and set ext.Stopping.
  DbgPrint('sb16: block %d ended\n', block);
}
