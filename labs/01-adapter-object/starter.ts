// Lab 01: the adapter object.
//
// The floppy controller is a subordinate ISA device: it moves data through the
// motherboard's 8237 DMA controller, which the HAL owns. Before a driver can use
// a DMA channel it describes the device to the HAL and receives an adapter object.
//
// DriverEntry and AddDevice are given. You write DispatchPnp's START_DEVICE and
// REMOVE_DEVICE cases: get the adapter when the device starts, release it when it goes.

interface FdcExtension {
  Pdo: DEVICE_OBJECT;
  LowerDevice: DEVICE_OBJECT | null;
  DmaAdapter: DMA_ADAPTER | null;
  NumberOfMapRegisters: number;
}

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

function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as FdcExtension;
  const stack = IoGetCurrentIrpStackLocation(Irp);

  switch (stack.MinorFunction) {
    case IRP_MN_START_DEVICE: {
      // TODO: find the CmResourceTypeDma descriptor in
      //   stack.Parameters.StartDevice.AllocatedResourcesTranslated
      // fill a DEVICE_DESCRIPTION for this device, call IoGetDmaAdapter, and keep
      // the adapter and NumberOfMapRegisters in the device extension.
      break;
    }
    case IRP_MN_REMOVE_DEVICE: {
      // TODO: give the adapter back to the HAL before the device object goes.
      if (ext.LowerDevice !== null) IoDetachDevice(ext.LowerDevice);
      IoDeleteDevice(DeviceObject);
      break;
    }
  }
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
