// wdm.d.ts: what a DMA Lab driver sees, as if wdm.h were included. Generated from the
// simulator's `wdm` surface (src/sim/driver/guest/wdm.ts) and its constants; do not edit.

/** An NTSTATUS code: negative (severity error) means failure. */
type NTSTATUS = number;
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
/** An opaque handle the HAL gives AdapterControl and takes back in MapTransfer. */
type MAP_REGISTER_BASE = number;
type IO_ALLOCATION_ACTION = 1 | 2 | 3;
type INTERFACE_TYPE = number;
type DMA_WIDTH = number;
type DMA_SPEED = number;
type KINTERRUPT_MODE = number;
type POOL_TYPE = number;
/** An out or in-out parameter: what C passes as a pointer to a scalar. Make one with ref(). */
interface Ref<T> {
    value: T;
}
type DRIVER_INITIALIZE = (DriverObject: DRIVER_OBJECT, RegistryPath: string) => NTSTATUS;
type DRIVER_ADD_DEVICE = (DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT) => NTSTATUS;
type DRIVER_DISPATCH = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => NTSTATUS;
type DRIVER_STARTIO = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;
type DRIVER_UNLOAD = (DriverObject: DRIVER_OBJECT) => void;
type DRIVER_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown) => IO_ALLOCATION_ACTION;
type DRIVER_LIST_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown) => void;
type KSERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown) => boolean;
type KDEFERRED_ROUTINE = (Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown) => void;
type IO_DPC_ROUTINE = (Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown) => void;
type KSYNCHRONIZE_ROUTINE = (SynchronizeContext: unknown) => boolean;
interface DRIVER_EXTENSION {
    AddDevice: DRIVER_ADD_DEVICE | null;
}
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
interface IO_STATUS_BLOCK {
    Status: NTSTATUS;
    Information: number;
}
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
interface MDL {
    readonly Next: MDL | null;
    readonly Size: number;
    readonly MdlFlags: number;
    readonly MappedSystemVa: PVOID;
    readonly StartVa: PVOID;
    readonly ByteCount: ULONG;
    readonly ByteOffset: ULONG;
}
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
interface DEVICE_DESCRIPTION {
    Version: ULONG;
    Master: boolean;
    ScatterGather: boolean;
    DemandMode: boolean;
    AutoInitialize: boolean;
    Dma32BitAddresses: boolean;
    IgnoreCount: boolean;
    Reserved1: boolean;
    Dma64BitAddresses: boolean;
    BusNumber: ULONG;
    DmaChannel: ULONG;
    InterfaceType: INTERFACE_TYPE;
    DmaWidth: DMA_WIDTH;
    DmaSpeed: DMA_SPEED;
    MaximumLength: ULONG;
    DmaPort: ULONG;
}
interface SCATTER_GATHER_ELEMENT {
    readonly Address: PHYSICAL_ADDRESS;
    readonly Length: ULONG;
    readonly Reserved: number;
}
interface SCATTER_GATHER_LIST {
    readonly NumberOfElements: ULONG;
    readonly Reserved: number;
    readonly Elements: readonly SCATTER_GATHER_ELEMENT[];
}
interface DMA_OPERATIONS {
    readonly Size: ULONG;
    PutDmaAdapter(DmaAdapter: DMA_ADAPTER): void;
    AllocateCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: Ref<PHYSICAL_ADDRESS>, CacheEnabled: boolean): PVOID | null;
    FreeCommonBuffer(DmaAdapter: DMA_ADAPTER, Length: ULONG, LogicalAddress: PHYSICAL_ADDRESS, VirtualAddress: PVOID, CacheEnabled: boolean): void;
    AllocateAdapterChannel(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, NumberOfMapRegisters: ULONG, ExecutionRoutine: DRIVER_CONTROL, Context: unknown): NTSTATUS;
    FlushAdapterBuffers(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: ULONG, WriteToDevice: boolean): boolean;
    FreeAdapterChannel(DmaAdapter: DMA_ADAPTER): void;
    FreeMapRegisters(DmaAdapter: DMA_ADAPTER, MapRegisterBase: MAP_REGISTER_BASE, NumberOfMapRegisters: ULONG): void;
    MapTransfer(DmaAdapter: DMA_ADAPTER, Mdl: MDL, MapRegisterBase: MAP_REGISTER_BASE, CurrentVa: PVOID, Length: Ref<ULONG>, WriteToDevice: boolean): PHYSICAL_ADDRESS;
    GetDmaAlignment(DmaAdapter: DMA_ADAPTER): ULONG;
    ReadDmaCounter(DmaAdapter: DMA_ADAPTER): ULONG;
    GetScatterGatherList(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, Mdl: MDL, CurrentVa: PVOID, Length: ULONG, ExecutionRoutine: DRIVER_LIST_CONTROL, Context: unknown, WriteToDevice: boolean): NTSTATUS;
    PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void;
    CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: ULONG, ScatterGatherListSize: Ref<ULONG>, NumberOfMapRegisters: Ref<ULONG> | null): NTSTATUS;
    BuildScatterGatherList(DmaAdapter: DMA_ADAPTER, DeviceObject: DEVICE_OBJECT, Mdl: MDL, CurrentVa: PVOID, Length: ULONG, ExecutionRoutine: DRIVER_LIST_CONTROL, Context: unknown, WriteToDevice: boolean, ScatterGatherBuffer: PVOID, ScatterGatherLength: ULONG): NTSTATUS;
}
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
/** Makes an out or in-out parameter, what C passes as `&variable`. */
declare function ref<T>(value: T): Ref<T>;
declare function NT_SUCCESS(Status: NTSTATUS): boolean;
declare function READ_PORT_UCHAR(Port: PORT): UCHAR;
declare function READ_PORT_USHORT(Port: PORT): USHORT;
declare function READ_PORT_ULONG(Port: PORT): ULONG;
declare function WRITE_PORT_UCHAR(Port: PORT, Value: UCHAR): void;
declare function WRITE_PORT_USHORT(Port: PORT, Value: USHORT): void;
declare function WRITE_PORT_ULONG(Port: PORT, Value: ULONG): void;
declare function RtlCopyMemory(Destination: PVOID, Source: PVOID, Length: number): void;
declare function RtlMoveMemory(Destination: PVOID, Source: PVOID, Length: number): void;
declare function RtlZeroMemory(Destination: PVOID, Length: number): void;
declare function RtlFillMemory(Destination: PVOID, Length: number, Fill: UCHAR): void;
/** Bytes that match before the first difference. */
declare function RtlCompareMemory(Source1: PVOID, Source2: PVOID, Length: number): number;
/** What C writes as `*(PUCHAR)Va`. */
declare function READ_MEMORY_UCHAR(Va: PVOID): UCHAR;
declare function READ_MEMORY_USHORT(Va: PVOID): USHORT;
declare function READ_MEMORY_ULONG(Va: PVOID): ULONG;
/** What C writes as `*(PUCHAR)Va = Value`. */
declare function WRITE_MEMORY_UCHAR(Va: PVOID, Value: UCHAR): void;
declare function WRITE_MEMORY_USHORT(Va: PVOID, Value: USHORT): void;
declare function WRITE_MEMORY_ULONG(Va: PVOID, Value: ULONG): void;
/** Nonpaged pool (POOL_FLAG_NON_PAGED); answers NULL when it cannot. */
declare function ExAllocatePool2(Flags: number, NumberOfBytes: number, Tag: ULONG | string): PVOID | null;
declare function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: ULONG | string): PVOID | null;
declare function ExFreePoolWithTag(P: PVOID, Tag: ULONG | string): void;
declare function ExFreePool(P: PVOID): void;
declare function BYTE_OFFSET(Va: PVOID): ULONG;
declare function PAGE_ALIGN(Va: PVOID): PVOID;
declare function BYTES_TO_PAGES(Size: ULONG): ULONG;
declare function ROUND_TO_PAGES(Size: ULONG): ULONG;
declare function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: PVOID, Size: ULONG): ULONG;
declare function MmGetMdlVirtualAddress(Mdl: MDL): PVOID;
declare function MmGetMdlByteCount(Mdl: MDL): ULONG;
declare function MmGetMdlByteOffset(Mdl: MDL): ULONG;
declare function MmGetSystemAddressForMdlSafe(Mdl: MDL, Priority: number): PVOID | null;
/**
 * The physical address behind a virtual address (ntddk.h), 0 when it is not mapped. It is
 * what the CPU's page tables say, not a logical address a DMA controller can use: for DMA,
 * MapTransfer (or AllocateCommonBuffer's LogicalAddress) gives the address the device uses.
 */
