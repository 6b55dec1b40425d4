// The `wdm` surface as the driver sees it: this module runs inside the sandbox, before the
// driver, and every export becomes a global (as if wdm.h were included). It holds the
// objects the driver touches (DRIVER_OBJECT, DEVICE_OBJECT, IRP, MDL, DMA_ADAPTER, KDPC,
// …) as plain guest objects and calls the host for everything the machine does. Host
// calls take and return numbers only (objects travel as ids), which keeps each one cheap;
// the rare structured answer (an IRP's parameters, a resource list, a scatter/gather
// list) comes back as JSON. Nothing here trusts the driver: arguments are coerced to
// numbers before they cross, and an object the host does not know travels as id −1, which
// the host reports as a finding.
//
// Names, parameter order and meaning are the WDK's (DESIGN.md, "The driver API contract").

/* eslint-disable @typescript-eslint/no-unused-vars */

// ---- Types ------------------------------------------------------------------------------

/** An NTSTATUS code: negative (severity error) means failure; test it with NT_SUCCESS. */
export type NTSTATUS = number;
/** An interrupt request level: PASSIVE_LEVEL (0), APC_LEVEL (1), DISPATCH_LEVEL (2), or a device's DIRQL above that. */
export type KIRQL = number;
export type ULONG = number;
export type USHORT = number;
export type UCHAR = number;
export type BOOLEAN = boolean;
/** A virtual address: a number, so that `Va + Offset` works. */
export type PVOID = number;
/** A physical (logical) address as the DMA controller sees it. */
export type PHYSICAL_ADDRESS = number;
/** An I/O port number. */
export type PORT = number;
/**
 * An opaque handle for the map registers the HAL assigned to a transfer: AdapterControl receives it, and MapTransfer,
 * FlushAdapterBuffers and FreeMapRegisters take it back.
 */
export type MAP_REGISTER_BASE = number;
/**
 * What an AdapterControl routine answers: KeepObject (1: keep the adapter, as system DMA does until
 * FreeAdapterChannel), DeallocateObject (2: release the adapter) or DeallocateObjectKeepRegisters (3: release the
 * adapter but keep the map registers, as packet-based bus-master DMA does until FreeMapRegisters).
 *
 * WDK: IO_ALLOCATION_ACTION enumeration
 */
export type IO_ALLOCATION_ACTION = 1 | 2 | 3;
/**
 * The bus type a device sits on (Isa, Eisa, PCIBus, …), as in DEVICE_DESCRIPTION.InterfaceType.
 *
 * WDK: INTERFACE_TYPE enumeration
 */
export type INTERFACE_TYPE = number;
/** A system DMA controller's data width (DEVICE_DESCRIPTION.DmaWidth): Width8Bits, Width16Bits or Width32Bits. */
export type DMA_WIDTH = number;
/** A system DMA controller's timing (DEVICE_DESCRIPTION.DmaSpeed): Compatible, TypeA, TypeB, TypeC or TypeF. */
export type DMA_SPEED = number;
/** How the device signals its interrupt (IoConnectInterrupt's InterruptMode): LevelSensitive or Latched. */
export type KINTERRUPT_MODE = number;
/** The kind of pool ExAllocatePoolWithTag allocates: NonPagedPool, NonPagedPoolNx or PagedPool. */
export type POOL_TYPE = number;

/** An out or in-out parameter: what C passes as a pointer to a scalar. Make one with ref(). */
export interface Ref<T> {
  value: T;
}

/**
 * DriverEntry: the first routine the system calls after loading the driver. It fills in the driver object's entry
 * points (MajorFunction, DriverStartIo, DriverUnload, DriverExtension.AddDevice) and answers STATUS_SUCCESS or a failure.
 *
 * IRQL: called at PASSIVE_LEVEL
 *
 * WDK: DRIVER_INITIALIZE callback function
 * @param DriverObject The driver object the system created for this driver.
 * @param RegistryPath The driver's key under the registry's Services key.
 */
export type DRIVER_INITIALIZE = (DriverObject: DRIVER_OBJECT, RegistryPath: string) => NTSTATUS;
/**
 * AddDevice: called by the PnP manager for each device it enumerates for this driver; it creates a device object
 * (IoCreateDevice) and attaches it to the device stack (IoAttachDeviceToDeviceStack).
 *
 * IRQL: called at PASSIVE_LEVEL
 *
 * WDK: DRIVER_ADD_DEVICE callback function
 * @param PhysicalDeviceObject The PDO the bus driver created; keep it for IoGetDmaAdapter.
 */
export type DRIVER_ADD_DEVICE = (DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT) => NTSTATUS;
/**
 * A dispatch routine (DispatchRead, DispatchWrite, DispatchPnp, …) set in DriverObject.MajorFunction[IRP_MJ_*]. It
 * services one IRP: completes it (IoCompleteRequest), passes it down (IoCallDriver), or marks it pending
 * (IoMarkIrpPending) and queues it (IoStartPacket), answering STATUS_PENDING.
 *
 * IRQL: called at PASSIVE_LEVEL (see the page's Remarks for exceptions)
 *
 * WDK: DRIVER_DISPATCH callback function
 */
export type DRIVER_DISPATCH = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => NTSTATUS;
/**
 * StartIo: starts the I/O operation an IRP describes. The I/O manager calls it, one IRP at a time, for IRPs queued with
 * IoStartPacket; the driver calls IoStartNextPacket when the device can take the next one.
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: DRIVER_STARTIO callback function
 */
export type DRIVER_STARTIO = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;
/**
 * Unload: releases whatever the driver still holds (timers, interrupts, adapters, devices) before the system unloads it.
 *
 * IRQL: called at PASSIVE_LEVEL
 *
 * WDK: DRIVER_UNLOAD callback function
 */
export type DRIVER_UNLOAD = (DriverObject: DRIVER_OBJECT) => void;
/**
 * AdapterControl: called once AllocateAdapterChannel has obtained the DMA channel (system DMA) or adapter and the map
 * registers for the transfer; it programs the transfer (MapTransfer, then the device) and answers an IO_ALLOCATION_ACTION:
 * KeepObject for system DMA, DeallocateObject or DeallocateObjectKeepRegisters for a bus master.
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: DRIVER_CONTROL callback function
 * @param Irp The device object's CurrentIrp when AllocateAdapterChannel was called (the IRP StartIo is working on).
 * @param MapRegisterBase The map registers assigned to this transfer: pass it to MapTransfer, FlushAdapterBuffers and FreeMapRegisters.
 * @param Context The Context passed to AllocateAdapterChannel.
 */
export type DRIVER_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown) => IO_ALLOCATION_ACTION;
/**
 * AdapterListControl: called once GetScatterGatherList or BuildScatterGatherList has mapped the buffer; it starts the
 * scatter/gather transfer from the list. Release the list afterwards with PutScatterGatherList.
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: DRIVER_LIST_CONTROL callback function
 * @param Irp The current IRP if the driver has a StartIo routine; otherwise not meaningful.
 * @param ScatterGather The logical address and length of each piece of the buffer.
 * @param Context The Context passed to GetScatterGatherList.
 */
export type DRIVER_LIST_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown) => void;
/**
 * InterruptService (ISR): registered with IoConnectInterrupt. It checks whether its device interrupted, quiets the
 * device, saves what it needs and queues a DPC (IoRequestDpc) for the rest; it answers TRUE if the interrupt was its
 * device's, FALSE otherwise.
 *
 * IRQL: called at DIRQL (the interrupt's SynchronizeIrql)
 *
 * WDK: KSERVICE_ROUTINE callback function
 * @param ServiceContext The ServiceContext passed to IoConnectInterrupt.
 */
export type KSERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown) => boolean;
/**
 * CustomDpc (or CustomTimerDpc): the deferred routine of a DPC set up with KeInitializeDpc, run after KeInsertQueueDpc or
 * when a timer set with that DPC expires.
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: KDEFERRED_ROUTINE callback function
 * @param DeferredContext The DeferredContext passed to KeInitializeDpc.
 * @param SystemArgument1 The first argument passed to KeInsertQueueDpc.
 * @param SystemArgument2 The second argument passed to KeInsertQueueDpc.
 */
export type KDEFERRED_ROUTINE = (Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown) => void;
/**
 * DpcForIsr: registered with IoInitializeDpcRequest and queued by the ISR with IoRequestDpc; it finishes the interrupt-
 * driven I/O at a lower IRQL (typically: flush, complete the IRP, start the next packet).
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: IO_DPC_ROUTINE callback function
 * @param Irp The Irp passed to IoRequestDpc.
 * @param Context The Context passed to IoRequestDpc.
 */
export type IO_DPC_ROUTINE = (Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown) => void;
/**
 * SynchCritSection: run by KeSynchronizeExecution while holding the interrupt's lock, so that it can touch device
 * registers or data the ISR shares without racing it.
 *
 * IRQL: called at DIRQL (the interrupt's SynchronizeIrql)
 *
 * WDK: KSYNCHRONIZE_ROUTINE callback function
 * @param SynchronizeContext The SynchronizeContext passed to KeSynchronizeExecution.
 */
export type KSYNCHRONIZE_ROUTINE = (SynchronizeContext: unknown) => boolean;

/** The driver extension: holds the driver's AddDevice entry point. */
export interface DRIVER_EXTENSION {
  AddDevice: DRIVER_ADD_DEVICE | null;
}

/**
 * The driver object: the loaded driver's image as the I/O manager sees it, with the entry points DriverEntry fills in.
 *
 * WDK: DRIVER_OBJECT structure
 */
export interface DRIVER_OBJECT {
  readonly Type: 4;
  /** The first device object the driver created, linked through NextDevice. */
  DeviceObject: DEVICE_OBJECT | null;
  DriverExtension: DRIVER_EXTENSION;
  readonly DriverName: string;
  DriverStartIo: DRIVER_STARTIO | null;
  DriverUnload: DRIVER_UNLOAD | null;
  /** Indexed by IRP_MJ_*; IRP_MJ_MAXIMUM_FUNCTION + 1 entries. */
  MajorFunction: (DRIVER_DISPATCH | null)[];
}

/**
 * A device object: what the driver creates with IoCreateDevice to represent a device it handles; IRPs are sent to it.
 *
 * WDK: DEVICE_OBJECT structure
 */
