import { test } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario } from '../run/session';

const scenario = Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }] });
const limits = { memoryBytes: 64 * 1024 * 1024, stackBytes: 256 * 1024, watchdogTicks: 200 };
const atStart = (body: string) => `
export function DriverEntry(DriverObject: DRIVER_OBJECT) {
  DriverObject.DriverExtension.AddDevice = (D: DRIVER_OBJECT, pdo: DEVICE_OBJECT) => {
    const f = ref<DEVICE_OBJECT | null>(null); IoCreateDevice(D, 0, null, 7, 0, false, f); IoAttachDeviceToDeviceStack(f.value!, pdo); f.value!.DeviceExtension = pdo; f.value!.Flags &= ~DO_DEVICE_INITIALIZING; return STATUS_SUCCESS; };
  DriverObject.MajorFunction[IRP_MJ_PNP] = (Device: DEVICE_OBJECT, Irp: IRP) => {
    if (IoGetCurrentIrpStackLocation(Irp).MinorFunction === IRP_MN_START_DEVICE) {
      const Pdo = Device.DeviceExtension as DEVICE_OBJECT;
      const n = ref(0);
      const mk = () => IoGetDmaAdapter(Pdo, { Version: 0, Master: false, ScatterGather: false, DemandMode: false, AutoInitialize: false, Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0, DmaChannel: 2, InterfaceType: Isa, DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 9216, DmaPort: 0 }, n);
      ${body}
    }
    Irp.IoStatus.Status = STATUS_SUCCESS; IoCompleteRequest(Irp, IO_NO_INCREMENT); return STATUS_SUCCESS;
  };
  return STATUS_SUCCESS;
}`;
const probes: Record<string, [string, number?]> = {
  throwNull: [`export function DriverEntry() { throw null; }`],
  throwMsg5: [`export function DriverEntry() { throw { message: 5, name: { toString() { return 'x'; } } }; }`],
  throwPromise: [`export function DriverEntry() { throw Promise.resolve(1); }`],
  throwDeep: [`export function DriverEntry() { let a: any = []; for (let i = 0; i < 1e5; i++) a = [a]; throw a; }`, 4000],
  topThrowNull: [`throw null; export function DriverEntry() { return 0; }`],
  topLoop: [`for (;;) {} export function DriverEntry() { return 0; }`],
  json: [`export function DriverEntry() { try { JSON.parse('['.repeat(1e5) + ']'.repeat(1e5)); DbgPrint('ok'); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`],
  jsonNested: [`export function DriverEntry(D: DRIVER_OBJECT) { D.DriverExtension.AddDevice = () => { JSON.parse('['.repeat(1e5) + ']'.repeat(1e5)); return 0; }; return STATUS_SUCCESS; }`],
  realDate: [`export function DriverEntry() { const R = Object.getPrototypeOf(Date); DbgPrint(String(R === Function.prototype) + ' ' + (Date.prototype.constructor === Date) + ' ' + new Date().getTime() + ' ' + Date() + ' ' + new Date(2020, 1).getFullYear() + ' ' + (new Date() instanceof Date)); return STATUS_SUCCESS; }`],
  timerPeriod: [`export function DriverEntry() { const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, -10, 1e-7, null); return STATUS_SUCCESS; }`],
  timerDue: [`export function DriverEntry() { const t = {} as KTIMER; KeInitializeTimer(t); KeSetTimerEx(t, 1e300, 0, null); return STATUS_SUCCESS; }`],
  grow: [`export function DriverEntry() { const a: string[] = []; for (let i = 0; ; i++) a.push('x'.repeat(1000) + i); }`],
  growCatch: [`export function DriverEntry() { const a: string[] = []; for (let i = 0; ; i++) { try { a.push('x'.repeat(1000) + i); } catch (e) { } } }`, 1000],
  big: [`export function DriverEntry() { try { const a = new Array(1e9).fill(0); DbgPrint('len ' + a.length); } catch (e) { DbgPrint('err ' + e); } try { const s = 'x'.repeat(1 << 30); DbgPrint('s ' + s.length); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`],
  toJSON: [atStart(`(Object.prototype as any).toJSON = function () { return null; }; DbgPrint('adapter ' + mk());`)],
  stringify: [atStart(`JSON.stringify = () => 'garbage{'; DbgPrint('adapter ' + mk());`)],
  calcSg: [atStart(`const a = mk()!; const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'x')!; const m = IoAllocateMdl(va, 8192, false, false, null)!; const size = ref(0); DbgPrint('calc ' + a.DmaOperations.CalculateScatterGatherList(a, m, va, 8192, size, null));`)],
  calcSgOver: [atStart(`const a = mk()!; const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'x')!; const m = IoAllocateMdl(va, 8192, false, false, null)!; MmBuildMdlForNonPagedPool(m); const size = ref(0); DbgPrint('calc ' + a.DmaOperations.CalculateScatterGatherList(a, m, va, 1e12, size, null));`)],
  getSg: [atStart(`const a = mk()!; const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'x')!; const m = IoAllocateMdl(va, 8192, false, false, null)!; DbgPrint('get ' + a.DmaOperations.GetScatterGatherList(a, Device, m, va, 8192, () => DbgPrint('listcontrol'), null, true));`)],
  mapNaN: [atStart(`const a = mk()!; const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 8192, 'x')!; const m = IoAllocateMdl(va, 8192, false, false, null)!; MmBuildMdlForNonPagedPool(m); a.DmaOperations.AllocateAdapterChannel(a, Device, 3, (d, i, base) => { const len = ref(NaN); DbgPrint('map ' + a.DmaOperations.MapTransfer(a, m, base, va, len, true) + ' ' + len.value); a.DmaOperations.FlushAdapterBuffers(a, m, base, va, NaN, true); DbgPrint('counter ' + a.DmaOperations.ReadDmaCounter(a)); a.DmaOperations.FreeMapRegisters(a, base, NaN); a.DmaOperations.FreeAdapterChannel(a); a.DmaOperations.AllocateCommonBuffer(a, NaN, ref(0), false); a.DmaOperations.AllocateCommonBuffer(a, 1e300, ref(0), false); return DeallocateObjectKeepRegisters; }, null);`)],
};
for (const [name, [source, ticks]] of Object.entries(probes)) {
  test(name, async () => {
    const t = performance.now();
    try {
      const s = await runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits: { ...limits, watchdogTicks: ticks ?? 200 } });
      const r = s.result;
      console.log(name, (performance.now() - t).toFixed(0), JSON.stringify({ bugcheck: r.bugcheck, console: s.kernel.console.map((c) => c.slice(0, 300)), checks: r.checks.filter((c) => !c.ok), violations: r.violations, mem: s.sandbox.memoryBytes(), stats: r.stats }));
    } catch (e) {
      console.log(name, (performance.now() - t).toFixed(0), 'THREW', String(e).slice(0, 500));
    }
  }, 10000);
}