declare function MmGetPhysicalAddress(BaseAddress: PVOID): PHYSICAL_ADDRESS;
declare function IoAllocateMdl(VirtualAddress: PVOID | null, Length: ULONG, SecondaryBuffer: boolean, ChargeQuota: boolean, Irp: IRP | null): MDL | null;
declare function MmBuildMdlForNonPagedPool(MemoryDescriptorList: MDL): void;
declare function IoBuildPartialMdl(SourceMdl: MDL, TargetMdl: MDL, VirtualAddress: PVOID, Length: ULONG): void;
declare function IoFreeMdl(Mdl: MDL): void;
declare function KeFlushIoBuffers(Mdl: MDL, ReadOperation: boolean, DmaOperation: boolean): void;
declare function KeGetCurrentIrql(): KIRQL;
declare function KeRaiseIrql(NewIrql: KIRQL, OldIrql: Ref<KIRQL>): void;
declare function KeRaiseIrqlToDpcLevel(): KIRQL;
declare function KeLowerIrql(NewIrql: KIRQL): void;
/** Busy-waits; the machine runs on meanwhile. */
declare function KeStallExecutionProcessor(MicroSeconds: ULONG): void;
declare function IoCreateDevice(DriverObject: DRIVER_OBJECT, DeviceExtensionSize: ULONG, DeviceName: string | null, DeviceType: ULONG, DeviceCharacteristics: ULONG, Exclusive: boolean, DeviceObject: Ref<DEVICE_OBJECT | null>): NTSTATUS;
declare function IoDeleteDevice(DeviceObject: DEVICE_OBJECT): void;
declare function IoAttachDeviceToDeviceStack(SourceDevice: DEVICE_OBJECT, TargetDevice: DEVICE_OBJECT): DEVICE_OBJECT | null;
declare function IoDetachDevice(TargetDevice: DEVICE_OBJECT): void;
declare function IoGetCurrentIrpStackLocation(Irp: IRP): IO_STACK_LOCATION;
/** The stack location the next-lower driver will see (a copy to fill in before IoCallDriver). */
declare function IoGetNextIrpStackLocation(Irp: IRP): IO_STACK_LOCATION;
declare function IoSkipCurrentIrpStackLocation(Irp: IRP): void;
declare function IoCopyCurrentIrpStackLocationToNext(Irp: IRP): void;
declare function IoMarkIrpPending(Irp: IRP): void;
declare function IoCompleteRequest(Irp: IRP, PriorityBoost: number): void;
declare function IoStartPacket(DeviceObject: DEVICE_OBJECT, Irp: IRP, Key: Ref<ULONG> | null, CancelFunction: null): void;
declare function IoStartNextPacket(DeviceObject: DEVICE_OBJECT, Cancelable: boolean): void;
declare function IoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS;
/** Sends the IRP down and waits for the lower driver; the IRP comes back to the caller. */
declare function IoForwardIrpSynchronously(DeviceObject: DEVICE_OBJECT, Irp: IRP): boolean;
declare function IoConnectInterrupt(InterruptObject: Ref<KINTERRUPT | null>, ServiceRoutine: KSERVICE_ROUTINE, ServiceContext: unknown, SpinLock: null, Vector: ULONG, Irql: KIRQL, SynchronizeIrql: KIRQL, InterruptMode: KINTERRUPT_MODE, ShareVector: boolean, ProcessorEnableMask: number, FloatingSave: boolean): NTSTATUS;
declare function IoDisconnectInterrupt(InterruptObject: KINTERRUPT): void;
/** Runs SynchronizeRoutine at the interrupt's SynchronizeIrql, as the ISR would run. */
declare function KeSynchronizeExecution(Interrupt: KINTERRUPT, SynchronizeRoutine: KSYNCHRONIZE_ROUTINE, SynchronizeContext: unknown): boolean;
declare function KeInitializeDpc(Dpc: KDPC, DeferredRoutine: KDEFERRED_ROUTINE, DeferredContext: unknown): void;
declare function KeInsertQueueDpc(Dpc: KDPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean;
declare function KeRemoveQueueDpc(Dpc: KDPC): boolean;
declare function IoInitializeDpcRequest(DeviceObject: DEVICE_OBJECT, DpcRoutine: IO_DPC_ROUTINE): void;
declare function IoRequestDpc(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void;
declare function KeInitializeTimer(Timer: KTIMER): void;
/** DueTime in 100 ns units: negative is relative to now. Answers TRUE when the timer was already set. */
declare function KeSetTimer(Timer: KTIMER, DueTime: LARGE_INTEGER, Dpc: KDPC | null): boolean;
declare function KeSetTimerEx(Timer: KTIMER, DueTime: LARGE_INTEGER, Period: number, Dpc: KDPC | null): boolean;
declare function KeCancelTimer(Timer: KTIMER): boolean;
declare function IoGetDmaAdapter(PhysicalDeviceObject: DEVICE_OBJECT, DeviceDescription: DEVICE_DESCRIPTION, NumberOfMapRegisters: Ref<ULONG>): DMA_ADAPTER | null;
/** Prints to the lab console and the trace; the format is printf's. Answers STATUS_SUCCESS. */
declare function DbgPrint(Format: string, ...args: unknown[]): NTSTATUS;
/** Stops the machine with a bug check of the driver's choosing. */
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
