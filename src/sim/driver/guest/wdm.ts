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

/** An NTSTATUS code: negative (severity error) means failure. */
export type NTSTATUS = number;
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
/** An opaque handle the HAL gives AdapterControl and takes back in MapTransfer. */
export type MAP_REGISTER_BASE = number;
export type IO_ALLOCATION_ACTION = 1 | 2 | 3;
export type INTERFACE_TYPE = number;
export type DMA_WIDTH = number;
export type DMA_SPEED = number;
export type KINTERRUPT_MODE = number;
export type POOL_TYPE = number;

/** An out or in-out parameter: what C passes as a pointer to a scalar. Make one with ref(). */
export interface Ref<T> {
  value: T;
}

export type DRIVER_INITIALIZE = (DriverObject: DRIVER_OBJECT, RegistryPath: string) => NTSTATUS;
export type DRIVER_ADD_DEVICE = (DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT) => NTSTATUS;
export type DRIVER_DISPATCH = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => NTSTATUS;
export type DRIVER_STARTIO = (DeviceObject: DEVICE_OBJECT, Irp: IRP) => void;
export type DRIVER_UNLOAD = (DriverObject: DRIVER_OBJECT) => void;
export type DRIVER_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown) => IO_ALLOCATION_ACTION;
export type DRIVER_LIST_CONTROL = (DeviceObject: DEVICE_OBJECT, Irp: IRP | null, ScatterGather: SCATTER_GATHER_LIST, Context: unknown) => void;
export type KSERVICE_ROUTINE = (Interrupt: KINTERRUPT, ServiceContext: unknown) => boolean;
export type KDEFERRED_ROUTINE = (Dpc: KDPC, DeferredContext: unknown, SystemArgument1: unknown, SystemArgument2: unknown) => void;
export type IO_DPC_ROUTINE = (Dpc: KDPC, DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown) => void;
export type KSYNCHRONIZE_ROUTINE = (SynchronizeContext: unknown) => boolean;

export interface DRIVER_EXTENSION {
  AddDevice: DRIVER_ADD_DEVICE | null;
}

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

export interface IO_STATUS_BLOCK {
  Status: NTSTATUS;
  Information: number;
}

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

export interface MDL {
  readonly Next: MDL | null;
  readonly Size: number;
  readonly MdlFlags: number;
  readonly MappedSystemVa: PVOID;
  readonly StartVa: PVOID;
  readonly ByteCount: ULONG;
  readonly ByteOffset: ULONG;
}

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

export interface CM_RESOURCE_LIST {
  Count: ULONG;
  List: {
    InterfaceType: INTERFACE_TYPE;
    BusNumber: ULONG;
    PartialResourceList: { Version: USHORT; Revision: USHORT; Count: ULONG; PartialDescriptors: CM_PARTIAL_RESOURCE_DESCRIPTOR[] };
  }[];
}

