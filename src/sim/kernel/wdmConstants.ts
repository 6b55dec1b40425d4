// The constants of wdm.h that a system-DMA driver uses, with their wdm.h values. One
// table serves the host (kernel, HAL) and the guest: the sandbox defines each entry as a
// global before the driver runs, and wdm.d.ts declares each with its literal value.

export const NTSTATUS_CODES = {
  STATUS_SUCCESS: 0x0000_0000,
  STATUS_PENDING: 0x0000_0103,
  STATUS_MORE_PROCESSING_REQUIRED: 0xc000_0016 | 0,
  STATUS_UNSUCCESSFUL: 0xc000_0001 | 0,
  STATUS_NOT_IMPLEMENTED: 0xc000_0002 | 0,
  STATUS_INVALID_PARAMETER: 0xc000_000d | 0,
  STATUS_INVALID_DEVICE_REQUEST: 0xc000_0010 | 0,
  STATUS_END_OF_FILE: 0xc000_0011 | 0,
  STATUS_NO_MEMORY: 0xc000_0017 | 0,
  STATUS_BUFFER_TOO_SMALL: 0xc000_0023 | 0,
  STATUS_DATA_OVERRUN: 0xc000_003c | 0,
  STATUS_DATA_ERROR: 0xc000_003e | 0,
  STATUS_CRC_ERROR: 0xc000_003f | 0,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000_009a | 0,
  STATUS_DEVICE_NOT_READY: 0xc000_00a3 | 0,
  STATUS_IO_DEVICE_ERROR: 0xc000_0185 | 0,
  STATUS_DEVICE_DATA_ERROR: 0xc000_009c | 0,
  STATUS_NO_MEDIA_IN_DEVICE: 0xc000_0013 | 0,
  STATUS_NONEXISTENT_SECTOR: 0xc000_0015 | 0,
  STATUS_DEVICE_BUSY: 0x8000_0011 | 0,
  STATUS_CANCELLED: 0xc000_0120 | 0,
  STATUS_IO_TIMEOUT: 0xc000_00b5 | 0,
  STATUS_DEVICE_NOT_CONNECTED: 0xc000_009d | 0,
  STATUS_INVALID_DEVICE_STATE: 0xc000_0184 | 0,
  STATUS_NOT_SUPPORTED: 0xc000_00bb | 0,
  STATUS_DELETE_PENDING: 0xc000_0056 | 0,
} as const;

