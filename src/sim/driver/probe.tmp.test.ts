import { test } from 'vitest';
import { Scenario } from '../../shared/scenario';
import { runScenario } from '../run/session';

const scenario = Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }] });
const limits = { memoryBytes: 64 * 1024 * 1024, stackBytes: 256 * 1024, watchdogTicks: 200 };
const ADD = `DriverObject.DriverExtension.AddDevice = (D: DRIVER_OBJECT, pdo: DEVICE_OBJECT) => { const f = ref<DEVICE_OBJECT | null>(null); IoCreateDevice(D, 0, null, 7, 0, false, f); IoAttachDeviceToDeviceStack(f.value!, pdo); (globalThis as any).PDO = pdo; return STATUS_SUCCESS; };`;
const probes: Record<string, [string, number?]> = {
  dbg4000: [`export function DriverEntry() { DbgPrint('x'.repeat(10 * 1024 * 1024)); return STATUS_SUCCESS; }`, 4000],
  dbgS: [`export function DriverEntry() { DbgPrint('%s', 'x'.repeat(10 * 1024 * 1024)); return STATUS_SUCCESS; }`],
  json1e4: [`export function DriverEntry() { try { JSON.parse('['.repeat(1e4) + ']'.repeat(1e4)); DbgPrint('ok'); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`],
  json1e5: [`export function DriverEntry() { try { JSON.parse('['.repeat(1e5) + ']'.repeat(1e5)); DbgPrint('ok'); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`],
  deepToString: [`export function DriverEntry() { let a: any = []; for (let i = 0; i < 1e5; i++) a = [a]; try { DbgPrint(String(a).length + ''); } catch (e) { DbgPrint('err ' + e); } try { DbgPrint(JSON.stringify(a).length + ''); } catch (e) { DbgPrint('err ' + e); } return STATUS_SUCCESS; }`, 4000],
  regex: [`export function DriverEntry() { DbgPrint(String(/(a+)+$/.test('a'.repeat(40) + 'b'))); return STATUS_SUCCESS; }`],
  realDate: [`export function DriverEntry() { const R = Object.getPrototypeOf(Date); DbgPrint(String(R.now()) + ' ' + String(new R().getTime()) + ' ' + (Object.getPrototypeOf(Date.prototype).constructor === Date)); return STATUS_SUCCESS; }`],
  toJSON: [`export function DriverEntry(D: DRIVER_OBJECT) { ${ADD} D.MajorFunction[IRP_MJ_PNP] = (d: DEVICE_OBJECT, irp: IRP) => { (Object.prototype as any).toJSON = function () { return null; }; const a = IoGetDmaAdapter((globalThis as any).PDO, {} as any, ref(0)); DbgPrint('adapter ' + a); irp.IoStatus.Status = 0; IoCompleteRequest(irp, 0); return 0; }; return STATUS_SUCCESS; }`],
  stringify: [`export function DriverEntry(D: DRIVER_OBJECT) { ${ADD} D.MajorFunction[IRP_MJ_PNP] = (d: DEVICE_OBJECT, irp: IRP) => { JSON.stringify = () => 'garbage{'; const a = IoGetDmaAdapter((globalThis as any).PDO, {} as any, ref(0)); DbgPrint('adapter ' + a); irp.IoStatus.Status = 0; IoCompleteRequest(irp, 0); return 0; }; return STATUS_SUCCESS; }`],
  nativeImport: [`export function DriverEntry() { const p = (0, eval)("import('fs')"); p.then((m: any) => DbgPrint('loaded ' + Object.keys(m)), (e: any) => DbgPrint('rejected ' + e)); return STATUS_SUCCESS; }`],
  tsImport: [`export async function DriverEntry() { try { const m = await import('node:child_process'); DbgPrint('loaded ' + typeof m); } catch (e) { DbgPrint('rejected ' + e); } return STATUS_SUCCESS; }`],
  hostile: [`export function DriverEntry() { const h: any[] = [Symbol('s'), 10n, 1e300, NaN, -Infinity, { valueOf() { IoCreateDevice(null as any, 0, null, 0, 0, false, ref(null)); return 0x3f0; } }, new Proxy({}, {})];
    for (const v of h) { for (const f of [READ_PORT_UCHAR, WRITE_PORT_UCHAR, RtlCopyMemory, RtlFillMemory, RtlCompareMemory, KeStallExecutionProcessor, ExAllocatePool2, ExFreePool, READ_MEMORY_ULONG, IoAllocateMdl, KeRaiseIrql, KeLowerIrql, IoCreateDevice, IoDeleteDevice, KeSetTimerEx, KeInitializeTimer, KeBugCheckEx] as any[]) { try { f(v, v, v, v, v, v, v); } catch (e) { DbgPrint(f.name + ' ' + String(e).slice(0, 100)); } } }
    return STATUS_SUCCESS; }`, 40000],
};
for (const [name, [source, ticks]] of Object.entries(probes)) {
  test(name, async () => {
    const t = performance.now();
    try {
      const s = await runScenario({ scenario, source, file: 'driver.ts', seed: 1, limits: { ...limits, watchdogTicks: ticks ?? 200 } });
      const r = s.result;
      if (name === 'nativeImport' || name === 'tsImport') { s.sandbox.runtime.executePendingJobs(); }
      console.log(name, (performance.now() - t).toFixed(0), JSON.stringify({ bugcheck: r.bugcheck, console: s.kernel.console.map((c) => c.slice(0, 300)), checks: r.checks, violations: r.violations, mem: s.sandbox.memoryBytes(), calls: Object.fromEntries([...s.api.calls].filter(([, n]) => n > 0)) }));
    } catch (e) {
      console.log(name, (performance.now() - t).toFixed(0), 'THREW', String(e).slice(0, 500));
    }
  });
}