export interface DEVICE_DESCRIPTION {
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

export interface SCATTER_GATHER_ELEMENT {
  readonly Address: PHYSICAL_ADDRESS;
  readonly Length: ULONG;
  readonly Reserved: number;
}

export interface SCATTER_GATHER_LIST {
  readonly NumberOfElements: ULONG;
  readonly Reserved: number;
  readonly Elements: readonly SCATTER_GATHER_ELEMENT[];
}

export interface DMA_OPERATIONS {
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
  PutScatterGatherList(DmaAdapter: DMA_ADAPTER, ScatterGather: SCATTER_GATHER_LIST, WriteToDevice: boolean): void;
  CalculateScatterGatherList(DmaAdapter: DMA_ADAPTER, Mdl: MDL | null, CurrentVa: PVOID, Length: ULONG, ScatterGatherListSize: Ref<ULONG>, NumberOfMapRegisters: Ref<ULONG> | null): NTSTATUS;
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

/** Makes an out or in-out parameter, what C passes as `&variable`. */
export function ref<T>(value: T): Ref<T> {
  return { value };
}

export function NT_SUCCESS(Status: NTSTATUS): boolean {
  return (Status | 0) >= 0;
}

// ---- Ports -----------------------------------------------------------------------------------

export function READ_PORT_UCHAR(Port: PORT): UCHAR {
  return host.READ_PORT_UCHAR(num(Port));
}
export function READ_PORT_USHORT(Port: PORT): USHORT {
  return host.READ_PORT_USHORT(num(Port));
}
export function READ_PORT_ULONG(Port: PORT): ULONG {
  return host.READ_PORT_ULONG(num(Port));
}
export function WRITE_PORT_UCHAR(Port: PORT, Value: UCHAR): void {
  host.WRITE_PORT_UCHAR(num(Port), num(Value));
}
export function WRITE_PORT_USHORT(Port: PORT, Value: USHORT): void {
  host.WRITE_PORT_USHORT(num(Port), num(Value));
}
export function WRITE_PORT_ULONG(Port: PORT, Value: ULONG): void {
  host.WRITE_PORT_ULONG(num(Port), num(Value));
}

// ---- Memory ----------------------------------------------------------------------------------

export function RtlCopyMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  host.RtlCopyMemory(num(Destination), num(Source), num(Length));
}
export function RtlMoveMemory(Destination: PVOID, Source: PVOID, Length: number): void {
  host.RtlMoveMemory(num(Destination), num(Source), num(Length));
}
export function RtlZeroMemory(Destination: PVOID, Length: number): void {
  host.RtlFillMemory(num(Destination), num(Length), 0);
}
export function RtlFillMemory(Destination: PVOID, Length: number, Fill: UCHAR): void {
  host.RtlFillMemory(num(Destination), num(Length), num(Fill));
}
/** Bytes that match before the first difference. */
export function RtlCompareMemory(Source1: PVOID, Source2: PVOID, Length: number): number {
  return host.RtlCompareMemory(num(Source1), num(Source2), num(Length));
}
/** What C writes as `*(PUCHAR)Va`. */
export function READ_MEMORY_UCHAR(Va: PVOID): UCHAR {
  return host.READ_MEMORY_UCHAR(num(Va));
}
export function READ_MEMORY_USHORT(Va: PVOID): USHORT {
  return host.READ_MEMORY_USHORT(num(Va));
}
export function READ_MEMORY_ULONG(Va: PVOID): ULONG {
  return host.READ_MEMORY_ULONG(num(Va));
}
/** What C writes as `*(PUCHAR)Va = Value`. */
export function WRITE_MEMORY_UCHAR(Va: PVOID, Value: UCHAR): void {
  host.WRITE_MEMORY_UCHAR(num(Va), num(Value));
}
export function WRITE_MEMORY_USHORT(Va: PVOID, Value: USHORT): void {
  host.WRITE_MEMORY_USHORT(num(Va), num(Value));
}
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

/** Nonpaged pool (POOL_FLAG_NON_PAGED); answers NULL when it cannot. */
export function ExAllocatePool2(Flags: number, NumberOfBytes: number, Tag: ULONG | string): PVOID | null {
  return host.ExAllocatePool2(num(Flags), num(NumberOfBytes), tagOf(Tag)) || null;
}
export function ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: number, Tag: ULONG | string): PVOID | null {
  return host.ExAllocatePoolWithTag(num(PoolType), num(NumberOfBytes), tagOf(Tag)) || null;
}
export function ExFreePoolWithTag(P: PVOID, Tag: ULONG | string): void {
  host.ExFreePool(num(P), tagOf(Tag));
}
export function ExFreePool(P: PVOID): void {
  host.ExFreePool(num(P), 0);
}

// ---- Page arithmetic (macros) ----------------------------------------------------------------