export interface DEVICE_OBJECT {
  readonly Type: 3;
  readonly DriverObject: DRIVER_OBJECT | null;
  NextDevice: DEVICE_OBJECT | null;
  AttachedDevice: DEVICE_OBJECT | null;
  /** The IRP StartIo is working on (set by IoStartPacket/IoStartNextPacket). */
  CurrentIrp: IRP | null;
  Flags: ULONG;
  Characteristics: ULONG;
  /** The driver's own per-device data: any object. */
  DeviceExtension: unknown;
  DeviceType: ULONG;
  StackSize: number;
  /** The DPC IoInitializeDpcRequest set up for IoRequestDpc. */
  Dpc: KDPC | null;
}

/** The final status of an IRP (Status) and a request-dependent value, for reads and writes the bytes transferred (Information). */
export interface IO_STATUS_BLOCK {
  Status: NTSTATUS;
  Information: number;
}

/**
 * One I/O stack location of an IRP: the major/minor function and the parameters for the driver at this level of the
 * stack. Get the driver's own with IoGetCurrentIrpStackLocation.
 *
 * WDK: IO_STACK_LOCATION structure
 */
export interface IO_STACK_LOCATION {
  MajorFunction: UCHAR;
  MinorFunction: UCHAR;
  Flags: UCHAR;
  Control: UCHAR;
  DeviceObject: DEVICE_OBJECT | null;
  Parameters: {
    Read: { Length: ULONG; Key: ULONG; ByteOffset: number };
    Write: { Length: ULONG; Key: ULONG; ByteOffset: number };
    DeviceIoControl: { OutputBufferLength: ULONG; InputBufferLength: ULONG; IoControlCode: ULONG };
    StartDevice: { AllocatedResources: CM_RESOURCE_LIST | null; AllocatedResourcesTranslated: CM_RESOURCE_LIST | null };
  };
}

/**
 * An I/O request packet: a request the I/O manager (or another driver) sends to a device object, partly opaque.
 *
 * WDK: IRP structure
 */
export interface IRP {
  readonly Type: 6;
  /** The caller's buffer described for direct I/O (DO_DIRECT_IO). */
  MdlAddress: MDL | null;
  AssociatedIrp: { SystemBuffer: PVOID | null };
  UserBuffer: PVOID | null;
  IoStatus: IO_STATUS_BLOCK;
  Cancel: boolean;
  PendingReturned: boolean;
  Tail: { Overlay: { CurrentStackLocation: IO_STACK_LOCATION } };
}

/**
 * A memory descriptor list: describes the physical pages behind a virtual buffer. Treat it as opaque and use the
 * MmGetMdl* macros.
 *
 * WDK: MDL structure
 */
export interface MDL {
  readonly Next: MDL | null;
  readonly Size: number;
  readonly MdlFlags: number;
  readonly MappedSystemVa: PVOID;
  readonly StartVa: PVOID;
  readonly ByteCount: ULONG;
  readonly ByteOffset: ULONG;
}

/**
 * One hardware resource of a single type (port range, interrupt, DMA channel) assigned to the device, as found in the
 * start-device IRP's resource lists (use u.Port, u.Interrupt or u.Dma according to Type).
 *
 * WDK: CM_PARTIAL_RESOURCE_DESCRIPTOR structure
 */
export interface CM_PARTIAL_RESOURCE_DESCRIPTOR {
  Type: UCHAR;
  ShareDisposition: UCHAR;
  Flags: USHORT;
  u: {
    Port: { Start: PORT; Length: ULONG };
    Interrupt: { Level: ULONG; Vector: ULONG; Affinity: number };
    Dma: { Channel: ULONG; Port: ULONG; Reserved1: ULONG };
  };
}

/** The hardware resources assigned to a device: IRP_MN_START_DEVICE's AllocatedResources (raw) and AllocatedResourcesTranslated. */
export interface CM_RESOURCE_LIST {
  Count: ULONG;
  List: {
    InterfaceType: INTERFACE_TYPE;
    BusNumber: ULONG;
    PartialResourceList: { Version: USHORT; Revision: USHORT; Count: ULONG; PartialDescriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[] };
  }[];
}

/**
 * Describes the device that wants a DMA adapter: what IoGetDmaAdapter reads to choose and set up the adapter. Start from
 * all fields zero and fill in those for the device.
 *
 * WDK: DEVICE_DESCRIPTION structure
 */
export interface DEVICE_DESCRIPTION {
  /** DEVICE_DESCRIPTION_VERSION, _VERSION1, _VERSION2 or _VERSION3: which version of DMA_ADAPTER (and its operations) IoGetDmaAdapter returns. */
  Version: ULONG;
  /** TRUE for a bus-master device; FALSE for a subordinate device that uses a system DMA controller. */
  Master: boolean;
  /** TRUE if the (bus-master) device can do scatter/gather. */
  ScatterGather: boolean;
  /** TRUE to use the system DMA controller's demand mode (subordinate devices; read only with DEVICE_DESCRIPTION_VERSION2). */
  DemandMode: boolean;
  /** TRUE to use the system DMA controller's autoinitialize mode (subordinate devices). */
  AutoInitialize: boolean;
  /** TRUE if the device can use full 32-bit addresses for DMA. */
  Dma32BitAddresses: boolean;
  /** TRUE if the platform's DMA controller does not keep an accurate transfer counter (not read with DEVICE_DESCRIPTION_VERSION). */
  IgnoreCount: boolean;
  /** Reserved: FALSE. */
  Reserved1: boolean;
  /** TRUE if the device can use full 64-bit addresses for DMA. */
  Dma64BitAddresses: boolean;
  BusNumber: ULONG;
  /** The system DMA channel a subordinate device is assigned (u.Dma.Channel of its IRP_MN_START_DEVICE resources). */
  DmaChannel: ULONG;
  /** The I/O bus to use for DMA (an INTERFACE_TYPE, e.g. Isa). */
  InterfaceType: INTERFACE_TYPE;
  /** The system DMA controller's data width for a subordinate device: Width8Bits, Width16Bits or Width32Bits. */
  DmaWidth: DMA_WIDTH;
  /** The DMA timing of a subordinate device: Compatible, TypeA, TypeB, TypeC or TypeF. */
  DmaSpeed: DMA_SPEED;
  /** The most bytes the device can transfer in one DMA operation; IoGetDmaAdapter sizes the map registers it grants from it. */
  MaximumLength: ULONG;
  DmaPort: ULONG;
}

/** One piece of a scatter/gather list: a logical address the device can use and its length in bytes. */
export interface SCATTER_GATHER_ELEMENT {
  readonly Address: PHYSICAL_ADDRESS;
  readonly Length: ULONG;
  readonly Reserved: number;
}

/**
 * The scatter/gather list for one DMA operation: the elements (logical address, length) that together cover the buffer.
 *
 * WDK: SCATTER_GATHER_LIST structure
 */
export interface SCATTER_GATHER_LIST {
  readonly NumberOfElements: ULONG;
  readonly Reserved: number;
  readonly Elements: readonly SCATTER_GATHER_ELEMENT[];
}

/**
 * The table of DMA routines an adapter provides (DmaAdapter.DmaOperations). They are called through this table, never
 * by name, and each takes the adapter as its first argument.
 *
 * WDK: DMA_OPERATIONS structure
 */
