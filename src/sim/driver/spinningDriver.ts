// A hostile driver the app must live beside (DESIGN.md, "The sandbox"): not an escape, but a
// run that never ends by itself. sandboxPool.test.ts runs it in the worker pool beside a lab's
// run, and e2e/sandbox.spec.ts in one window while another works. Nothing is imported here,
// so that the end-to-end tests can read it without the simulator.

/** Loop rounds a Burn DPC runs: ~600 of the 1,000 watchdog ticks in a debug build (about 300 per million), so it is never stopped for it. */
const BURN_ROUNDS = 2_000_000;

/**
 * A periodic timer (every simulated millisecond) whose DPC burns most of a watchdog's budget
 * each time, and a read it never completes, so that a run of SPINNING_SCENARIO waits out its
 * 600 s of simulated time: some 600,000 DPCs, hours of wall time, until it is stopped.
 */
export const SPINNING_DRIVER = `
let x = 0;
function Burn(Dpc: KDPC): void {
  for (let i = 0; i < ${BURN_ROUNDS}; i++) x = (x * 31 + i) % 1009;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_DISK, 0, false, fdo);
  IoAttachDeviceToDeviceStack(fdo.value!, Pdo);
  fdo.value!.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
function DispatchPnp(Device: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
function DispatchRead(Device: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  IoMarkIrpPending(Irp);
  return STATUS_PENDING;
}
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchRead;
  const dpc = {} as KDPC;
  KeInitializeDpc(dpc, Burn, null);
  const timer = {} as KTIMER;
  KeInitializeTimer(timer);
  KeSetTimerEx(timer, -10000, 1, dpc);
  return STATUS_SUCCESS;
}
`;

/** A floppy controller with one read to wait on, for ten simulated minutes (a scenario as a person's file holds it). */
export const SPINNING_SCENARIO = {
  title: 'a driver that never lets go',
  devices: [{ type: 'floppy' }],
  workload: [{ major: 'read', length: 512 }],
  checks: [{ kind: 'no-violations' }],
  verifier: 'teaching',
  timeLimitMs: 600_000,
} as const;