export function BYTE_OFFSET(Va: PVOID): ULONG {
  return num(Va) & 0xfff;
}
export function PAGE_ALIGN(Va: PVOID): PVOID {
  return (num(Va) & ~0xfff) >>> 0;
}
export function BYTES_TO_PAGES(Size: ULONG): ULONG {
  return Math.floor((num(Size) + 0xfff) / 0x1000);
}
export function ROUND_TO_PAGES(Size: ULONG): ULONG {
  return BYTES_TO_PAGES(Size) * 0x1000;
}
export function ADDRESS_AND_SIZE_TO_SPAN_PAGES(Va: PVOID, Size: ULONG): ULONG {
  return Math.floor((BYTE_OFFSET(Va) + num(Size) + 0xfff) / 0x1000);
}

// ---- MDLs ------------------------------------------------------------------------------------

export function MmGetMdlVirtualAddress(Mdl: MDL): PVOID {
  return Mdl.StartVa + Mdl.ByteOffset;
}
export function MmGetMdlByteCount(Mdl: MDL): ULONG {
  return Mdl.ByteCount;
}
export function MmGetMdlByteOffset(Mdl: MDL): ULONG {
  return Mdl.ByteOffset;
}
export function MmGetSystemAddressForMdlSafe(Mdl: MDL, Priority: number): PVOID | null {
  const id = idOf(Mdl);
  const va = host.MmGetSystemAddressForMdlSafe(id, num(Priority));
  if (id > 0) mdl(id);
  return va || null;
}
/**
 * The physical address behind a virtual address (ntddk.h), 0 when it is not mapped. It is
 * what the CPU's page tables say, not a logical address a DMA controller can use: for DMA,
 * MapTransfer (or AllocateCommonBuffer's LogicalAddress) gives the address the device uses.
 */
export function MmGetPhysicalAddress(BaseAddress: PVOID): PHYSICAL_ADDRESS {
  return host.MmGetPhysicalAddress(num(BaseAddress));
}
export function IoAllocateMdl(VirtualAddress: PVOID | null, Length: ULONG, SecondaryBuffer: boolean, ChargeQuota: boolean, Irp: IRP | null): MDL | null {
  const id = host.IoAllocateMdl(num(VirtualAddress ?? 0), num(Length), flag(SecondaryBuffer), flag(ChargeQuota), idOf(Irp));
  if (id <= 0) return null;
  const object = mdl(id);
  if (Irp && !SecondaryBuffer) Irp.MdlAddress = object;
  return object;
}
export function MmBuildMdlForNonPagedPool(MemoryDescriptorList: MDL): void {
  const id = idOf(MemoryDescriptorList);
  host.MmBuildMdlForNonPagedPool(id);
  if (id > 0) mdl(id);
}
export function IoBuildPartialMdl(SourceMdl: MDL, TargetMdl: MDL, VirtualAddress: PVOID, Length: ULONG): void {
  const target = idOf(TargetMdl);
  host.IoBuildPartialMdl(idOf(SourceMdl), target, num(VirtualAddress), num(Length));
  if (target > 0) mdl(target);
}
export function IoFreeMdl(Mdl: MDL): void {
  host.IoFreeMdl(idOf(Mdl));
}
export function KeFlushIoBuffers(Mdl: MDL, ReadOperation: boolean, DmaOperation: boolean): void {
  host.KeFlushIoBuffers(idOf(Mdl), flag(ReadOperation), flag(DmaOperation));
}

// ---- IRQL ------------------------------------------------------------------------------------

export function KeGetCurrentIrql(): KIRQL {
  return host.KeGetCurrentIrql();
}
export function KeRaiseIrql(NewIrql: KIRQL, OldIrql: Ref<KIRQL>): void {
  const old = host.KeRaiseIrql(num(NewIrql));
  if (OldIrql) OldIrql.value = old;
}
export function KeRaiseIrqlToDpcLevel(): KIRQL {
  return host.KeRaiseIrql(2);
}
export function KeLowerIrql(NewIrql: KIRQL): void {
  host.KeLowerIrql(num(NewIrql));
}
/** Busy-waits; the machine runs on meanwhile. */
export function KeStallExecutionProcessor(MicroSeconds: ULONG): void {
  host.KeStallExecutionProcessor(num(MicroSeconds));
}