export interface DMA_OPERATIONS {
  readonly Size: ULONG;
  /**
   * Frees the DMA adapter IoGetDmaAdapter returned. Call it after the last DMA operation, once map registers and common
   * buffers are released (and when handling IRP_MN_STOP_DEVICE); the adapter cannot be used afterwards.
   *
   * IRQL: <= DISPATCH_LEVEL
   *
   * WDK: PPUT_DMA_ADAPTER callback function
   */
  PutDmaAdapter(DmaAdapter: DMA_ADAPTER): void;
  /**
   * Allocates memory that both the processor and the device can reach at once, and maps it for the device: for a bus
   * master's control structures, or the buffer of a system DMA controller's autoinitialize mode. Answers the buffer's
   * virtual address, or NULL. Typically called while starting the device.
   *
   * IRQL: PASSIVE_LEVEL
   *
   * WDK: PALLOCATE_COMMON_BUFFER callback function
   * @param Length Bytes to allocate (at least a page is taken).
   * @param LogicalAddress Receives the logical address the device uses for the buffer (use it, not MmGetPhysicalAddress).
   * @param CacheEnabled Whether the memory may be cached (ignored by the system on x86/x64).
   */
  AllocateCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: Ref<PHYSICAL_ADDRESS>, CacheEnabled: boolean): PVOID | null;
  /**
   * Frees a common buffer and everything it uses. The arguments must be exactly those given to and returned by
   * AllocateCommonBuffer; part of a buffer cannot be freed.
   *
   * IRQL: PASSIVE_LEVEL
   *
   * WDK: PFREE_COMMON_BUFFER callback function
   */
  FreeCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID, CacheEnabled: boolean): void;
  /**
   * Asks for the DMA channel (system DMA) or adapter and map registers for a transfer on behalf of DeviceObject; when they
   * are free, the system calls ExecutionRoutine (the AdapterControl routine), which sets up the transfer. Answers
   * STATUS_SUCCESS, or STATUS_INSUFFICIENT_RESOURCES when NumberOfMapRegisters is more than IoGetDmaAdapter allows (then
   * AdapterControl is not called).
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PALLOCATE_ADAPTER_CHANNEL callback function
   * @param NumberOfMapRegisters Map registers for this transfer: the lesser of what the transfer needs
   * (ADDRESS_AND_SIZE_TO_SPAN_PAGES of its buffer) and the count IoGetDmaAdapter returned.
   * @param ExecutionRoutine The AdapterControl routine, called at DISPATCH_LEVEL once the adapter is available.
   * @param Context Passed to ExecutionRoutine.
   */
  AllocateAdapterChannel(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, NumberOfMapRegisters: ULONG, ExecutionRoutine: DRIVER_CONTROL, Context: unknown): NTSTATUS;
  /**
   * Flushes whatever remains in the DMA controller's or bus-master adapter's buffers at the end of a transfer. Every DMA
   * driver must call it before completing the IRP and before freeing the map registers (or the channel). Answers TRUE if
   * the data was flushed.
   *
   * IRQL: <= DISPATCH_LEVEL
   *
   * WDK: PFLUSH_ADAPTER_BUFFERS callback function
   * @param Mdl The MDL given to MapTransfer.
   * @param MapRegisterBase The value AdapterControl received.
   * @param CurrentVa The same CurrentVa given to MapTransfer for this transfer (an index into the MDL).
   * @param Length Bytes transferred.
   * @param WriteToDevice TRUE if the transfer went from memory to the device.
   */
  FlushAdapterBuffers(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: ULONG, WriteToDevice: boolean): boolean;
  /**
   * Releases the system DMA controller (and its map registers) once all the DMA for the current IRP is done and flushed.
   * Call it only if AdapterControl answered KeepObject.
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PFREE_ADAPTER_CHANNEL callback function
   */
  FreeAdapterChannel(DmaAdapter: DMA_ADAPTER): void;
  /**
   * Releases map registers a bus-master driver kept because its AdapterControl answered DeallocateObjectKeepRegisters.
   * Call it after FlushAdapterBuffers when the transfer is done.
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PFREE_MAP_REGISTERS callback function
   * @param MapRegisterBase The value AdapterControl received.
   * @param NumberOfMapRegisters Must equal the count given to AllocateAdapterChannel.
   */
  FreeMapRegisters(DmaAdapter: DMA_ADAPTER, MapRegisterBase: MAP_REGISTER_BASE, NumberOfMapRegisters: ULONG): void;
  /**
   * Sets up the map registers allocated by AllocateAdapterChannel to map (part of) a locked-down buffer for a DMA
   * transfer, and for system DMA programs the DMA controller. Answers the logical address of the mapped region, which a
   * bus master uses; a system-DMA driver ignores it.
   *
   * IRQL: <= DISPATCH_LEVEL
   *
   * WDK: PMAP_TRANSFER callback function
   * @param Mdl The IRP's MdlAddress, or the MDL of a common buffer (autoinitialize mode).
   * @param MapRegisterBase The value AdapterControl received.
   * @param CurrentVa Where in the buffer this transfer starts: an index into the MDL, not an address to dereference.
   * Start from MmGetMdlVirtualAddress(Mdl) and advance it for each piece of a split transfer.
   * @param Length In: bytes to map. Out: bytes actually mapped (may be less for a scatter/gather bus master; otherwise unchanged).
   * @param WriteToDevice TRUE for memory to device, FALSE for device to memory.
   */
  MapTransfer(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: Ref<ULONG>, WriteToDevice: boolean): PHYSICAL_ADDRESS;
  /**
   * Answers the DMA system's alignment requirement in bytes: DMA buffers' start address and length must be multiples of
   * it (a driver sets its device object's AlignmentRequirement from it).
   *
   * IRQL: PASSIVE_LEVEL
   *
   * WDK: PGET_DMA_ALIGNMENT callback function
   */
  GetDmaAlignment(DmaAdapter: DMA_ADAPTER): ULONG;
  /**
   * Answers how many bytes remain to be transferred in the current system DMA operation. For drivers of subordinate
   * devices only, typically in autoinitialize mode.
   *
   * IRQL: <= DISPATCH_LEVEL
   *
   * WDK: PREAD_DMA_COUNTER callback function
   */
  ReadDmaCounter(DmaAdapter: DMA_ADAPTER): ULONG;
  /**
   * Prepares a scatter/gather DMA operation: allocates the adapter and map registers, maps the buffer, builds the
   * scatter/gather list and calls ExecutionRoutine (the AdapterListControl routine) with it. Release the list with
   * PutScatterGatherList when the transfer is done.
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PGET_SCATTER_GATHER_LIST callback function
   * @param Mdl The IRP's MdlAddress.
   * @param CurrentVa Where in the buffer to start: an index into the MDL (MmGetMdlVirtualAddress for the start).
   * @param Length Bytes to map.
   * @param ExecutionRoutine The AdapterListControl routine, called at DISPATCH_LEVEL with the list.
   * @param Context Passed to ExecutionRoutine.
   * @param WriteToDevice TRUE for memory to device.
   */
  GetScatterGatherList(
    DmaAdapter: DMA_ADAPTER,
    DeviceObject: DEVICE_OBJECT,
    Mdl: MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: DRIVER_LIST_CONTROL,
    Context: unknown,
    WriteToDevice: boolean,
  ): NTSTATUS;
  /**
   * Ends a scatter/gather DMA operation: flushes the adapter buffers, frees the map registers and the scatter/gather list
   * GetScatterGatherList built.
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PPUT_SCATTER_GATHER_LIST callback function
   * @param ScatterGather The list AdapterListControl received.
   * @param WriteToDevice The direction given to GetScatterGatherList.
   */
  PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void;
  /**
   * Works out the size in bytes of the scatter/gather list a buffer needs (and, optionally, how many map registers), so
   * that a driver can allocate the buffer BuildScatterGatherList takes.
   *
   * IRQL: any level
   *
   * WDK: PCALCULATE_SCATTER_GATHER_LIST_SIZE callback function
   * @param Mdl The MDL of the buffer, or NULL to use CurrentVa and Length only.
   * @param CurrentVa The virtual address of the start of the buffer.
   * @param ScatterGatherListSize Receives the list's size in bytes.
   * @param NumberOfMapRegisters NULL, or receives the map registers the buffer needs.
   */
  CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: ULONG, ScatterGatherListSize: Ref<ULONG>, NumberOfMapRegisters: Ref<ULONG> | null): NTSTATUS;
  /**
   * Does what GetScatterGatherList does but builds the scatter/gather list in a buffer the driver supplies (size it with
   * CalculateScatterGatherList). Answers STATUS_BUFFER_TOO_SMALL if the list does not fit.
   *
   * IRQL: DISPATCH_LEVEL
   *
   * WDK: PBUILD_SCATTER_GATHER_LIST callback function
   * @param CurrentVa Where in the buffer to start: an index into the MDL.
   * @param ExecutionRoutine The AdapterListControl routine, called at DISPATCH_LEVEL with the list.
   * @param ScatterGatherBuffer The driver's buffer that receives the SCATTER_GATHER_LIST.
   * @param ScatterGatherLength Its size in bytes.
   */
  BuildScatterGatherList(
    DmaAdapter: DMA_ADAPTER,
    DeviceObject: DEVICE_OBJECT,
    Mdl: MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: DRIVER_LIST_CONTROL,
    Context: unknown,
    WriteToDevice: boolean,
    ScatterGatherBuffer: PVOID,
    ScatterGatherLength: ULONG,
  ): NTSTATUS;
}

/**
 * A DMA adapter: the system's interface to the DMA controller (or bus-master adapter) for a device, from IoGetDmaAdapter.
 * Its routines are in DmaOperations; release it with PutDmaAdapter.
 *
 * WDK: DMA_ADAPTER structure
 */
export interface DMA_ADAPTER {
  readonly Version: USHORT;
  readonly Size: USHORT;
  readonly DmaOperations: DMA_OPERATIONS;
}

/** Storage for a DPC: pass any object (`{}`) to KeInitializeDpc, which fills it in. */
export interface KDPC {
  readonly Type?: number;
  readonly DeferredRoutine?: KDEFERRED_ROUTINE | IO_DPC_ROUTINE;
  readonly DeferredContext?: unknown;
}

/** Storage for a timer: pass any object (`{}`) to KeInitializeTimer. */
export interface KTIMER {
  readonly Type?: number;
}

/**
 * An interrupt object, made by IoConnectInterrupt; opaque to the driver apart from what it passes to
 * KeSynchronizeExecution and IoDisconnectInterrupt.
 */
export interface KINTERRUPT {
  readonly Type: 22;
  readonly Vector: ULONG;
  readonly Irql: KIRQL;
  readonly SynchronizeIrql: KIRQL;
}

/** What C writes as a LARGE_INTEGER: a number of 100 ns units, or { QuadPart }. */
export type LARGE_INTEGER = number | { QuadPart: number };

// ---- The host and the entry numbering (handed in by the sandbox, never global) ---------

type HostFn = (...args: number[]) => number;
type HostName =
  | 'AllocateAdapterChannel' | 'AllocateCommonBuffer' | 'CalculateScatterGatherList' | 'ExAllocatePool2' | 'ExAllocatePoolWithTag' | 'ExFreePool' | 'FlushAdapterBuffers' | 'FreeAdapterChannel' | 'FreeCommonBuffer' | 'FreeMapRegisters' | 'GetDmaAlignment' | 'GetScatterGatherList' | 'IoAllocateMdl' | 'IoAttachDeviceToDeviceStack' | 'IoBuildPartialMdl' | 'IoCallDriver' | 'IoCompleteRequest' | 'IoConnectInterrupt' | 'IoCreateDevice' | 'IoDeleteDevice' | 'IoDetachDevice' | 'IoDisconnectInterrupt' | 'IoForwardIrpSynchronously' | 'IoFreeMdl' | 'IoInitializeDpcRequest' | 'IoMarkIrpPending' | 'IoRequestDpc' | 'IoSkipCurrentIrpStackLocation' | 'IoStartNextPacket' | 'IoStartPacket' | 'KeBugCheckEx' | 'KeCancelTimer' | 'KeFlushIoBuffers' | 'KeGetCurrentIrql' | 'KeInitializeDpc' | 'KeInitializeTimer' | 'KeInsertQueueDpc' | 'KeLowerIrql' | 'KeRaiseIrql' | 'KeRemoveQueueDpc' | 'KeSetTimerEx' | 'KeStallExecutionProcessor' | 'KeSynchronizeExecutionEnter' | 'KeSynchronizeExecutionLeave' | 'MapTransfer' | 'MmBuildMdlForNonPagedPool' | 'MmGetPhysicalAddress' | 'MmGetSystemAddressForMdlSafe' | 'PutDmaAdapter' | 'PutScatterGatherList' | 'READ_MEMORY_UCHAR' | 'READ_MEMORY_ULONG' | 'READ_MEMORY_USHORT' | 'READ_PORT_UCHAR' | 'READ_PORT_ULONG' | 'READ_PORT_USHORT' | 'ReadDmaCounter' | 'RtlCompareMemory' | 'RtlCopyMemory' | 'RtlFillMemory' | 'RtlMoveMemory' | 'WRITE_MEMORY_UCHAR' | 'WRITE_MEMORY_ULONG' | 'WRITE_MEMORY_USHORT' | 'WRITE_PORT_UCHAR' | 'WRITE_PORT_ULONG' | 'WRITE_PORT_USHORT' | 'out';
