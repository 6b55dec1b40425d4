// wdm.d.ts: what a DMA Lab driver sees, as if wdm.h were included. Generated from the
// simulator's `wdm` surface (src/sim/driver/guest/wdm.ts) and its constants; do not edit.

/** An NTSTATUS code: negative (severity error) means failure; test it with NT_SUCCESS. */
type NTSTATUS = number;
/** An interrupt request level: PASSIVE_LEVEL (0), APC_LEVEL (1), DISPATCH_LEVEL (2), or a device's DIRQL above that. */
type KIRQL = number;
type ULONG = number;
type USHORT = number;
type UCHAR = number;
type BOOLEAN = boolean;
/** A virtual address: a number, so that `Va + Offset` works. */
type PVOID = number;
/** A physical (logical) address as the DMA controller sees it. */
type PHYSICAL_ADDRESS = number;
/** An I/O port number. */
type PORT = number;
/**
 * An opaque handle for the map registers the HAL assigned to a transfer: AdapterControl receives it, and MapTransfer,
 * FlushAdapterBuffers and FreeMapRegisters take it back.
 */
type MAP_REGISTER_BASE = number;
/**
 * What an AdapterControl routine answers: KeepObject (1: keep the adapter, as system DMA does until
 * FreeAdapterChannel), DeallocateObject (2: release the adapter) or DeallocateObjectKeepRegisters (3: release the
 * adapter but keep the map registers, as packet-based bus-master DMA does until FreeMapRegisters).
 *
 * WDK: IO_ALLOCATION_ACTION enumeration
 */
type IO_ALLOCATION_ACTION = 1 | 2 | 3;
/**
 * The bus type a device sits on (Isa, Eisa, PCIBus, …), as in DEVICE_DESCRIPTION.InterfaceType.
 *
 * WDK: INTERFACE_TYPE enumeration
 */
type INTERFACE_TYPE = number;
/** A system DMA controller's data width (DEVICE_DESCRIPTION.DmaWidth): Width8Bits, Width16Bits or Width32Bits. */
type DMA_WIDTH = number;
/** A system DMA controller's timing (DEVICE_DESCRIPTION.DmaSpeed): Compatible, TypeA, TypeB, TypeC or TypeF. */
type DMA_SPEED = number;
/** How the device signals its interrupt (IoConnectInterrupt's InterruptMode): LevelSensitive or Latched. */
type KINTERRUPT_MODE = number;
/** The kind of pool ExAllocatePoolWithTag allocates: NonPagedPool, NonPagedPoolNx or PagedPool. */
type POOL_TYPE = number;
/** An out or in-out parameter: what C passes as a pointer to a scalar. Make one with ref(). */
interface Ref<T> {
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
type DRIVER_INITIALIZE = (DriverObject: DRIVER_OBJECT, RegistryPath: string) => NTSTATUS;
/**
 * AddDevice: called by the PnP manager for each device it enumerates for this driver; it creates a device object
 * (IoCreateDevice) and attaches it to the device stack (IoAttachDeviceToDeviceStack).
 *
 * IRQL: called at PASSIVE_LEVEL
 *
 * WDK: DRIVER_ADD_DEVICE callback function
 * @param PhysicalDeviceObject The PDO the bus driver created; keep it for IoGetDmaAdapter.
 */
type DRIVER_ADD_DEVICE = (DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT) => NTSTATUS;
/**
 * A dispatch routine (DispatchRead, DispatchWrite, DispatchPnp, …) set in DriverObject.MajorFunction[IRP_MJ_*]. It
 * services one IRP: completes it (IoCompleteRequest), passes it down (IoCallDriver), or marks it pending
 * (IoMarkIrpPending) and queues it (IoStartPacket), answering STATUS_PENDING.
 *
 * IRQL: called at PASSIVE_LEVEL (see the page's Remarks for exceptions)
 *
 * WDK: DRIVER_DISPATCH callback function
 */
type DRIVER_DISPATCH = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => NTSTATUS;
/**
 * StartIo: starts the I/O operation an IRP describes. The I/O manager calls it, one IRP at a time, for IRPs queued with
 * IoStartPacket; the driver calls IoStartNextPacket when the device can take the next one.
 *
 * IRQL: called at DISPATCH_LEVEL
 *
 * WDK: DRIVER_STARTIO callback function
 */
type DRIVER_STARTIO = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;
/**
 * Unload: releases whatever the driver still holds (timers, interrupts, adapters, devices) before the system unloads it.
 *
 * IRQL: called at PASSIVE_LEVEL
 *
 * WDK: DRIVER_UNLOAD callback function
 */
type DRIVER_UNLOAD = (DriverObject: DRIVER_OBJECT) => void;
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
type DRIVER_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown) => IO_ALLOCATION_ACTION;
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
type DRIVER_LIST_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown) => void;
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
type KSERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown) => boolean;
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
type KDEFERRED_ROUTINE = (Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown) => void;
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
type IO_DPC_ROUTINE = (Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown) => void;
/**
 * SynchCritSection: run by KeSynchronizeExecution while holding the interrupt's lock, so that it can touch device
 * registers or data the ISR shares without racing it.
 *
 * IRQL: called at DIRQL (the interrupt's SynchronizeIrql)
 *
 * WDK: KSYNCHRONIZE_ROUTINE callback function
 * @param SynchronizeContext The SynchronizeContext passed to KeSynchronizeExecution.
 */
