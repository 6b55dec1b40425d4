// The kernel's view of the driver: routines it can call by entry number with numeric
// arguments (object ids), and the source line the driver is on. The sandbox implements
// it over QuickJS; the guest side of the same numbering is in driver/guest/wdm.ts.

export const Entry = {
  DriverEntry: 1,
  /** a = PDO id */
  AddDevice: 2,
  /** a = device id, b = IRP id; answers the NTSTATUS */
  Dispatch: 3,
  /** a = device id, b = IRP id */
  StartIo: 4,
  /** a = wait block id, b = MapRegisterBase; answers an IO_ALLOCATION_ACTION */
  AdapterControl: 5,
  /** a = wait block id, b = scatter/gather list id */
  ListControl: 6,
  /** a = interrupt id; answers 1 when the ISR claimed the interrupt */
  Isr: 7,
  /** a = DPC id */
  Dpc: 8,
  /** a = device id; answers DeviceObject.Flags */
  DeviceFlags: 9,
  Unload: 10,
  /** a = IRP id: the I/O manager is done with it, the guest may forget it */
  IrpGone: 11,
} as const;
export type Entry = (typeof Entry)[keyof typeof Entry];

export const ENTRY_NAMES: Record<Entry, string> = {
  1: 'DriverEntry',
  2: 'AddDevice',
  3: 'DispatchRoutine',
  4: 'StartIo',
  5: 'AdapterControl',
  6: 'AdapterListControl',
  7: 'InterruptService',
  8: 'DeferredRoutine',
  9: 'DeviceFlags',
  10: 'Unload',
  11: 'IrpGone',
};

export interface DriverCode {
  /** Runs a routine of the driver; a BugCheck thrown inside (or by the sandbox) unwinds through. */
  enter(entry: Entry, a: number, b: number, c: number, d: number): number;
  /** The driver's current TypeScript line, 0 when no driver code has run. */
  line(): number;
}