type Host = Record<HostName, HostFn>;
interface RichHost {
  describe(kind: string, id: number): string;
  print(text: string): void;
  getDmaAdapter(pdo: number, description: string): string;
}
declare const host: Host;
declare const rich: RichHost;
declare const abi: { Entry: Record<string, number>; seed: number };

// ---- Object identity ---------------------------------------------------------------------

const objects = new Map<number, object>();
const ids = new WeakMap<object, number>();

function own<T extends object>(id: number, object: T): T {
  objects.set(id, object);
  ids.set(object, id);
  return object;
}

/** The id of an object the host made; 0 for null, −1 for anything else. */
function idOf(object: unknown): number {
  if (object === null || object === undefined) return 0;
  if (typeof object !== 'object') return -1;
  return ids.get(object) ?? -1;
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

function flag(value: unknown): number {
  return value ? 1 : 0;
}

function get<T>(id: number): T | null {
  return (objects.get(id) as T | undefined) ?? null;
}

// ---- Driver object, devices, IRPs --------------------------------------------------------

let driverObject: DRIVER_OBJECT | null = null;
let driverModule: { DriverEntry?: DRIVER_INITIALIZE } = {};

function newDevice(id: number, driver: DRIVER_OBJECT | null): DEVICE_OBJECT {
  return own(id, {
    Type: 3,
    DriverObject: driver,
    NextDevice: null,
    AttachedDevice: null,
    CurrentIrp: null,
    Flags: 0,
    Characteristics: 0,
    DeviceExtension: null,
    DeviceType: 0,
    StackSize: 1,
    Dpc: null,
  } as DEVICE_OBJECT);
}

function device(id: number): DEVICE_OBJECT {
  return get<DEVICE_OBJECT>(id) ?? newDevice(id, null);
}

interface IrpInfo {
  major: number;
  minor: number;
  length: number;
  offset: number;
  mdl: number;
  userBuffer: number;
  systemBuffer: number;
  resources: { raw: CM_PARTIAL_RESOURCE_DESCRIPTOR[]; translated: CM_PARTIAL_RESOURCE_DESCRIPTOR[] } | null;
}

function resourceList(descriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[]): CM_RESOURCE_LIST {
  return {
    Count: 1,
    List: [{ InterfaceType: 1, BusNumber: 0, PartialResourceList: { Version: 1, Revision: 1, Count: descriptors.length, PartialDescriptors: descriptors } }],
  };
}

function irp(id: number): IRP {
  const known = get<IRP>(id);
  if (known) return known;
  const info = JSON.parse(rich.describe('irp', id)) as IrpInfo;
  const transfer = { Length: info.length, Key: 0, ByteOffset: info.offset };
  const stack: IO_STACK_LOCATION = {
    MajorFunction: info.major,
    MinorFunction: info.minor,
    Flags: 0,
    Control: 0,
    DeviceObject: null,
    Parameters: {
      Read: transfer,
      Write: { ...transfer },
      DeviceIoControl: { OutputBufferLength: 0, InputBufferLength: 0, IoControlCode: 0 },
      StartDevice: {
        AllocatedResources: info.resources ? resourceList(info.resources.raw) : null,
        AllocatedResourcesTranslated: info.resources ? resourceList(info.resources.translated) : null,
      },
    },
  };
  return own(id, {
    Type: 6,
    MdlAddress: info.mdl ? mdl(info.mdl) : null,
    AssociatedIrp: { SystemBuffer: info.systemBuffer || null },
    UserBuffer: info.userBuffer || null,
    IoStatus: { Status: 0, Information: 0 },
    Cancel: false,
    PendingReturned: false,
    Tail: { Overlay: { CurrentStackLocation: stack } },
  } as IRP);
}

interface MdlInfo {
  Next: number;
  Size: number;
  MdlFlags: number;
  MappedSystemVa: number;
  StartVa: number;
  ByteCount: number;
  ByteOffset: number;
}

/** The guest copy of a host MDL, read-only to the driver, refreshed after each host call that changes it. */
function mdl(id: number): MDL {
  const object = get<MDL>(id) ?? own(id, {} as MDL);
  const info = JSON.parse(rich.describe('mdl', id)) as MdlInfo;
  for (const key of ['Size', 'MdlFlags', 'MappedSystemVa', 'StartVa', 'ByteCount', 'ByteOffset'] as const) {
    Object.defineProperty(object, key, { value: info[key], writable: false, enumerable: true, configurable: true });
  }
  Object.defineProperty(object, 'Next', { value: info.Next ? mdl(info.Next) : null, writable: false, enumerable: true, configurable: true });
  return object;
}

function status(value: unknown): number {
  return typeof value === 'number' ? value | 0 : value === undefined ? 0x7fff_ffff : -1;
}

// ---- Waits: AdapterControl and AdapterListControl -----------------------------------------

interface Wait {
  routine: DRIVER_CONTROL | DRIVER_LIST_CONTROL;
  device: DEVICE_OBJECT;
  context: unknown;
}
const waits = new Map<number, Wait>();
let nextWait = 1;

function newWait(routine: DRIVER_CONTROL | DRIVER_LIST_CONTROL, deviceObject: DEVICE_OBJECT, context: unknown): number {
  const id = nextWait++;
  waits.set(id, { routine, device: deviceObject, context });
  return id;
}

// ---- DPCs, timers, interrupts ---------------------------------------------------------------

interface DpcRecord {
  routine: KDEFERRED_ROUTINE | IO_DPC_ROUTINE | null;
  context: unknown;
  arg1: unknown;
  arg2: unknown;
  /** For IoInitializeDpcRequest's DPC: the device. */
  device: DEVICE_OBJECT | null;
}
const dpcs = new Map<object, DpcRecord>();

interface InterruptRecord {
  routine: KSERVICE_ROUTINE;
  context: unknown;
  object: KINTERRUPT;
}
const interrupts = new Map<number, InterruptRecord>();

// ---- The entry dispatcher the host calls ------------------------------------------------------

function invalidRequest(deviceObject: DEVICE_OBJECT, request: IRP): NTSTATUS {
  request.IoStatus.Status = STATUS.INVALID_DEVICE_REQUEST;
  IoCompleteRequest(request, 0);
  return STATUS.INVALID_DEVICE_REQUEST;
}

const STATUS = { SUCCESS: 0, INVALID_DEVICE_REQUEST: 0xc000_0010 | 0, INSUFFICIENT_RESOURCES: 0xc000_009a | 0, INVALID_PARAMETER: 0xc000_000d | 0 };

/** Called by the host with an Entry number and numeric arguments; answers a number. */
export function __enter(entry: number, a: number, b: number, _c: number, _d: number): number {
  const E = abi.Entry;
  switch (entry) {
    case E.DriverEntry: {
      const driver = {
        Type: 4,
        DeviceObject: null,
        DriverExtension: { AddDevice: null },
        DriverName: '\\Driver\\dmalab',
        DriverStartIo: null,
        DriverUnload: null,
        MajorFunction: new Array<DRIVER_DISPATCH | null>(0x1c).fill(null),
      } as DRIVER_OBJECT;
      driverObject = driver;
      const main = driverModule.DriverEntry;
      if (typeof main !== 'function') throw new TypeError('the driver does not export a DriverEntry function');
      return status(main(driver, '\\Registry\\Machine\\System\\CurrentControlSet\\Services\\dmalab'));
    }
    case E.AddDevice: {
      const add = driverObject?.DriverExtension.AddDevice;
      if (typeof add !== 'function') return STATUS.SUCCESS;
      return status(add(driverObject!, device(a)));
    }
    case E.Dispatch: {
      const d = device(a);
      const request = irp(b);
      const stack = request.Tail.Overlay.CurrentStackLocation;
      stack.DeviceObject = d;
      const routine = driverObject?.MajorFunction[stack.MajorFunction];
      if (typeof routine !== 'function') return invalidRequest(d, request);
      return status(routine(d, request));
    }
    case E.StartIo: {
      const d = device(a);
      const request = irp(b);
      d.CurrentIrp = request;
      const routine = driverObject?.DriverStartIo;
      if (typeof routine === 'function') routine(d, request);
      return 0;
    }
    case E.AdapterControl: {
      const wait = waits.get(a);
      if (!wait) return 0;
      waits.delete(a);
      return num((wait.routine as DRIVER_CONTROL)(wait.device, wait.device.CurrentIrp, b, wait.context));
    }
    case E.ListControl: {
      const wait = waits.get(a);
      if (!wait) return 0;
      waits.delete(a);
      (wait.routine as DRIVER_LIST_CONTROL)(wait.device, wait.device.CurrentIrp, scatterGatherList(b), wait.context);
      return 0;
    }
    case E.Isr: {
      const record = interrupts.get(a);
      if (!record) return 0;
      return record.routine(record.object, record.context) ? 1 : 0;
    }
    case E.Dpc: {
      const object = get<KDPC>(a);
      const record = object ? dpcs.get(object) : undefined;
      if (!object || !record?.routine) return 0;
      if (record.device) (record.routine as IO_DPC_ROUTINE)(object, record.device, record.arg1 as IRP | null, record.arg2);
      else (record.routine as KDEFERRED_ROUTINE)(object, record.context, record.arg1, record.arg2);
      return 0;
    }
    case E.DeviceFlags:
      return num(device(a).Flags) | 0;
    case E.Unload: {
      const unload = driverObject?.DriverUnload;
      if (typeof unload === 'function') unload(driverObject!);
      return 0;
    }
    case E.IrpGone: {
      const request = objects.get(a);
      objects.delete(a);
      if (request) ids.set(request, a);
      return 0;
    }
  }
  return 0;
}

/** Called by the sandbox with the driver module's exports. */
export function __load(exports: { DriverEntry?: DRIVER_INITIALIZE }): void {
  driverModule = exports;
}

// ---- Helpers ---------------------------------------------------------------------------------

/** Makes an out or in-out parameter, what C passes as `&variable`; read the result from `.value`. */
export function ref<T>(value: T): Ref<T> {
  return { value };
}

/**
 * TRUE if the NTSTATUS is a success or informational code (not negative).
 *
 * IRQL: any level
 *
 * WDK: Using NTSTATUS Values
 */
export function NT_SUCCESS(Status: NTSTATUS): boolean {
  return (Status | 0) >= 0;
}

// ---- Ports -----------------------------------------------------------------------------------

/**
 * Reads a byte from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_UCHAR function
 */
export function READ_PORT_UCHAR(Port: PORT): UCHAR {
  return host.READ_PORT_UCHAR(num(Port));
}
/**
 * Reads a 16-bit value from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_USHORT function
 */
export function READ_PORT_USHORT(Port: PORT): USHORT {
  return host.READ_PORT_USHORT(num(Port));
}
/**
 * Reads a 32-bit value from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_ULONG function
 */
export function READ_PORT_ULONG(Port: PORT): ULONG {
  return host.READ_PORT_ULONG(num(Port));
}
/**
 * Writes a byte to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_UCHAR function
 */
export function WRITE_PORT_UCHAR(Port: PORT, Value: UCHAR): void {
  host.WRITE_PORT_UCHAR(num(Port), num(Value));
}
/**
 * Writes a 16-bit value to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_USHORT function
 */
export function WRITE_PORT_USHORT(Port: PORT, Value: USHORT): void {
  host.WRITE_PORT_USHORT(num(Port), num(Value));
}
/**
 * Writes a 32-bit value to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_ULONG function
 */
export function WRITE_PORT_ULONG(Port: PORT, Value: ULONG): void {
  host.WRITE_PORT_ULONG(num(Port), num(Value));
}

// ---- Memory ----------------------------------------------------------------------------------

/**
 * Copies Length bytes from Source to Destination; the blocks must not overlap (use RtlMoveMemory if they might).
 *
 * IRQL: any level (both blocks nonpaged; otherwise <= APC_LEVEL)
 *
 * WDK: RtlCopyMemory macro
 */
export function RtlCopyMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  host.RtlCopyMemory(num(Destination), num(Source), num(Length));
}
/**
 * Copies Length bytes from Source to Destination; the blocks may overlap.
 *
 * IRQL: any level (both blocks nonpaged; otherwise <= APC_LEVEL)
 *
 * WDK: RtlMoveMemory macro
 */
