// Lab 01: the adapter object (reference solution).

interface FdcExtension {
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
}

/** One track of a 1.44 MB disk: 18 sectors of 512 bytes. */
const MAX_TRANSFER = 18 * 512;

export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DbgPrint(`fdc: DriverEntry ${RegistryPath}\n`);
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}

function AddDevice(DriverObject: DRIVER_OBJECT, PhysicalDeviceObject: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  const status = IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_DISK, 0, false, fdo);
  if (!NT_SUCCESS(status) || fdo.value === null) return status;
  const ext: FdcExtension = {
    Pdo: PhysicalDeviceObject,
    LowerDevice: IoAttachDeviceToDeviceStack(fdo.value, PhysicalDeviceObject),
    DmaAdapter: null,
    NumberOfMapRegisters: 0,
  };
  fdo.value.DeviceExtension = ext;
  return STATUS_SUCCESS;
}

function StartDevice(ext: FdcExtension, resources: CM_RESOURCE_LIST | null): NTSTATUS {
  const dma = resources?.List[0]?.PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeDma);
  if (dma === undefined) return STATUS_INSUFFICIENT_RESOURCES;

  const description: DEVICE_DESCRIPTION = {
    Version: DEVICE_DESCRIPTION_VERSION,
    Master: false, // a subordinate device: the 8237 does the transfers
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
    DmaWidth: Width8Bits, // channels 0-3 move bytes
    DmaSpeed: Compatible,
    MaximumLength: MAX_TRANSFER,
    DmaPort: dma.u.Dma.Port,
  };
  const mapRegisters = ref(0);
  const adapter = IoGetDmaAdapter(ext.Pdo, description, mapRegisters);
  if (adapter === null) return STATUS_INSUFFICIENT_RESOURCES;
  ext.DmaAdapter = adapter;
  ext.NumberOfMapRegisters = mapRegisters.value;
  DbgPrint(`fdc: adapter for channel ${description.DmaChannel}, ${mapRegisters.value} map registers\n`);
  return STATUS_SUCCESS;
}

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  let status = STATUS_SUCCESS;

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE:
      status = StartDevice(ext, stack.Parameters.StartDevice.AllocatedResourcesTranslated);
      break;
    case IRP_MN_REMOVE_DEVICE:
      if (ext.DmaAdapter !== null) {
        ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);
        ext.DmaAdapter = null;
      }
      if (ext.LowerDevice !== null) IoDetachDevice(ext.LowerDevice);
      IoDeleteDevice(DeviceObject);
      break;
  }
  Irp.IoStatus.Status = status;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return status;
}