// ---- Device objects -------------------------------------------------------------------------

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
export function IoDeleteDevice(DeviceObject: DEVICE_OBJECT): void {
  host.IoDeleteDevice(idOf(DeviceObject));
  const driver = DeviceObject?.DriverObject;
  if (driver) {
    if (driver.DeviceObject === DeviceObject) driver.DeviceObject = DeviceObject.NextDevice;
    else for (let d = driver.DeviceObject; d; d = d.NextDevice) if (d.NextDevice === DeviceObject) d.NextDevice = DeviceObject.NextDevice;
  }
}
export function IoAttachDeviceToDeviceStack(SourceDevice: DEVICE_OBJECT, TargetDevice: DEVICE_OBJECT): DEVICE_OBJECT | null {
  const lower = host.IoAttachDeviceToDeviceStack(idOf(SourceDevice), idOf(TargetDevice));
  if (lower <= 0) return null;
  const attachedTo = device(lower);
  attachedTo.AttachedDevice = SourceDevice;
  SourceDevice.StackSize = attachedTo.StackSize + 1;
  return attachedTo;
}
export function IoDetachDevice(TargetDevice: DEVICE_OBJECT): void {
  host.IoDetachDevice(idOf(TargetDevice));
  if (TargetDevice) TargetDevice.AttachedDevice = null;
}

// ---- IRPs ------------------------------------------------------------------------------------

export function IoGetCurrentIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Tail.Overlay.CurrentStackLocation;
}
/** The stack location the next-lower driver will see (a copy to fill in before IoCallDriver). */
export function IoGetNextIrpStackLocation(Irp: IRP): IO_STACK_LOCATION {
  return Irp.Tail.Overlay.CurrentStackLocation;
}
export function IoSkipCurrentIrpStackLocation(Irp: IRP): void {
  host.IoSkipCurrentIrpStackLocation(idOf(Irp));
}
export function IoCopyCurrentIrpStackLocationToNext(Irp: IRP): void {
  host.IoSkipCurrentIrpStackLocation(idOf(Irp));
}
export function IoMarkIrpPending(Irp: IRP): void {
  Irp.Tail.Overlay.CurrentStackLocation.Control |= 0x01;
  Irp.PendingReturned = true;
  host.IoMarkIrpPending(idOf(Irp));
}
export function IoCompleteRequest(Irp: IRP, PriorityBoost: number): void {
  const id = idOf(Irp);
  host.IoCompleteRequest(id, num(Irp?.IoStatus?.Status), num(Irp?.IoStatus?.Information), num(PriorityBoost));
  if (id > 0) objects.delete(id);
}
export function IoStartPacket(DeviceObject: DEVICE_OBJECT, Irp: IRP, Key: Ref<ULONG> | null, CancelFunction: null): void {
  host.IoStartPacket(idOf(DeviceObject), idOf(Irp));
}
export function IoStartNextPacket(DeviceObject: DEVICE_OBJECT, Cancelable: boolean): void {
  const started = host.IoStartNextPacket(idOf(DeviceObject), flag(Cancelable));
  if (started === 0 && DeviceObject) DeviceObject.CurrentIrp = null;
}
export function IoCallDriver(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const id = idOf(Irp);
  const result = host.IoCallDriver(idOf(DeviceObject), id);
  if (id > 0 && !objects.has(id)) Irp.IoStatus.Status = result;
  return result;
}
/** Sends the IRP down and waits for the lower driver; the IRP comes back to the caller. */
export function IoForwardIrpSynchronously(DeviceObject: DEVICE_OBJECT, Irp: IRP): boolean {
  const result = host.IoForwardIrpSynchronously(idOf(DeviceObject), idOf(Irp));
  Irp.IoStatus.Status = result;
  return true;
}