export function RtlMoveMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  host.RtlMoveMemory(num(Destination), num(Source), num(Length));
}
/**
 * Fills Length bytes at Destination with zeros.
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlZeroMemory macro
 */
export function RtlZeroMemory(Destination: PVOID, Length: number): void {
  host.RtlFillMemory(num(Destination), num(Length), 0);
}
/**
 * Fills Length bytes at Destination with the byte Fill.
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlFillMemory macro
 */
export function RtlFillMemory(Destination: PVOID, Length: number, Fill: UCHAR): void {
  host.RtlFillMemory(num(Destination), num(Length), num(Fill));
}
/**
 * Compares two blocks and answers how many bytes match before the first difference (Length if they are equal).
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlCompareMemory function
 */
export function RtlCompareMemory(Source1: PVOID, Source2: PVOID, Length: number): number {
  return host.RtlCompareMemory(num(Source1), num(Source2), num(Length));
}
/**
 * Reads a byte from memory: what C writes as `*(PUCHAR)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function READ_MEMORY_UCHAR(Va: PVOID): UCHAR {
  return host.READ_MEMORY_UCHAR(num(Va));
}
/**
 * Reads a 16-bit value from memory: what C writes as `*(PUSHORT)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function READ_MEMORY_USHORT(Va: PVOID): USHORT {
  return host.READ_MEMORY_USHORT(num(Va));
}
/**
 * Reads a 32-bit value from memory: what C writes as `*(PULONG)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function READ_MEMORY_ULONG(Va: PVOID): ULONG {
  return host.READ_MEMORY_ULONG(num(Va));
}
/**
 * Writes a byte to memory: what C writes as `*(PUCHAR)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function WRITE_MEMORY_UCHAR(Va: PVOID, Value: UCHAR): void {
  host.WRITE_MEMORY_UCHAR(num(Va), num(Value));
}
/**
 * Writes a 16-bit value to memory: what C writes as `*(PUSHORT)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function WRITE_MEMORY_USHORT(Va: PVOID, Value: USHORT): void {
  host.WRITE_MEMORY_USHORT(num(Va), num(Value));
}
/**
 * Writes a 32-bit value to memory: what C writes as `*(PULONG)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
export function WRITE_MEMORY_ULONG(Va: PVOID, Value: ULONG): void {
  host.WRITE_MEMORY_ULONG(num(Va), num(Value));
}

function tagOf(Tag: unknown): number {
  if (typeof Tag === 'string') {
    let t = 0;
    for (let i = Math.min(Tag.length, 4) - 1; i >= 0; i--) t = (t << 8) | (Tag.charCodeAt(i) & 0xff);
    return t >>> 0;
  }
  return num(Tag);
}

/**
 * Allocates pool memory of the kind Flags names (POOL_FLAG_NON_PAGED for anything DMA or an ISR touches); answers NULL
 * when it cannot.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExAllocatePool2 function
 * @param Tag Up to four characters that identify the allocation ('Dma1'), or their ULONG value.
 */
export function ExAllocatePool2(Flags: number, NumberOfBytes: number, Tag: ULONG | string): PVOID | null {
  return host.ExAllocatePool2(num(Flags), num(NumberOfBytes), tagOf(Tag)) || null;
}
/**
 * Allocates pool memory of the given POOL_TYPE (NonPagedPool for DMA buffers); answers NULL when it cannot. Superseded
 * by ExAllocatePool2.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExAllocatePoolWithTag function
 * @param Tag Up to four characters that identify the allocation, or their ULONG value.
 */
export function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: ULONG | string): PVOID | null {
  return host.ExAllocatePoolWithTag(num(PoolType), num(NumberOfBytes), tagOf(Tag)) || null;
}
/**
 * Frees pool memory allocated with the same Tag.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExFreePoolWithTag function
 */
export function ExFreePoolWithTag(P: PVOID, Tag: ULONG | string): void {
  host.ExFreePool(num(P), tagOf(Tag));
}
/**
 * Frees pool memory allocated by ExAllocatePool2 or ExAllocatePoolWithTag.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExFreePool function
 */
export function ExFreePool(P: PVOID): void {
  host.ExFreePool(num(P), 0);
}

// ---- Page arithmetic (macros) ----------------------------------------------------------------

/**
 * The offset of a virtual address within its page.
 *
 * IRQL: any level
 *
 * WDK: BYTE_OFFSET macro
 */
export function BYTE_OFFSET(Va: PVOID): ULONG {
  return num(Va) & 0xfff;
}
/**
 * The address of the start of the page that holds Va.
 *
 * IRQL: any level
 *
 * WDK: PAGE_ALIGN macro
 */
export function PAGE_ALIGN(Va: PVOID): PVOID {
  return (num(Va) & ~0xfff) >>> 0;
}
/**
 * How many pages Size bytes need (rounded up).
 *
 * IRQL: any level
 *
 * WDK: BYTES_TO_PAGES macro
 */
export function BYTES_TO_PAGES(Size: ULONG): ULONG {
  return Math.floor((num(Size) + 0xfff) / 0x1000);
}
/**
 * Size rounded up to a multiple of the page size.
 *
 * IRQL: any level
 *
 * WDK: ROUND_TO_PAGES macro
 */
export function ROUND_TO_PAGES(Size: ULONG): ULONG {
  return BYTES_TO_PAGES(Size) * 0x1000;
}
/**
 * How many pages a buffer of Size bytes starting at Va touches: the map registers a transfer of it needs.
 *
 * IRQL: any level
 *
 * WDK: ADDRESS_AND_SIZE_TO_SPAN_PAGES macro
 */
export function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: PVOID, Size: ULONG): ULONG {
  return Math.floor((BYTE_OFFSET(Va) + num(Size) + 0xfff) / 0x1000);
}

// ---- MDLs ------------------------------------------------------------------------------------

/**
 * The virtual address the MDL's buffer starts at. For DMA it is the initial CurrentVa of MapTransfer,
 * FlushAdapterBuffers and GetScatterGatherList: an index into the MDL, not necessarily an address to dereference.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlVirtualAddress macro
 */
export function MmGetMdlVirtualAddress(Mdl: MDL): PVOID {
  return Mdl.StartVa + Mdl.ByteOffset;
}
/**
 * The length in bytes of the buffer the MDL describes.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlByteCount macro
 */
export function MmGetMdlByteCount(Mdl: MDL): ULONG {
  return Mdl.ByteCount;
}
/**
 * The offset of the MDL's buffer within its first page.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlByteOffset macro
 */
export function MmGetMdlByteOffset(Mdl: MDL): ULONG {
  return Mdl.ByteOffset;
}
/**
 * Answers a system-space virtual address for the locked-down pages the MDL describes, mapping them if needed; NULL when
 * the mapping fails.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmGetSystemAddressForMdlSafe macro
 * @param Priority LowPagePriority, NormalPagePriority or HighPagePriority: how badly the mapping must succeed.
 */
export function MmGetSystemAddressForMdlSafe(Mdl: MDL, Priority: number): PVOID | null {
  const id = idOf(Mdl);
  const va = host.MmGetSystemAddressForMdlSafe(id, num(Priority));
  if (id > 0) mdl(id);
  return va || null;
}
/**
 * The physical address behind a virtual address (ntddk.h), 0 when it is not mapped. It is what the CPU's page tables
 * say, not a logical address a DMA controller can use: for DMA, MapTransfer (or AllocateCommonBuffer's LogicalAddress)
 * gives the address the device uses.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmGetPhysicalAddress function
 */
export function MmGetPhysicalAddress(BaseAddress: PVOID): PHYSICAL_ADDRESS {
  return host.MmGetPhysicalAddress(num(BaseAddress));
}
/**
 * Allocates an MDL big enough for the buffer at VirtualAddress of Length bytes, optionally attaching it to an IRP.
 * Answers NULL when it cannot. For a nonpaged buffer, follow with MmBuildMdlForNonPagedPool.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoAllocateMdl function
 * @param SecondaryBuffer FALSE makes the MDL the IRP's MdlAddress; TRUE chains it after it. FALSE when Irp is NULL.
 * @param ChargeQuota Reserved: FALSE.
 * @param Irp NULL, or the IRP to attach the MDL to.
 */
export function IoAllocateMdl(VirtualAddress: PVOID | null, Length: ULONG, SecondaryBuffer: boolean, ChargeQuota: boolean, Irp: IRP | null): MDL | null {
  const id = host.IoAllocateMdl(num(VirtualAddress ?? 0), num(Length), flag(SecondaryBuffer), flag(ChargeQuota), idOf(Irp));
  if (id <= 0) return null;
  const object = mdl(id);
  if (Irp && !SecondaryBuffer) Irp.MdlAddress = object;
  return object;
}
/**
 * Fills in an MDL (from IoAllocateMdl) that describes a nonpaged buffer with the physical pages behind it.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmBuildMdlForNonPagedPool function
 */