type KSYNCHRONIZE_ROUTINE = (SynchronizeContext: unknown) => boolean;
/** The driver extension: holds the driver's AddDevice entry point. */
interface DRIVER_EXTENSION {
    AddDevice: DRIVER_ADD_DEVICE | null;
}
/**
 * The driver object: the loaded driver's image as the I/O manager sees it, with the entry points DriverEntry fills in.
 *
 * WDK: DRIVER_OBJECT structure
 */
interface DRIVER_OBJECT {
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
interface DEVICE_OBJECT {
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
interface IO_STATUS_BLOCK {
    Status: NTSTATUS;
    Information: number;
}
/**
 * One I/O stack location of an IRP: the major/minor function and the parameters for the driver at this level of the
 * stack. Get the driver's own with IoGetCurrentIrpStackLocation.
 *
 * WDK: IO_STACK_LOCATION structure
 */
interface IO_STACK_LOCATION {
    MajorFunction: UCHAR;
    MinorFunction: UCHAR;
    Flags: UCHAR;
    Control: UCHAR;
    DeviceObject: DEVICE_OBJECT | null;
    Parameters: {
        Read: {
            Length: ULONG;
            Key: ULONG;
            ByteOffset: number;
        };
        Write: {
            Length: ULONG;
            Key: ULONG;
            ByteOffset: number;
        };
        DeviceIoControl: {
            OutputBufferLength: ULONG;
            InputBufferLength: ULONG;
            IoControlCode: ULONG;
        };
        StartDevice: {
            AllocatedResources: CM_RESOURCE_LIST | null;
            AllocatedResourcesTranslated: CM_RESOURCE_LIST | null;
        };
    };
}
/**
 * An I/O request packet: a request the I/O manager (or another driver) sends to a device object, partly opaque.
 *
 * WDK: IRP structure
 */
interface IRP {
    readonly Type: 6;
    /** The caller's buffer described for direct I/O (DO_DIRECT_IO). */
    MdlAddress: MDL | null;
    AssociatedIrp: {
        SystemBuffer: PVOID | null;
    };
    UserBuffer: PVOID | null;
    IoStatus: IO_STATUS_BLOCK;
    Cancel: boolean;
    PendingReturned: boolean;
    Tail: {
        Overlay: {
            CurrentStackLocation: IO_STACK_LOCATION;
        };
    };
}
/**
 * A memory descriptor list: describes the physical pages behind a virtual buffer. Treat it as opaque and use the
 * MmGetMdl* macros.
 *
 * WDK: MDL structure
 */
interface MDL {
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
interface CM_PARTIAL_RESOURCE_DESCRIPTOR {
    Type: UCHAR;
    ShareDisposition: UCHAR;
    Flags: USHORT;
    u: {
        Port: {
            Start: PORT;
            Length: ULONG;
        };
        Interrupt: {
            Level: ULONG;
            Vector: ULONG;
            Affinity: number;
        };
        Dma: {
            Channel: ULONG;
            Port: ULONG;
            Reserved1: ULONG;
        };
    };
}
/** The hardware resources assigned to a device: IRP_MN_START_DEVICE's AllocatedResources (raw) and AllocatedResourcesTranslated. */
interface CM_RESOURCE_LIST {
    Count: ULONG;
    List: {
        InterfaceType: INTERFACE_TYPE;
        BusNumber: ULONG;
        PartialResourceList: {
            Version: USHORT;
            Revision: USHORT;
            Count: ULONG;
            PartialDescriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[];
        };
    }[];
}
/**
 * Describes the device that wants a DMA adapter: what IoGetDmaAdapter reads to choose and set up the adapter. Start from
 * all fields zero and fill in those for the device.
 *
 * WDK: DEVICE_DESCRIPTION structure
 */
interface DEVICE_DESCRIPTION {
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
interface SCATTER_GATHER_ELEMENT {
    readonly Address: PHYSICAL_ADDRESS;
    readonly Length: ULONG;
    readonly Reserved: number;
}
/**
 * The scatter/gather list for one DMA operation: the elements (logical address, length) that together cover the buffer.
 *
 * WDK: SCATTER_GATHER_LIST structure
 */
interface SCATTER_GATHER_LIST {
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
interface DMA_OPERATIONS {
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
    GetScatterGatherList(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, Mdl: MDL, CurrentVa: PVOID, Length: ULONG, ExecutionRoutine: DRIVER_LIST_CONTROL, Context: unknown, WriteToDevice: boolean): NTSTATUS;
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
    BuildScatterGatherList(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, Mdl: MDL, CurrentVa: PVOID, Length: ULONG, ExecutionRoutine: DRIVER_LIST_CONTROL, Context: unknown, WriteToDevice: boolean, ScatterGatherBuffer: PVOID, ScatterGatherLength: ULONG): NTSTATUS;
}
/**
 * A DMA adapter: the system's interface to the DMA controller (or bus-master adapter) for a device, from IoGetDmaAdapter.
 * Its routines are in DmaOperations; release it with PutDmaAdapter.
 *
 * WDK: DMA_ADAPTER structure
 */
interface DMA_ADAPTER {
    readonly Version: USHORT;
    readonly Size: USHORT;
    readonly DmaOperations: DMA_OPERATIONS;
}
/** Storage for a DPC: pass any object (`{}`) to KeInitializeDpc, which fills it in. */
interface KDPC {
    readonly Type?: number;
    readonly DeferredRoutine?: KDEFERRED_ROUTINE | IO_DPC_ROUTINE;
    readonly DeferredContext?: unknown;
}
/** Storage for a timer: pass any object (`{}`) to KeInitializeTimer. */
interface KTIMER {
    readonly Type?: number;
}
/**
 * An interrupt object, made by IoConnectInterrupt; opaque to the driver apart from what it passes to
 * KeSynchronizeExecution and IoDisconnectInterrupt.
 */
interface KINTERRUPT {
    readonly Type: 22;
    readonly Vector: ULONG;
    readonly Irql: KIRQL;
    readonly SynchronizeIrql: KIRQL;
}
/** What C writes as a LARGE_INTEGER: a number of 100 ns units, or { QuadPart }. */
type LARGE_INTEGER = number | {
    QuadPart: number;
};
/** Makes an out or in-out parameter, what C passes as `&variable`; read the result from `.value`. */
declare function ref<T>(value: T): Ref<T>;
/**
 * TRUE if the NTSTATUS is a success or informational code (not negative).
 *
 * IRQL: any level
 *
 * WDK: Using NTSTATUS Values
 */
declare function NT_SUCCESS(Status: NTSTATUS): boolean;
/**
 * Reads a byte from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_UCHAR function
 */
declare function READ_PORT_UCHAR(Port: PORT): UCHAR;
/**
 * Reads a 16-bit value from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_USHORT function
 */
declare function READ_PORT_USHORT(Port: PORT): USHORT;
/**
 * Reads a 32-bit value from an I/O port.
 *
 * IRQL: any level
 *
 * WDK: READ_PORT_ULONG function
 */
declare function READ_PORT_ULONG(Port: PORT): ULONG;
/**
 * Writes a byte to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_UCHAR function
 */
declare function WRITE_PORT_UCHAR(Port: PORT, Value: UCHAR): void;
/**
 * Writes a 16-bit value to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_USHORT function
 */
declare function WRITE_PORT_USHORT(Port: PORT, Value: USHORT): void;
/**
 * Writes a 32-bit value to an I/O port.
 *
 * IRQL: any level
 *
 * WDK: WRITE_PORT_ULONG function
 */
declare function WRITE_PORT_ULONG(Port: PORT, Value: ULONG): void;
/**
 * Copies Length bytes from Source to Destination; the blocks must not overlap (use RtlMoveMemory if they might).
 *
 * IRQL: any level (both blocks nonpaged; otherwise <= APC_LEVEL)
 *
 * WDK: RtlCopyMemory macro
 */
declare function RtlCopyMemory(Destination: PVOID, Source: PVOID, Length: number): void;
/**
 * Copies Length bytes from Source to Destination; the blocks may overlap.
 *
 * IRQL: any level (both blocks nonpaged; otherwise <= APC_LEVEL)
 *
 * WDK: RtlMoveMemory macro
 */
declare function RtlMoveMemory(Destination: PVOID, Source: PVOID, Length: number): void;
/**
 * Fills Length bytes at Destination with zeros.
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlZeroMemory macro
 */
declare function RtlZeroMemory(Destination: PVOID, Length: number): void;
/**
 * Fills Length bytes at Destination with the byte Fill.
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlFillMemory macro
 */
declare function RtlFillMemory(Destination: PVOID, Length: number, Fill: UCHAR): void;
/**
 * Compares two blocks and answers how many bytes match before the first difference (Length if they are equal).
 *
 * IRQL: any level (nonpaged memory; otherwise <= APC_LEVEL)
 *
 * WDK: RtlCompareMemory function
 */
declare function RtlCompareMemory(Source1: PVOID, Source2: PVOID, Length: number): number;
/**
 * Reads a byte from memory: what C writes as `*(PUCHAR)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function READ_MEMORY_UCHAR(Va: PVOID): UCHAR;
/**
 * Reads a 16-bit value from memory: what C writes as `*(PUSHORT)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function READ_MEMORY_USHORT(Va: PVOID): USHORT;
/**
 * Reads a 32-bit value from memory: what C writes as `*(PULONG)Va`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function READ_MEMORY_ULONG(Va: PVOID): ULONG;
/**
 * Writes a byte to memory: what C writes as `*(PUCHAR)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function WRITE_MEMORY_UCHAR(Va: PVOID, Value: UCHAR): void;
/**
 * Writes a 16-bit value to memory: what C writes as `*(PUSHORT)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function WRITE_MEMORY_USHORT(Va: PVOID, Value: USHORT): void;
/**
 * Writes a 32-bit value to memory: what C writes as `*(PULONG)Va = Value`.
 *
 * IRQL: any level (nonpaged memory)
 */
declare function WRITE_MEMORY_ULONG(Va: PVOID, Value: ULONG): void;
/**
 * Allocates pool memory of the kind Flags names (POOL_FLAG_NON_PAGED for anything DMA or an ISR touches); answers NULL
 * when it cannot.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExAllocatePool2 function
 * @param Tag Up to four characters that identify the allocation ('Dma1'), or their ULONG value.
 */
declare function ExAllocatePool2(Flags: number, NumberOfBytes: number, Tag: ULONG | string): PVOID | null;
/**
 * Allocates pool memory of the given POOL_TYPE (NonPagedPool for DMA buffers); answers NULL when it cannot. Superseded
 * by ExAllocatePool2.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExAllocatePoolWithTag function
 * @param Tag Up to four characters that identify the allocation, or their ULONG value.
 */
declare function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: ULONG | string): PVOID | null;
/**
 * Frees pool memory allocated with the same Tag.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExFreePoolWithTag function
 */
declare function ExFreePoolWithTag(P: PVOID, Tag: ULONG | string): void;
/**
 * Frees pool memory allocated by ExAllocatePool2 or ExAllocatePoolWithTag.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: ExFreePool function
 */
declare function ExFreePool(P: PVOID): void;
/**
 * The offset of a virtual address within its page.
 *
 * IRQL: any level
 *
 * WDK: BYTE_OFFSET macro
 */
declare function BYTE_OFFSET(Va: PVOID): ULONG;
/**
 * The address of the start of the page that holds Va.
 *
 * IRQL: any level
 *
 * WDK: PAGE_ALIGN macro
 */
declare function PAGE_ALIGN(Va: PVOID): PVOID;
/**
 * How many pages Size bytes need (rounded up).
 *
 * IRQL: any level
 *
 * WDK: BYTES_TO_PAGES macro
 */
declare function BYTES_TO_PAGES(Size: ULONG): ULONG;
/**
 * Size rounded up to a multiple of the page size.
 *
 * IRQL: any level
 *
 * WDK: ROUND_TO_PAGES macro
 */
declare function ROUND_TO_PAGES(Size: ULONG): ULONG;
/**
 * How many pages a buffer of Size bytes starting at Va touches: the map registers a transfer of it needs.
 *
 * IRQL: any level
 *
 * WDK: ADDRESS_AND_SIZE_TO_SPAN_PAGES macro
 */
declare function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: PVOID, Size: ULONG): ULONG;
/**
 * The virtual address the MDL's buffer starts at. For DMA it is the initial CurrentVa of MapTransfer,
 * FlushAdapterBuffers and GetScatterGatherList: an index into the MDL, not necessarily an address to dereference.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlVirtualAddress macro
 */
declare function MmGetMdlVirtualAddress(Mdl: MDL): PVOID;
/**
 * The length in bytes of the buffer the MDL describes.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlByteCount macro
 */
declare function MmGetMdlByteCount(Mdl: MDL): ULONG;
/**
 * The offset of the MDL's buffer within its first page.
 *
 * IRQL: any level
 *
 * WDK: MmGetMdlByteOffset macro
 */
declare function MmGetMdlByteOffset(Mdl: MDL): ULONG;
/**
 * Answers a system-space virtual address for the locked-down pages the MDL describes, mapping them if needed; NULL when
 * the mapping fails.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmGetSystemAddressForMdlSafe macro
 * @param Priority LowPagePriority, NormalPagePriority or HighPagePriority: how badly the mapping must succeed.
 */
declare function MmGetSystemAddressForMdlSafe(Mdl: MDL, Priority: number): PVOID | null;
/**
 * The physical address behind a virtual address (ntddk.h), 0 when it is not mapped. It is what the CPU's page tables
 * say, not a logical address a DMA controller can use: for DMA, MapTransfer (or AllocateCommonBuffer's LogicalAddress)
 * gives the address the device uses.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmGetPhysicalAddress function
 */
declare function MmGetPhysicalAddress(BaseAddress: PVOID): PHYSICAL_ADDRESS;
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
declare function IoAllocateMdl(VirtualAddress: PVOID | null, Length: ULONG, SecondaryBuffer: boolean, ChargeQuota: boolean, Irp: IRP | null): MDL | null;
/**
 * Fills in an MDL (from IoAllocateMdl) that describes a nonpaged buffer with the physical pages behind it.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: MmBuildMdlForNonPagedPool function
 */
declare function MmBuildMdlForNonPagedPool(MemoryDescriptorList: MDL): void;
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
declare function IoBuildPartialMdl(SourceMdl: MDL, TargetMdl: MDL, VirtualAddress: PVOID, Length: ULONG): void;
/**
 * Frees an MDL the driver allocated with IoAllocateMdl (never the MdlAddress of an IRP it did not build).
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoFreeMdl function
 */
declare function IoFreeMdl(Mdl: MDL): void;
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
declare function KeFlushIoBuffers(Mdl: MDL, ReadOperation: boolean, DmaOperation: boolean): void;
/**
 * Answers the current IRQL.
 *
 * IRQL: any level
 *
 * WDK: KeGetCurrentIrql function
 */
declare function KeGetCurrentIrql(): KIRQL;
/**
 * Raises the current processor's IRQL to NewIrql, masking interrupts at or below it, and saves the old one for KeLowerIrql.
 *
 * IRQL: any level (NewIrql must be >= the current IRQL)
 *
 * WDK: KeRaiseIrql macro
 * @param OldIrql Receives the IRQL to restore with KeLowerIrql.
 */
declare function KeRaiseIrql(NewIrql: KIRQL, OldIrql: Ref<KIRQL>): void;
/**
 * Raises the IRQL to DISPATCH_LEVEL and answers the old IRQL, for KeLowerIrql.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeRaiseIrqlToDpcLevel function
 */
declare function KeRaiseIrqlToDpcLevel(): KIRQL;
/**
 * Restores the IRQL that KeRaiseIrql saved.
 *
 * IRQL: any level (NewIrql must be the value KeRaiseIrql returned)
 *
 * WDK: KeLowerIrql function
 */
declare function KeLowerIrql(NewIrql: KIRQL): void;
/**
 * Busy-waits for MicroSeconds (keep it short: the processor does nothing else meanwhile; the simulated machine runs on).
 *
 * IRQL: any level
 *
 * WDK: KeStallExecutionProcessor function
 */
declare function KeStallExecutionProcessor(MicroSeconds: ULONG): void;
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
declare function IoCreateDevice(DriverObject: DRIVER_OBJECT, DeviceExtensionSize: ULONG, DeviceName: string | null, DeviceType: ULONG, DeviceCharacteristics: ULONG, Exclusive: boolean, DeviceObject: Ref<DEVICE_OBJECT | null>): NTSTATUS;
/**
 * Deletes a device object (when the device is removed, or in Unload).
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDeleteDevice function
 */
declare function IoDeleteDevice(DeviceObject: DEVICE_OBJECT): void;
/**
 * Attaches SourceDevice to the top of the stack TargetDevice is in; answers the device object it attached to (the one
 * to send IRPs down to), or NULL.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoAttachDeviceToDeviceStack function
 */
declare function IoAttachDeviceToDeviceStack(SourceDevice: DEVICE_OBJECT, TargetDevice: DEVICE_OBJECT): DEVICE_OBJECT | null;
/**
 * Detaches the driver's device object from TargetDevice, the lower device IoAttachDeviceToDeviceStack answered.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDetachDevice function
 */
declare function IoDetachDevice(TargetDevice: DEVICE_OBJECT): void;
/**
 * The caller's own I/O stack location in the IRP: its major function and parameters.
 *
 * IRQL: any level
 *
 * WDK: IoGetCurrentIrpStackLocation function
 */
declare function IoGetCurrentIrpStackLocation(Irp: IRP): IO_STACK_LOCATION;
/**
 * The stack location the next-lower driver will see (a copy to fill in before IoCallDriver).
 *
 * IRQL: any level
 *
 * WDK: IoGetNextIrpStackLocation function
 */
declare function IoGetNextIrpStackLocation(Irp: IRP): IO_STACK_LOCATION;
/**
 * Lets the next-lower driver reuse this driver's stack location, before passing the IRP down with IoCallDriver when
 * no completion routine is needed.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoSkipCurrentIrpStackLocation macro
 */
declare function IoSkipCurrentIrpStackLocation(Irp: IRP): void;
/**
 * Copies this driver's stack location to the next-lower driver's, before passing the IRP down with IoCallDriver.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCopyCurrentIrpStackLocationToNext function
 */
declare function IoCopyCurrentIrpStackLocationToNext(Irp: IRP): void;
/**
 * Marks the IRP pending: the dispatch routine must then return STATUS_PENDING, and other routines (StartIo, the DPC)
 * finish the IRP. Call it before queuing the IRP (IoStartPacket).
 *
 * IRQL: any level
 *
 * WDK: IoMarkIrpPending function
 */
declare function IoMarkIrpPending(Irp: IRP): void;
/**
 * Returns a finished IRP to the I/O manager, with the status and information set in Irp.IoStatus beforehand. The IRP
 * belongs to the system afterwards. Never call it holding a spin lock.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCompleteRequest macro
 * @param PriorityBoost IO_NO_INCREMENT, or a boost for the requesting thread for a slow device.
 */
declare function IoCompleteRequest(Irp: IRP, PriorityBoost: number): void;
/**
 * Hands an IRP to StartIo at once if the device is idle, or queues it in the device queue otherwise.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoStartPacket function
 * @param Key NULL (insert at the tail), or a sort key for the device queue.
 * @param CancelFunction A Cancel routine, or NULL.
 */
declare function IoStartPacket(DeviceObject: DEVICE_OBJECT, Irp: IRP, Key: Ref<ULONG> | null, CancelFunction: null): void;
/**
 * Takes the next IRP off the device queue and calls StartIo with it (or marks the device idle if there is none).
 * Called from the DPC or StartIo when the current IRP is done.
 *
 * IRQL: DISPATCH_LEVEL
 *
 * WDK: IoStartNextPacket function
 * @param Cancelable TRUE if IRPs in the queue can be cancelled (a Cancel routine was given to IoStartPacket).
 */
declare function IoStartNextPacket(DeviceObject: DEVICE_OBJECT, Cancelable: boolean): void;
/**
 * Sends an IRP to the driver of DeviceObject (normally the lower device from IoAttachDeviceToDeviceStack) and answers
 * that driver's status.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: IoCallDriver macro
 */
declare function IoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS;
/**
 * Sends the IRP down and waits for the lower driver to finish it; the IRP comes back to the caller, with the lower
 * driver's status in Irp.IoStatus.Status (as for IRP_MN_START_DEVICE). Answers TRUE if the IRP was sent.
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoForwardIrpSynchronously function
 */
declare function IoForwardIrpSynchronously(DeviceObject: DEVICE_OBJECT, Irp: IRP): boolean;
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
declare function IoConnectInterrupt(InterruptObject: Ref<KINTERRUPT | null>, ServiceRoutine: KSERVICE_ROUTINE, ServiceContext: unknown, SpinLock: null, Vector: ULONG, Irql: KIRQL, SynchronizeIrql: KIRQL, InterruptMode: KINTERRUPT_MODE, ShareVector: boolean, ProcessorEnableMask: number, FloatingSave: boolean): NTSTATUS;
/**
 * Unregisters the ISR IoConnectInterrupt connected (when the device is stopped or removed).
 *
 * IRQL: PASSIVE_LEVEL
 *
 * WDK: IoDisconnectInterrupt function
 */
declare function IoDisconnectInterrupt(InterruptObject: KINTERRUPT): void;
/**
 * Runs SynchronizeRoutine at the interrupt's SynchronizeIrql holding its lock, so that it cannot race the ISR; answers
 * the BOOLEAN SynchronizeRoutine answers (TRUE for success).
 *
 * IRQL: <= DIRQL
 *
 * WDK: KeSynchronizeExecution function
 * @param SynchronizeContext Passed to SynchronizeRoutine.
 */
declare function KeSynchronizeExecution(Interrupt: KINTERRUPT, SynchronizeRoutine: KSYNCHRONIZE_ROUTINE, SynchronizeContext: unknown): boolean;
/**
 * Initializes a DPC object and attaches the CustomDpc routine to it; queue it with KeInsertQueueDpc, or give it to
 * KeSetTimer. Pass any object (`{}`) as storage.
 *
 * IRQL: any level
 *
 * WDK: KeInitializeDpc function
 * @param DeferredContext Passed to DeferredRoutine.
 */
declare function KeInitializeDpc(Dpc: KDPC, DeferredRoutine: KDEFERRED_ROUTINE, DeferredContext: unknown): void;
/**
 * Queues a DPC to run its CustomDpc routine at DISPATCH_LEVEL; answers FALSE if it was already queued.
 *
 * IRQL: any level
 *
 * WDK: KeInsertQueueDpc function
 * @param SystemArgument1 Passed to the CustomDpc routine.
 * @param SystemArgument2 Passed to the CustomDpc routine.
 */
declare function KeInsertQueueDpc(Dpc: KDPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean;
/**
 * Takes a DPC off the queue if it has not run yet; answers TRUE if it was queued.
 *
 * IRQL: any level
 *
 * WDK: KeRemoveQueueDpc function
 */
declare function KeRemoveQueueDpc(Dpc: KDPC): boolean;
/**
 * Registers the driver's DpcForIsr routine for the device object (in AddDevice), for the ISR to queue with IoRequestDpc.
 *
 * IRQL: any level
 *
 * WDK: IoInitializeDpcRequest function
 */
declare function IoInitializeDpcRequest(DeviceObject: DEVICE_OBJECT, DpcRoutine: IO_DPC_ROUTINE): void;
/**
 * Queues the device's DpcForIsr routine, from the ISR, to finish the interrupt-driven I/O at DISPATCH_LEVEL.
 *
 * IRQL: DIRQL
 *
 * WDK: IoRequestDpc function
 * @param Irp The current IRP (DeviceObject.CurrentIrp), passed to DpcForIsr.
 * @param Context Passed to DpcForIsr.
 */
declare function IoRequestDpc(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void;
/**
 * Initializes a timer object (a notification timer). Pass any object (`{}`) as storage.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeInitializeTimer function
 */
declare function KeInitializeTimer(Timer: KTIMER): void;
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
declare function KeSetTimer(Timer: KTIMER, DueTime: LARGE_INTEGER, Dpc: KDPC | null): boolean;
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
declare function KeSetTimerEx(Timer: KTIMER, DueTime: LARGE_INTEGER, Period: number, Dpc: KDPC | null): boolean;
/**
 * Takes a timer (and its DPC) out of the timer queue before it expires; answers TRUE if it was still queued. Cancel
 * every active timer in Unload.
 *
 * IRQL: <= DISPATCH_LEVEL
 *
 * WDK: KeCancelTimer function
 */
declare function KeCancelTimer(Timer: KTIMER): boolean;
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
declare function IoGetDmaAdapter(PhysicalDeviceObject: DEVICE_OBJECT, DeviceDescription: DEVICE_DESCRIPTION, NumberOfMapRegisters: Ref<ULONG>): DMA_ADAPTER | null;
/**
 * Prints a message to the kernel debugger (here the lab console and the trace); the format is printf's. Answers
 * STATUS_SUCCESS.
 *
 * IRQL: any level
 *
 * WDK: DbgPrint function
 */
declare function DbgPrint(Format: string, ...args: unknown[]): NTSTATUS;
/**
 * Brings the system down in a controlled way with a bug check code and four parameters of the driver's choosing.
 * Never returns.
 *
 * IRQL: any level
 *
 * WDK: KeBugCheckEx function
 */
declare function KeBugCheckEx(BugCheckCode: ULONG, P1: number, P2: number, P3: number, P4: number): never;

// Constants (wdm.h values).
/** 0 */
declare const STATUS_SUCCESS: NTSTATUS;
/** 0x103 */
declare const STATUS_PENDING: NTSTATUS;
/** 0xC0000016 */
declare const STATUS_MORE_PROCESSING_REQUIRED: NTSTATUS;
/** 0xC0000001 */
declare const STATUS_UNSUCCESSFUL: NTSTATUS;
/** 0xC0000002 */
declare const STATUS_NOT_IMPLEMENTED: NTSTATUS;
/** 0xC000000D */
declare const STATUS_INVALID_PARAMETER: NTSTATUS;
/** 0xC0000010 */
declare const STATUS_INVALID_DEVICE_REQUEST: NTSTATUS;
/** 0xC0000011 */
declare const STATUS_END_OF_FILE: NTSTATUS;
/** 0xC0000017 */
declare const STATUS_NO_MEMORY: NTSTATUS;
/** 0xC0000023 */
declare const STATUS_BUFFER_TOO_SMALL: NTSTATUS;
/** 0xC000003C */
declare const STATUS_DATA_OVERRUN: NTSTATUS;
/** 0xC000003E */
declare const STATUS_DATA_ERROR: NTSTATUS;
/** 0xC000003F */
declare const STATUS_CRC_ERROR: NTSTATUS;
/** 0xC000009A */
declare const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS;
/** 0xC00000A3 */
declare const STATUS_DEVICE_NOT_READY: NTSTATUS;
/** 0xC0000185 */
declare const STATUS_IO_DEVICE_ERROR: NTSTATUS;
/** 0xC000009C */
declare const STATUS_DEVICE_DATA_ERROR: NTSTATUS;
/** 0xC0000013 */
declare const STATUS_NO_MEDIA_IN_DEVICE: NTSTATUS;
/** 0xC0000015 */
declare const STATUS_NONEXISTENT_SECTOR: NTSTATUS;
/** 0x80000011 */
declare const STATUS_DEVICE_BUSY: NTSTATUS;
/** 0xC0000120 */
declare const STATUS_CANCELLED: NTSTATUS;
/** 0xC00000B5 */
declare const STATUS_IO_TIMEOUT: NTSTATUS;
/** 0xC000009D */
declare const STATUS_DEVICE_NOT_CONNECTED: NTSTATUS;
/** 0xC0000184 */
declare const STATUS_INVALID_DEVICE_STATE: NTSTATUS;
/** 0xC00000BB */
declare const STATUS_NOT_SUPPORTED: NTSTATUS;
/** 0xC0000056 */
declare const STATUS_DELETE_PENDING: NTSTATUS;
/** 0 */
declare const PASSIVE_LEVEL: KIRQL;
/** 0 */
declare const LOW_LEVEL: KIRQL;
/** 1 */
declare const APC_LEVEL: KIRQL;
/** 2 */
declare const DISPATCH_LEVEL: KIRQL;
/** 0x1B */
declare const PROFILE_LEVEL: KIRQL;
/** 0x1C */
declare const CLOCK1_LEVEL: KIRQL;
/** 0x1C */
declare const CLOCK2_LEVEL: KIRQL;
/** 0x1D */
declare const IPI_LEVEL: KIRQL;
/** 0x1E */
declare const POWER_LEVEL: KIRQL;
/** 0x1F */
declare const HIGH_LEVEL: KIRQL;
/** 0 */
declare const IRP_MJ_CREATE: number;
/** 2 */
declare const IRP_MJ_CLOSE: number;
/** 3 */
declare const IRP_MJ_READ: number;
/** 4 */
declare const IRP_MJ_WRITE: number;
/** 0xE */
declare const IRP_MJ_DEVICE_CONTROL: number;
/** 0x12 */
declare const IRP_MJ_CLEANUP: number;
/** 0x16 */
declare const IRP_MJ_POWER: number;
/** 0x17 */
declare const IRP_MJ_SYSTEM_CONTROL: number;
/** 0x1B */
declare const IRP_MJ_PNP: number;
/** 0x1B */
declare const IRP_MJ_MAXIMUM_FUNCTION: number;
/** 0 */
declare const IRP_MN_START_DEVICE: number;
/** 1 */
declare const IRP_MN_QUERY_REMOVE_DEVICE: number;
/** 2 */
declare const IRP_MN_REMOVE_DEVICE: number;
/** 3 */
declare const IRP_MN_CANCEL_REMOVE_DEVICE: number;
/** 4 */
declare const IRP_MN_STOP_DEVICE: number;
/** 5 */
declare const IRP_MN_QUERY_STOP_DEVICE: number;
/** 6 */
declare const IRP_MN_CANCEL_STOP_DEVICE: number;
/** 0x17 */
declare const IRP_MN_SURPRISE_REMOVAL: number;
/** 1 */
declare const SL_PENDING_RETURNED: number;
/** 4 */
declare const DO_BUFFERED_IO: number;
/** 8 */
declare const DO_EXCLUSIVE: number;
/** 0x10 */
declare const DO_DIRECT_IO: number;
/** 0x2000 */
declare const DO_POWER_PAGABLE: number;
/** 0x80 */
declare const DO_DEVICE_INITIALIZING: number;
/** 7 */
declare const FILE_DEVICE_DISK: number;
/** 0x1D */
declare const FILE_DEVICE_SOUND: number;
/** 0x22 */
declare const FILE_DEVICE_UNKNOWN: number;
/** 0x100 */
declare const FILE_DEVICE_SECURE_OPEN: number;
/** 0 */
declare const IO_NO_INCREMENT: number;
/** 1 */
declare const IO_DISK_INCREMENT: number;
/** 8 */
declare const IO_SOUND_INCREMENT: number;
/** 0 */
declare const CmResourceTypeNull: number;
/** 1 */
declare const CmResourceTypePort: number;
/** 2 */
declare const CmResourceTypeInterrupt: number;
/** 3 */
declare const CmResourceTypeMemory: number;
/** 4 */
declare const CmResourceTypeDma: number;
/** 1 */
declare const CmResourceShareDeviceExclusive: number;
/** 1 */
declare const CM_RESOURCE_PORT_IO: number;
/** 1 */
declare const CM_RESOURCE_INTERRUPT_LATCHED: number;
/** 0 */
declare const CM_RESOURCE_DMA_8: number;
/** 1 */
declare const CM_RESOURCE_DMA_16: number;
/** 0xFFFFFFFF */
declare const InterfaceTypeUndefined: number;
/** 0 */
declare const Internal: number;
/** 1 */
declare const Isa: number;
/** 2 */
declare const Eisa: number;
/** 3 */
declare const MicroChannel: number;
/** 5 */
declare const PCIBus: number;
/** 0 */
declare const Width8Bits: number;
/** 1 */
declare const Width16Bits: number;
/** 2 */
declare const Width32Bits: number;
/** 3 */
declare const Width64Bits: number;
/** 0 */
declare const Compatible: number;
/** 1 */
declare const TypeA: number;
/** 2 */
declare const TypeB: number;
/** 3 */
declare const TypeC: number;
/** 4 */
declare const TypeF: number;
/** 0 */
declare const DEVICE_DESCRIPTION_VERSION: number;
/** 1 */
declare const DEVICE_DESCRIPTION_VERSION1: number;
/** 2 */
declare const DEVICE_DESCRIPTION_VERSION2: number;
/** 3 */
declare const DEVICE_DESCRIPTION_VERSION3: number;
/** 1 */
declare const KeepObject: IO_ALLOCATION_ACTION;
/** 2 */
declare const DeallocateObject: IO_ALLOCATION_ACTION;
/** 3 */
declare const DeallocateObjectKeepRegisters: IO_ALLOCATION_ACTION;
/** 0 */
declare const LevelSensitive: number;
/** 1 */
declare const Latched: number;
/** 0 */
declare const NonPagedPool: number;
/** 1 */
declare const PagedPool: number;
/** 0x200 */
declare const NonPagedPoolNx: number;
/** 0x40 */
declare const POOL_FLAG_NON_PAGED: number;
/** 0x100 */
declare const POOL_FLAG_PAGED: number;
/** 2 */
declare const POOL_FLAG_UNINITIALIZED: number;
/** 0x1000 */
declare const PAGE_SIZE: number;
/** 0xC */
declare const PAGE_SHIFT: number;
/** 0 */
declare const LowPagePriority: number;
/** 0x10 */
declare const NormalPagePriority: number;
/** 0x20 */
declare const HighPagePriority: number;
/** 0x40000000 */
declare const MdlMappingNoExecute: number;
/** 1 */
declare const MDL_MAPPED_TO_SYSTEM_VA: number;
/** 2 */
declare const MDL_PAGES_LOCKED: number;
/** 4 */
declare const MDL_SOURCE_IS_NONPAGED_POOL: number;
/** 0x10 */
declare const MDL_PARTIAL: number;
/** 0x80 */
declare const MDL_WRITE_OPERATION: number;
/** TRUE */
declare const TRUE: boolean;
/** FALSE */
declare const FALSE: boolean;