// ---- Interrupts and synchronization -----------------------------------------------------------

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
export function IoDisconnectInterrupt(InterruptObject: KINTERRUPT): void {
  const id = idOf(InterruptObject);
  host.IoDisconnectInterrupt(id);
  interrupts.delete(id);
}
/** Runs SynchronizeRoutine at the interrupt's SynchronizeIrql, as the ISR would run. */
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

export function KeInitializeDpc(Dpc: KDPC, DeferredRoutine: KDEFERRED_ROUTINE, DeferredContext: unknown): void {
  const id = host.KeInitializeDpc();
  own(id, Dpc);
  Object.assign(Dpc, { Type: 19, DeferredRoutine, DeferredContext });
  dpcs.set(Dpc, { routine: DeferredRoutine, context: DeferredContext, arg1: null, arg2: null, device: null });
}
export function KeInsertQueueDpc(Dpc: KDPC, SystemArgument1: unknown, SystemArgument2: unknown): boolean {
  const record = dpcs.get(Dpc);
  const inserted = host.KeInsertQueueDpc(idOf(Dpc)) === 1;
  if (record && inserted) {
    record.arg1 = SystemArgument1;
    record.arg2 = SystemArgument2;
  }
  return inserted;
}
export function KeRemoveQueueDpc(Dpc: KDPC): boolean {
  return host.KeRemoveQueueDpc(idOf(Dpc)) === 1;
}
export function IoInitializeDpcRequest(DeviceObject: DEVICE_OBJECT, DpcRoutine: IO_DPC_ROUTINE): void {
  const id = host.IoInitializeDpcRequest(idOf(DeviceObject));
  if (id <= 0) return;
  const dpc = own(id, { Type: 19, DeferredRoutine: DpcRoutine, DeferredContext: DeviceObject } as KDPC);
  dpcs.set(dpc, { routine: DpcRoutine, context: DeviceObject, arg1: null, arg2: null, device: DeviceObject });
  DeviceObject.Dpc = dpc;
}
export function IoRequestDpc(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, Context: unknown): void {
  const dpc = DeviceObject?.Dpc;
  const record = dpc ? dpcs.get(dpc) : undefined;
  const inserted = host.IoRequestDpc(idOf(DeviceObject), idOf(dpc)) === 1;
  if (record && inserted) {
    record.arg1 = Irp;
    record.arg2 = Context;
  }
}
export function KeInitializeTimer(Timer: KTIMER): void {
  own(host.KeInitializeTimer(), Timer);
  Object.assign(Timer, { Type: 8 });
}
function dueTime(DueTime: LARGE_INTEGER): number {
  return typeof DueTime === 'object' && DueTime !== null ? num(DueTime.QuadPart) : num(DueTime);
}
/** DueTime in 100 ns units: negative is relative to now. Answers TRUE when the timer was already set. */
export function KeSetTimer(Timer: KTIMER, DueTime: LARGE_INTEGER, Dpc: KDPC | null): boolean {
  return host.KeSetTimerEx(idOf(Timer), dueTime(DueTime), 0, idOf(Dpc)) === 1;
}
export function KeSetTimerEx(Timer: KTIMER, DueTime: LARGE_INTEGER, Period: number, Dpc: KDPC | null): boolean {
  return host.KeSetTimerEx(idOf(Timer), dueTime(DueTime), num(Period), idOf(Dpc)) === 1;
}
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

/** Prints to the lab console and the trace; the format is printf's. Answers STATUS_SUCCESS. */
export function DbgPrint(Format: string, ...args: unknown[]): NTSTATUS {
  // The console keeps 4096 characters of a line: format no more than can reach them.
  rich.print(format(String(Format).slice(0, 4 * DBGPRINT_LIMIT), args).slice(0, DBGPRINT_LIMIT));
  return STATUS.SUCCESS;
}

/** Stops the machine with a bug check of the driver's choosing. */
export function KeBugCheckEx(BugCheckCode: ULONG, P1: number, P2: number, P3: number, P4: number): never {
  host.KeBugCheckEx(num(BugCheckCode), num(P1), num(P2), num(P3), num(P4));
  throw new Error('unreachable');
}