export function MmBuildMdlForNonPagedPool(MemoryDescriptorList: MDL): void {
  const id = idOf(MemoryDescriptorList);
  host.MmBuildMdlForNonPagedPool(id);
  if (id > 0) mdl(id);
}
/**
 * Makes TargetMdl describe a part of the buffer SourceMdl describes, to split a large transfer into smaller ones.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoBuildPartialMdl function
 * @param TargetMdl An MDL the caller allocated (IoAllocateMdl) big enough for the part.
 * @param VirtualAddress Where the part starts, within SourceMdl's buffer (MmGetMdlVirtualAddress(SourceMdl) + offset).
 * @param Length Bytes in the part; 0 means to the end of the source buffer.
 */
export function IoBuildPartialMdl(SourceMdl: MDL, TargetMdl: MDL, VirtualAddress: PVOID, Length: ULONG): void {
  const target = idOf(TargetMdl);
  host.IoBuildPartialMdl(idOf(SourceMdl), target, num(VirtualAddress), num(Length));
  if (target > 0) mdl(target);
}
/**
 * Frees an MDL the driver allocated with IoAllocateMdl (never the MdlAddress of an IRP it did not build).
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoFreeMdl function
 */
export function IoFreeMdl(Mdl: MDL): void {
  host.IoFreeMdl(idOf(Mdl));
}
/**
 * Flushes the memory the MDL describes from all processors' caches, so that a transfer sees (or leaves) consistent
 * data: call it just before a DMA transfer starts, or right after a PIO read.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeFlushIoBuffers function
 * @param ReadOperation TRUE for a read (device to memory), FALSE for a write.
 * @param DmaOperation TRUE for DMA, FALSE for PIO.
 */
export function KeFlushIoBuffers(Mdl: MDL, ReadOperation: boolean, DmaOperation: boolean): void {
  host.KeFlushIoBuffers(idOf(Mdl), flag(ReadOperation), flag(DmaOperation));
}

// ---- IRQL ------------------------------------------------------------------------------------

/**
 * Answers the current IRQL.
 *
 * IRQL: any level
 *
 * WDK: KeGetCurrentIrql function
 */
export function KeGetCurrentIrql(): KIRQL {
  return host.KeGetCurrentIrql();
}
/**
 * Raises the current processor's IRQL to NewIrql, masking interrupts at or below it, and saves the old one for KeLowerIrql.
 *
 * IRQL: any level (NewIrql must be >= the current IRQL)
 *
 * WDK: KeRaiseIrql macro
 * @param OldIrql Receives the IRQL to restore with KeLowerIrql.
 */
export function KeRaiseIrql(NewIrql: KIRQL, OldIrql: Ref<KIRQL>): void {
  const old = host.KeRaiseIrql(num(NewIrql));
  if (OldIrql) OldIrql.value = old;
}
/**
 * Raises the IRQL to DISPATCH_LEVEL and answers the old IRQL, for KeLowerIrql.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeRaiseIrqlToDpcLevel function
 */
export function KeRaiseIrqlToDpcLevel(): KIRQL {
  return host.KeRaiseIrql(2);
}
/**
 * Restores the IRQL that KeRaiseIrql saved.
 *
 * IRQL: any level (NewIrql must be the value KeRaiseIrql returned)
 *
 * WDK: KeLowerIrql function
 */
export function KeLowerIrql(NewIrql: KIRQL): void {
  host.KeLowerIrql(num(NewIrql));
}
/**
 * Busy-waits for MicroSeconds (keep it short: the processor does nothing else meanwhile; the simulated machine runs on).
 *
 * IRQL: any level
 *
 * WDK: KeStallExecutionProcessor function
 */
export function KeStallExecutionProcessor(MicroSeconds: ULONG): void {
  host.KeStallExecutionProcessor(num(MicroSeconds));
}

// ---- Device objects -------------------------------------------------------------------------

/**
 * Creates a device object for the driver, with a device extension; in AddDevice, clear DO_DEVICE_INITIALIZING in its
 * Flags once it is set up.
 *
 * IRQL: <= APC_LEVEL
 *
 * WDK: IoCreateDevice function
 * @param DeviceExtensionSize Bytes of device extension (the lab gives an object in DeviceExtension whatever the size).
 * @param DeviceName NULL for an unnamed device object, as PnP function drivers use.
 * @param DeviceType FILE_DEVICE_*.
 * @param DeviceCharacteristics FILE_DEVICE_SECURE_OPEN and the like.
 * @param DeviceObject Receives the new device object.
 */
export function IoCreateDevice(
  DriverObject: DRIVER_OBJECT,
  DeviceExtensionSize: ULONG,
  DeviceName: string | null,
  DeviceType: ULONG,
  DeviceCharacteristics: ULONG,
  Exclusive: boolean,
  DeviceObject: Ref<DEVICE_OBJECT | null>,
): NTSTATUS {
  const id = host.IoCreateDevice(num(DeviceExtensionSize), num(DeviceType), num(DeviceCharacteristics), flag(Exclusive));
  if (id <= 0) return id;
  const created = newDevice(id, DriverObject);
  created.Flags = 0x80; // DO_DEVICE_INITIALIZING
  created.DeviceType = num(DeviceType);
  created.Characteristics = num(DeviceCharacteristics);
  created.DeviceExtension = {};
  created.NextDevice = DriverObject?.DeviceObject ?? null;
  if (DriverObject) DriverObject.DeviceObject = created;
  DeviceObject.value = created;
  return STATUS.SUCCESS;
}
/**
 * Deletes a device object (when the device is removed, or in Unload).
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDeleteDevice function
 */
export function IoDeleteDevice(DeviceObject: DEVICE_OBJECT): void {
  host.IoDeleteDevice(idOf(DeviceObject));
  const driver = DeviceObject?.DriverObject;
  if (driver) {
    if (driver.DeviceObject === DeviceObject) driver.DeviceObject = DeviceObject.NextDevice;
    else for (let d = driver.DeviceObject; d; d = d.NextDevice) if (d.NextDevice === DeviceObject) d.NextDevice = DeviceObject.NextDevice;
  }
}
/**
 * Attaches SourceDevice to the top of the stack TargetDevice is in; answers the device object it attached to (the one
 * to send IRPs down to), or NULL.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoAttachDeviceToDeviceStack function
 */
export function IoAttachDeviceToDeviceStack(SourceDevice: DEVICE_OBJECT, TargetDevice: DEVICE_OBJECT): DEVICE_OBJECT | null {
  const lower = host.IoAttachDeviceToDeviceStack(idOf(SourceDevice), idOf(TargetDevice));
  if (lower <= 0) return null;
  const attachedTo = device(lower);
  attachedTo.AttachedDevice = SourceDevice;
  SourceDevice.StackSize = attachedTo.StackSize + 1;
  return attachedTo;
}
/**
 * Detaches the driver's device object from TargetDevice, the lower device IoAttachDeviceToDeviceStack answered.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDetachDevice function
 */
export function IoDetachDevice(TargetDevice: DEVICE_OBJECT): void {
  host.IoDetachDevice(idOf(TargetDevice));
  if (TargetDevice) TargetDevice.AttachedDevice = null;
}

// ---- IRPs ------------------------------------------------------------------------------------

/**
 * The caller's own I/O stack location in the IRP: its major function and parameters.
 *
 * IRQL: any level
 *
 * WDK: IoGetCurrentIrpStackLocation function
 */
export function IoGetCurrentIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Tail.Overlay.CurrentStackLocation;
}
/**
 * The stack location the next-lower driver will see (a copy to fill in before IoCallDriver).
 *
 * IRQL: any level
 *
 * WDK: IoGetNextIrpStackLocation function
 */
export function IoGetNextIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Tail.Overlay.CurrentStackLocation;
}
/**
 * Lets the next-lower driver reuse this driver's stack location, before passing the IRP down with IoCallDriver when
 * no completion routine is needed.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoSkipCurrentIrpStackLocation macro
 */
export function IoSkipCurrentIrpStackLocation(Irp: IRP): void {
  host.IoSkipCurrentIrpStackLocation(idOf(Irp));
}
/**
 * Copies this driver's stack location to the next-lower driver's, before passing the IRP down with IoCallDriver.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCopyCurrentIrpStackLocationToNext function
 */
export function IoCopyCurrentIrpStackLocationToNext(Irp: IRP): void {
  host.IoSkipCurrentIrpStackLocation(idOf(Irp));
}
/**
 * Marks the IRP pending: the dispatch routine must then return STATUS_PENDING, and other routines (StartIo, the DPC)
 * finish the IRP. Call it before queuing the IRP (IoStartPacket).
 *
 * IRQL: any level
 *
 * WDK: IoMarkIrpPending function
 */
export function IoMarkIrpPending(Irp: IRP): void {
  Irp.Tail.Overlay.CurrentStackLocation.Control |= 0x01;
  Irp.PendingReturned = true;
  host.IoMarkIrpPending(idOf(Irp));
}
/**
 * Returns a finished IRP to the I/O manager, with the status and information set in Irp.IoStatus beforehand. The IRP
 * belongs to the system afterwards. Never call it holding a spin lock.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCompleteRequest macro
 * @param PriorityBoost IO_NO_INCREMENT, or a boost for the requesting thread for a slow device.
 */
export function IoCompleteRequest(Irp: IRP, PriorityBoost: number): void {
  const id = idOf(Irp);
  host.IoCompleteRequest(id, num(Irp?.IoStatus?.Status), num(Irp?.IoStatus?.Information), num(PriorityBoost));
  if (id > 0) objects.delete(id);
}
/**
 * Hands an IRP to StartIo at once if the device is idle, or queues it in the device queue otherwise.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoStartPacket function
 * @param Key NULL (insert at the tail), or a sort key for the device queue.
 * @param CancelFunction A Cancel routine, or NULL.
 */
export function IoStartPacket(DeviceObject: DEVICE_OBJECT, Irp: IRP, Key: Ref<ULONG> | null, CancelFunction: null): void {
  host.IoStartPacket(idOf(DeviceObject), idOf(Irp));
}
/**
 * Takes the next IRP off the device queue and calls StartIo with it (or marks the device idle if there is none).
 * Called from the DPC or StartIo when the current IRP is done.
 *
 * IRQL: DISPATCH_LEVEL
 *
 * WDK: IoStartNextPacket function
 * @param Cancelable TRUE if IRPs in the queue can be cancelled (a Cancel routine was given to IoStartPacket).
 */