export const WDM_CONSTANTS = {
  ...NTSTATUS_CODES,
  // KIRQL (x86)
  PASSIVE_LEVEL: 0,
  LOW_LEVEL: 0,
  APC_LEVEL: 1,
  DISPATCH_LEVEL: 2,
  PROFILE_LEVEL: 27,
  CLOCK1_LEVEL: 28,
  CLOCK2_LEVEL: 28,
  IPI_LEVEL: 29,
  POWER_LEVEL: 30,
  HIGH_LEVEL: 31,
  // Major functions
  IRP_MJ_CREATE: 0x00,
  IRP_MJ_CLOSE: 0x02,
  IRP_MJ_READ: 0x03,
  IRP_MJ_WRITE: 0x04,
  IRP_MJ_DEVICE_CONTROL: 0x0e,
  IRP_MJ_CLEANUP: 0x12,
  IRP_MJ_POWER: 0x16,
  IRP_MJ_SYSTEM_CONTROL: 0x17,
  IRP_MJ_PNP: 0x1b,
  IRP_MJ_MAXIMUM_FUNCTION: 0x1b,
  // PnP minor functions
  IRP_MN_START_DEVICE: 0x00,
  IRP_MN_QUERY_REMOVE_DEVICE: 0x01,
  IRP_MN_REMOVE_DEVICE: 0x02,
  IRP_MN_CANCEL_REMOVE_DEVICE: 0x03,
  IRP_MN_STOP_DEVICE: 0x04,
  IRP_MN_QUERY_STOP_DEVICE: 0x05,
  IRP_MN_CANCEL_STOP_DEVICE: 0x06,
  IRP_MN_SURPRISE_REMOVAL: 0x17,
  // Stack location control
  SL_PENDING_RETURNED: 0x01,
  // Device object flags and types
  DO_BUFFERED_IO: 0x0000_0004,
  DO_EXCLUSIVE: 0x0000_0008,
  DO_DIRECT_IO: 0x0000_0010,
  DO_POWER_PAGABLE: 0x0000_2000,
  DO_DEVICE_INITIALIZING: 0x0000_0080,
  FILE_DEVICE_DISK: 0x07,
  FILE_DEVICE_SOUND: 0x1d,
  FILE_DEVICE_UNKNOWN: 0x22,
  FILE_DEVICE_SECURE_OPEN: 0x100,
  // Priority boosts for IoCompleteRequest
  IO_NO_INCREMENT: 0,
  IO_DISK_INCREMENT: 1,
  IO_SOUND_INCREMENT: 8,
  // CM_RESOURCE_TYPE
  CmResourceTypeNull: 0,
  CmResourceTypePort: 1,
  CmResourceTypeInterrupt: 2,
  CmResourceTypeMemory: 3,
  CmResourceTypeDma: 4,
  CmResourceShareDeviceExclusive: 1,
  CM_RESOURCE_PORT_IO: 0x0001,
  CM_RESOURCE_INTERRUPT_LATCHED: 0x0001,
  CM_RESOURCE_DMA_8: 0x0000,
  CM_RESOURCE_DMA_16: 0x0001,
  // INTERFACE_TYPE
  InterfaceTypeUndefined: -1,
  Internal: 0,
  Isa: 1,
  Eisa: 2,
  MicroChannel: 3,
  PCIBus: 5,
  // DMA_WIDTH, DMA_SPEED
  Width8Bits: 0,
  Width16Bits: 1,
  Width32Bits: 2,
  Width64Bits: 3,
  Compatible: 0,
  TypeA: 1,
  TypeB: 2,
  TypeC: 3,
  TypeF: 4,
  DEVICE_DESCRIPTION_VERSION: 0,
  DEVICE_DESCRIPTION_VERSION1: 1,
  DEVICE_DESCRIPTION_VERSION2: 2,
  DEVICE_DESCRIPTION_VERSION3: 3,
  // IO_ALLOCATION_ACTION
  KeepObject: 1,
  DeallocateObject: 2,
  DeallocateObjectKeepRegisters: 3,
  // KINTERRUPT_MODE
  LevelSensitive: 0,
  Latched: 1,
  // POOL_TYPE and POOL_FLAGS
  NonPagedPool: 0,
  PagedPool: 1,
  NonPagedPoolNx: 512,
  POOL_FLAG_NON_PAGED: 0x40,
  POOL_FLAG_PAGED: 0x100,
  POOL_FLAG_UNINITIALIZED: 0x02,
  // Memory
  PAGE_SIZE: 4096,
  PAGE_SHIFT: 12,
  LowPagePriority: 0,
  NormalPagePriority: 16,
  HighPagePriority: 32,
  MdlMappingNoExecute: 0x4000_0000,
  MDL_MAPPED_TO_SYSTEM_VA: 0x0001,
  MDL_PAGES_LOCKED: 0x0002,
  MDL_SOURCE_IS_NONPAGED_POOL: 0x0004,
  MDL_PARTIAL: 0x0010,
  MDL_WRITE_OPERATION: 0x0080,
  TRUE: true,
  FALSE: false,
} as const;

export type WdmConstantName = keyof typeof WDM_CONSTANTS;

/** The name of an NTSTATUS value, or its hex form when it has none here. */
export function ntStatusName(status: number): string {
  for (const [name, value] of Object.entries(NTSTATUS_CODES)) if (value === (status | 0)) return name;
  return `0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
}

/** NT_SUCCESS: severity success or informational. */
export function NT_SUCCESS(status: number): boolean {
  return (status | 0) >= 0;
}