export function IoStartNextPacket(DeviceObject: DEVICE_OBJECT, Cancelable: boolean): void {
  const started = host.IoStartNextPacket(idOf(DeviceObject), flag(Cancelable));
  if (started === 0 && DeviceObject) DeviceObject.CurrentIrp = null;
}
/**
 * Sends an IRP to the driver of DeviceObject (normally the lower device from IoAttachDeviceToDeviceStack) and answers
 * that driver's status.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCallDriver macro
 */
export function IoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const id = idOf(Irp);
  const result = host.IoCallDriver(idOf(DeviceObject), id);
  if (id > 0 && !objects.has(id)) Irp.IoStatus.Status = result;
  return result;
}
/**
 * Sends the IRP down and waits for the lower driver to finish it; the IRP comes back to the caller, with the lower
 * driver's status in Irp.IoStatus.Status (as for IRP_MN_START_DEVICE). Answers TRUE if the IRP was sent.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoForwardIrpSynchronously function
 */
export function IoForwardIrpSynchronously(DeviceObject: DEVICE_OBJECT, Irp: IRP): boolean {
  const result = host.IoForwardIrpSynchronously(idOf(DeviceObject), idOf(Irp));
  Irp.IoStatus.Status = result;
  return true;
}

// ---- Interrupts and synchronization -----------------------------------------------------------

/**
 * Registers the driver's InterruptService routine for the device's interrupt and creates the interrupt object; from
 * then on the ISR runs when the device interrupts.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoConnectInterrupt function
 * @param InterruptObject Receives the interrupt object (keep it for KeSynchronizeExecution and IoDisconnectInterrupt).
 * @param ServiceContext Passed to the ISR (typically the device object or its extension).
 * @param SpinLock NULL.
 * @param Vector The translated resource's u.Interrupt.Vector.
 * @param Irql The translated resource's u.Interrupt.Level (the DIRQL).
 * @param SynchronizeIrql The IRQL the ISR runs at: Irql unless the driver has several interrupts.
 * @param InterruptMode Latched or LevelSensitive.
 * @param ProcessorEnableMask The translated resource's u.Interrupt.Affinity.
 * @param FloatingSave FALSE.
 */
export function IoConnectInterrupt(
  InterruptObject: Ref<KINTERRUPT | null>,
  ServiceRoutine: KSERVICE_ROUTINE,
  ServiceContext: unknown,
  SpinLock: null,
  Vector: ULONG,
  Irql: KIRQL,
  SynchronizeIrql: KIRQL,
  InterruptMode: KINTERRUPT_MODE,
  ShareVector: boolean,
  ProcessorEnableMask: number,
  FloatingSave: boolean,
): NTSTATUS {
  if (typeof ServiceRoutine !== 'function') return STATUS.INVALID_PARAMETER;
  const id = host.IoConnectInterrupt(num(Vector), num(Irql), num(SynchronizeIrql), num(InterruptMode), flag(ShareVector), num(ProcessorEnableMask));
  if (id <= 0) return id;
  const object = own(id, { Type: 22, Vector: num(Vector), Irql: num(Irql), SynchronizeIrql: num(SynchronizeIrql) } as KINTERRUPT);
  interrupts.set(id, { routine: ServiceRoutine, context: ServiceContext, object });
  InterruptObject.value = object;
  return STATUS.SUCCESS;
}
/**
 * Unregisters the ISR IoConnectInterrupt connected (when the device is stopped or removed).
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDisconnectInterrupt function
 */
export function IoDisconnectInterrupt(InterruptObject: KINTERRUPT): void {
  const id = idOf(InterruptObject);
  host.IoDisconnectInterrupt(id);
  interrupts.delete(id);
}
/**
 * Runs SynchronizeRoutine at the interrupt's SynchronizeIrql holding its lock, so that it cannot race the ISR; answers
 * the BOOLEAN SynchronizeRoutine answers (TRUE for success).
 *
 * IRQL: <= DIRQL
 *
 * WDK: KeSynchronizeExecution function
 * @param SynchronizeContext Passed to SynchronizeRoutine.
 */
export function KeSynchronizeExecution(Interrupt: KINTERRUPT, SynchronizeRoutine: KSYNCHRONIZE_ROUTINE, SynchronizeContext: unknown): boolean {
  const old = host.KeSynchronizeExecutionEnter(idOf(Interrupt));
  if (old < 0) return false;
  try {
    return !!SynchronizeRoutine(SynchronizeContext);
  } finally {
    host.KeSynchronizeExecutionLeave(old);
  }
}

// ---- DPCs and timers ---------------------------------------------------------------------------

/**
 * Initializes a DPC object and attaches the CustomDpc routine to it; queue it with KeInsertQueueDpc, or give it to
 * KeSetTimer. Pass any object (`{}`) as storage.
 *
 * IRQL: any level
 *
 * WDK: KeInitializeDpc function
 * @param DeferredContext Passed to DeferredRoutine.
 */
export function KeInitializeDpc(Dpc: KDPC, DeferredRoutine: KDEFERRED_ROUTINE, DeferredContext: unknown): void {
  const id = host.KeInitializeDpc();
  own(id, Dpc);
  Object.assign(Dpc, { Type: 19, DeferredRoutine, DeferredContext });
  dpcs.set(Dpc, { routine: DeferredRoutine, context: DeferredContext, arg1: null, arg2: null, device: null });
}
/**
 * Queues a DPC to run its CustomDpc routine at DISPATCH_LEVEL; answers FALSE if it was already queued.
 *
 * IRQL: any level
 *
 * WDK: KeInsertQueueDpc function
 * @param SystemArgument1 Passed to the CustomDpc routine.
 * @param SystemArgument2 Passed to the CustomDpc routine.
 */
export function KeInsertQueueDpc(Dpc: KDPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean {
  const record = dpcs.get(Dpc);
  const inserted = host.KeInsertQueueDpc(idOf(Dpc)) === 1;
  if (record && inserted) {
    record.arg1 = SystemArgument1;
    record.arg2 = SystemArgument2;
  }
  return inserted;
}
/**
 * Takes a DPC off the queue if it has not run yet; answers TRUE if it was queued.
 *
 * IRQL: any level
 *
 * WDK: KeRemoveQueueDpc function
 */
export function KeRemoveQueueDpc(Dpc: KDPC): boolean {
  return host.KeRemoveQueueDpc(idOf(Dpc)) === 1;
}
/**
 * Registers the driver's DpcForIsr routine for the device object (in AddDevice), for the ISR to queue with IoRequestDpc.
 *
 * IRQL: any level
 *
 * WDK: IoInitializeDpcRequest function
 */
export function IoInitializeDpcRequest(DeviceObject: DEVICE_OBJECT, DpcRoutine: IO_DPC_ROUTINE): void {
  const id = host.IoInitializeDpcRequest(idOf(DeviceObject));
  if (id <= 0) return;
  const dpc = own(id, { Type: 19, DeferredRoutine: DpcRoutine, DeferredContext: DeviceObject } as KDPC);
  dpcs.set(dpc, { routine: DpcRoutine, context: DeviceObject, arg1: null, arg2: null, device: DeviceObject });
  DeviceObject.Dpc = dpc;
}
/**
 * Queues the device's DpcForIsr routine, from the ISR, to finish the interrupt-driven I/O at DISPATCH_LEVEL.
 *
 * IRQL: DIRQL
 *
 * WDK: IoRequestDpc function
 * @param Irp The current IRP (DeviceObject.CurrentIrp), passed to DpcForIsr.
 * @param Context Passed to DpcForIsr.
 */
export function IoRequestDpc(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  const dpc = DeviceObject?.Dpc;
  const record = dpc ? dpcs.get(dpc) : undefined;
  const inserted = host.IoRequestDpc(idOf(DeviceObject), idOf(dpc)) === 1;
  if (record && inserted) {
    record.arg1 = Irp;
    record.arg2 = Context;
  }
}
/**
 * Initializes a timer object (a notification timer). Pass any object (`{}`) as storage.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeInitializeTimer function
 */
export function KeInitializeTimer(Timer: KTIMER): void {
  own(host.KeInitializeTimer(), Timer);
  Object.assign(Timer, { Type: 8 });
}
function dueTime(DueTime: LARGE_INTEGER): number {
  return typeof DueTime === 'object' && DueTime !== null ? num(DueTime.QuadPart) : num(DueTime);
}
/**
 * Sets a timer to expire once after DueTime and, if Dpc is given, to queue that DPC when it does. Answers TRUE if the
 * timer was already set (it is reset).
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeSetTimer function
 * @param DueTime In 100 ns units: negative is relative to now, positive an absolute system time.
 * @param Dpc NULL, or a DPC from KeInitializeDpc to queue on expiry.
 */
export function KeSetTimer(Timer: KTIMER, DueTime: LARGE_INTEGER, Dpc: KDPC | null): boolean {
  return host.KeSetTimerEx(idOf(Timer), dueTime(DueTime), 0, idOf(Dpc)) === 1;
}
/**
 * Like KeSetTimer, with an optional period for a recurring timer. Answers TRUE if the timer was already set.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeSetTimerEx function
 * @param DueTime In 100 ns units: negative is relative to now.
 * @param Period 0 for a one-shot timer, else the period in milliseconds.
 * @param Dpc NULL, or a DPC from KeInitializeDpc to queue on each expiry.
 */
export function KeSetTimerEx(Timer: KTIMER, DueTime: LARGE_INTEGER, Period: number, Dpc: KDPC | null): boolean {
  return host.KeSetTimerEx(idOf(Timer), dueTime(DueTime), num(Period), idOf(Dpc)) === 1;
}
/**
 * Takes a timer (and its DPC) out of the timer queue before it expires; answers TRUE if it was still queued. Cancel
 * every active timer in Unload.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeCancelTimer function
 */
export function KeCancelTimer(Timer: KTIMER): boolean {
  return host.KeCancelTimer(idOf(Timer)) === 1;
}

// ---- DMA --------------------------------------------------------------------------------------

function adapterId(DmaAdapter: DMA_ADAPTER): number {
  return idOf(DmaAdapter);
}

interface SgInfo {
  elements: { Address: number; Length: number }[];
}
function scatterGatherList(id: number): SCATTER_GATHER_LIST {
  const info = JSON.parse(rich.describe('sg', id)) as SgInfo;
  const elements = info.elements.map((e) => Object.freeze({ Address: e.Address, Length: e.Length, Reserved: 0 }));
  return own(id, Object.freeze({ NumberOfElements: elements.length, Reserved: 0, Elements: Object.freeze(elements) }));
}

const DmaOperations: DMA_OPERATIONS = Object.freeze({
  Size: 0x80,
  PutDmaAdapter(DmaAdapter: DMA_ADAPTER): void {
    host.PutDmaAdapter(adapterId(DmaAdapter));
  },
  AllocateCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: Ref<PHYSICAL_ADDRESS>, CacheEnabled: boolean): PVOID | null {
    const va = host.AllocateCommonBuffer(adapterId(DmaAdapter), num(Length), flag(CacheEnabled));
    if (va > 0 && LogicalAddress) LogicalAddress.value = host.out(0);
    return va > 0 ? va : null;
  },
  FreeCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID, CacheEnabled: boolean): void {
    host.FreeCommonBuffer(adapterId(DmaAdapter), num(Length), num(LogicalAddress), num(VirtualAddress), flag(CacheEnabled));
  },
  AllocateAdapterChannel(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, NumberOfMapRegisters: ULONG, ExecutionRoutine: DRIVER_CONTROL, Context: unknown): NTSTATUS {
    if (typeof ExecutionRoutine !== 'function') return STATUS.INVALID_PARAMETER;
    return host.AllocateAdapterChannel(adapterId(DmaAdapter), idOf(DeviceObject), num(NumberOfMapRegisters), newWait(ExecutionRoutine, DeviceObject, Context));
  },
  FlushAdapterBuffers(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: ULONG, WriteToDevice: boolean): boolean {
    return host.FlushAdapterBuffers(adapterId(DmaAdapter), idOf(Mdl), num(MapRegisterBase), num(CurrentVa), num(Length), flag(WriteToDevice)) === 1;
  },
  FreeAdapterChannel(DmaAdapter: DMA_ADAPTER): void {
    host.FreeAdapterChannel(adapterId(DmaAdapter));
  },
  FreeMapRegisters(DmaAdapter: DMA_ADAPTER, MapRegisterBase: MAP_REGISTER_BASE, NumberOfMapRegisters: ULONG): void {
    host.FreeMapRegisters(adapterId(DmaAdapter), num(MapRegisterBase), num(NumberOfMapRegisters));
  },
  MapTransfer(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: Ref<ULONG>, WriteToDevice: boolean): PHYSICAL_ADDRESS {
    const address = host.MapTransfer(adapterId(DmaAdapter), idOf(Mdl), num(MapRegisterBase), num(CurrentVa), num(Length?.value), flag(WriteToDevice));
    if (Length) Length.value = host.out(0);
    return address;
  },
  GetDmaAlignment(DmaAdapter: DMA_ADAPTER): ULONG {
    return host.GetDmaAlignment(adapterId(DmaAdapter));
  },
  ReadDmaCounter(DmaAdapter: DMA_ADAPTER): ULONG {
    return host.ReadDmaCounter(adapterId(DmaAdapter));
  },
  GetScatterGatherList(
    DmaAdapter: DMA_ADAPTER,
    DeviceObject: DEVICE_OBJECT,
    Mdl: MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: DRIVER_LIST_CONTROL,
    Context: unknown,
    WriteToDevice: boolean,
  ): NTSTATUS {
    if (typeof ExecutionRoutine !== 'function') return STATUS.INVALID_PARAMETER;
    const wait = newWait(ExecutionRoutine, DeviceObject, Context);
    return host.GetScatterGatherList(adapterId(DmaAdapter), idOf(DeviceObject), idOf(Mdl), num(CurrentVa), num(Length), wait, flag(WriteToDevice), 0);
  },
  PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void {
    host.PutScatterGatherList(adapterId(DmaAdapter), idOf(ScatterGather), flag(WriteToDevice));
  },
  CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: ULONG, ScatterGatherListSize: Ref<ULONG>, NumberOfMapRegisters: Ref<ULONG> | null): NTSTATUS {
    const result = host.CalculateScatterGatherList(adapterId(DmaAdapter), idOf(Mdl), num(CurrentVa), num(Length));
    if (result >= 0) {
      if (ScatterGatherListSize) ScatterGatherListSize.value = host.out(0);
      if (NumberOfMapRegisters) NumberOfMapRegisters.value = host.out(1);
    }
    return result;
  },
  BuildScatterGatherList(
    DmaAdapter: DMA_ADAPTER,
    DeviceObject: DEVICE_OBJECT,
    Mdl: MDL,
    CurrentVa: PVOID,
    Length: ULONG,
    ExecutionRoutine: DRIVER_LIST_CONTROL,
    Context: unknown,
    WriteToDevice: boolean,
    ScatterGatherBuffer: PVOID,
    ScatterGatherLength: ULONG,
  ): NTSTATUS {
    if (typeof ExecutionRoutine !== 'function') return STATUS.INVALID_PARAMETER;
    const wait = newWait(ExecutionRoutine, DeviceObject, Context);
    return host.GetScatterGatherList(adapterId(DmaAdapter), idOf(DeviceObject), idOf(Mdl), num(CurrentVa), num(Length), wait, flag(WriteToDevice), num(ScatterGatherLength) || -1);
  },
});

/**
 * Answers the DMA adapter for a device (its DmaOperations hold the DMA routines), or NULL. Call it while starting the
 * device (or in AddDevice); release the adapter with PutDmaAdapter.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoGetDmaAdapter function
 * @param PhysicalDeviceObject The PDO AddDevice received.
 * @param DeviceDescription The device's DMA attributes (zero everything, then fill in what applies).
 * @param NumberOfMapRegisters Receives the most map registers the driver may ask for in one transfer (AllocateAdapterChannel).
 */
export function IoGetDmaAdapter(PhysicalDeviceObject: DEVICE_OBJECT, DeviceDescription: DEVICE_DESCRIPTION, NumberOfMapRegisters: Ref<ULONG>): DMA_ADAPTER | null {
  const d = DeviceDescription ?? ({} as DEVICE_DESCRIPTION);
  const description = {
    Version: num(d.Version ?? 0),
    Master: !!d.Master,
    ScatterGather: !!d.ScatterGather,
    DemandMode: !!d.DemandMode,
    AutoInitialize: !!d.AutoInitialize,
    Dma32BitAddresses: !!d.Dma32BitAddresses,
    IgnoreCount: !!d.IgnoreCount,
    Reserved1: !!d.Reserved1,
    Dma64BitAddresses: !!d.Dma64BitAddresses,
    BusNumber: num(d.BusNumber ?? 0),
    DmaChannel: num(d.DmaChannel ?? 0),
    InterfaceType: num(d.InterfaceType ?? -1),
    DmaWidth: num(d.DmaWidth ?? 0),
    DmaSpeed: num(d.DmaSpeed ?? 0),
    MaximumLength: num(d.MaximumLength ?? 0),
    DmaPort: num(d.DmaPort ?? 0),
  };
  const answer = JSON.parse(rich.getDmaAdapter(idOf(PhysicalDeviceObject), JSON.stringify(description))) as { id: number; mapRegisters: number };
  if (answer.id <= 0) return null;
  if (NumberOfMapRegisters) NumberOfMapRegisters.value = answer.mapRegisters;
  return own(answer.id, Object.freeze({ Version: description.Version === 3 ? 3 : description.Version === 2 ? 2 : 1, Size: 16, DmaOperations }));
}

// ---- Diagnostics ------------------------------------------------------------------------------

/** What the console keeps of one DbgPrint (the host cuts there too). */
const DBGPRINT_LIMIT = 4096;

function pad(text: string, width: number, zero: boolean, left: boolean): string {
  if (text.length >= width) return text;
  if (left) return text + ' '.repeat(width - text.length);
  return (zero ? '0' : ' ').repeat(width - text.length) + text;
}

/** printf-style formatting as DbgPrint does it: %d %i %u %x %X %p %c %s %%, width, 0 and - flags, l/ll/I64/h size prefixes. */
function format(text: string, args: unknown[]): string {
  let i = 0;
  return String(text).replace(/%([-0]*)(\d*)(?:ll|l|h|I64|I32|I)?([diuxXpcs%])/g, (_m, flags: string, width: string, conv: string) => {
    if (conv === '%') return '%';
    const arg = args[i++];
    const w = Math.min(Number(width || 0), DBGPRINT_LIMIT);
    const zero = flags.includes('0');
    const left = flags.includes('-');
    switch (conv) {
      case 'd':
      case 'i':
        return pad(String(Math.trunc(num(arg)) | 0), w, zero, left);
      case 'u':
        return pad(String(num(arg) >>> 0), w, zero, left);
      case 'x':
        return pad((num(arg) >>> 0).toString(16), w, zero, left);
      case 'X':
        return pad((num(arg) >>> 0).toString(16).toUpperCase(), w, zero, left);
      case 'p':
        return pad((num(arg) >>> 0).toString(16).toUpperCase().padStart(8, '0'), w, zero, left);
      case 'c':
        return pad(String.fromCharCode(num(arg) & 0xff), w, false, left);
      default:
        return pad(String(arg), w, false, left);
    }
  });
}

/**
 * Prints a message to the kernel debugger (here the lab console and the trace); the format is printf's. Answers
 * STATUS_SUCCESS.
 *
 * IRQL: any level
 *
 * WDK: DbgPrint function
 */
export function DbgPrint(Format: string, ...args: unknown[]): NTSTATUS {
  // The console keeps 4096 characters of a line: format no more than can reach them.
  rich.print(format(String(Format).slice(0, 4 * DBGPRINT_LIMIT), args).slice(0, DBGPRINT_LIMIT));
  return STATUS.SUCCESS;
}

/**
 * Brings the system down in a controlled way with a bug check code and four parameters of the driver's choosing.
 * Never returns.
 *
 * IRQL: any level
 *
 * WDK: KeBugCheckEx function
 */
export function KeBugCheckEx(BugCheckCode: ULONG, P1: number, P2: number, P3: number, P4: number): never {
  host.KeBugCheckEx(num(BugCheckCode), num(P1), num(P2), num(P3), num(P4));
  throw new Error('unreachable');
}
