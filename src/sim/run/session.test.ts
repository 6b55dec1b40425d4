import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Scenario, type ScenarioInput } from '../../shared/scenario';
import { runScenario } from './session';

// Whole runs with small drivers in the sandbox: the PnP sequence, lines in findings and
// bug checks, IRQLs as the WDK gives them, interrupts, DPCs and timers.

const lab = (file: string) => readFileSync(`labs/01-adapter-object/${file}`, 'utf8');
const labScenario = Scenario.parse(parse(lab('scenario.yaml')));
const scenario = (extra: Partial<ScenarioInput> = {}) => Scenario.parse({ devices: [{ type: 'floppy' }], checks: [{ kind: 'no-violations' }], ...extra });

const run = async (source: string, s: Scenario = scenario(), seed = 1) => (await runScenario({ scenario: s, source, file: 'driver.ts', seed })).result;

/** A driver whose whole body is DriverEntry's. */
const entry = (body: string) => `export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {\n${body}\n}\n`;

/** AddDevice and PnP handled; `start` runs at IRP_MN_START_DEVICE with `ext`, `irp`, `res` (translated resources) in scope. */
const pnpDriver = (start: string, extra = '') => `
interface Ext { Pdo: DEVICE_OBJECT; Lower: DEVICE_OBJECT | null; Interrupt: KINTERRUPT | null; Timer: KTIMER; TimerDpc: KDPC; Pending: IRP | null; Isr: number }
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_UNKNOWN, 0, false, fdo);
  const ext: Ext = { Pdo, Lower: IoAttachDeviceToDeviceStack(fdo.value!, Pdo), Interrupt: null, Timer: {}, TimerDpc: {}, Pending: null, Isr: 0 };
  fdo.value!.DeviceExtension = ext;
  fdo.value!.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
function DispatchPnp(DeviceObject: DEVICE_OBJECT, irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as Ext;
  const stack = IoGetCurrentIrpStackLocation(irp);
  if (stack.MinorFunction === IRP_MN_START_DEVICE) {
    const res = stack.Parameters.StartDevice.AllocatedResourcesTranslated!.List[0]!.PartialResourceList.PartialDescriptors;
    ${start}
  }
  if (stack.MinorFunction === IRP_MN_REMOVE_DEVICE) {
    if (ext.Interrupt) IoDisconnectInterrupt(ext.Interrupt);
    if (ext.Lower) IoDetachDevice(ext.Lower);
    IoDeleteDevice(DeviceObject);
  }
  irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
${extra}`;

describe('a run', () => {
  it('passes lab 01 with its solution and fails it with its starter', async () => {
    const solved = await run(lab('solution.ts'), labScenario);
    expect(solved.ok).toBe(true);
    expect(solved.checks.every((c) => c.ok)).toBe(true);
    const started = await run(lab('starter.ts'), labScenario);
    expect(started.ok).toBe(false);
    expect(started.checks.find((c) => c.id === 'adapter-description')?.ok).toBe(false);
  });

  it('is the same run, event for event, for the same seed', async () => {
    expect(await run(lab('solution.ts'), labScenario, 7)).toEqual(await run(lab('solution.ts'), labScenario, 7));
  });

  it('names the driver line of a finding', async () => {
    const r = await run(
      pnpDriver(`
    const d = IoGetDmaAdapter(ext.Pdo, { Version: DEVICE_DESCRIPTION_VERSION, Master: true, ScatterGather: false, DemandMode: false, AutoInitialize: false,
      Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0, DmaChannel: 2, InterfaceType: Isa,
      DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 4096, DmaPort: 0 }, ref(0));
    DbgPrint('adapter %s\\n', d === null ? 'NULL' : 'ok');`),
    );
    expect(r.console).toEqual(['adapter NULL\n']);
    expect(r.violations).toHaveLength(1);
    expect(r.violations[0]).toMatchObject({ rule: 'BAD_DEVICE_DESCRIPTION', line: 22 });
    expect(r.violations[0]!.message).toMatch(/subordinate device \(Master = FALSE\)/);
    expect(r.ok).toBe(false);
  });

  it('stops a DMA routine called at the wrong IRQL with 0xE6, or reports it with its line in teaching mode', async () => {
    const source = (
      pnpDriver(`
    const mr = ref(0);
    const a = IoGetDmaAdapter(ext.Pdo, { Version: DEVICE_DESCRIPTION_VERSION, Master: false, ScatterGather: false, DemandMode: false, AutoInitialize: false,
      Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0, DmaChannel: 2, InterfaceType: Isa,
      DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 4096, DmaPort: 0 }, mr)!;
    a.DmaOperations.AllocateAdapterChannel(a, DeviceObject, 1, () => KeepObject, null);
    a.DmaOperations.FreeAdapterChannel(a);
    a.DmaOperations.PutDmaAdapter(a);`)
    );
    const stopped = await run(source);
    // Bug check 0xE6, parameter 1 = 0x13 (improper IRQL), 2 = 1 (not the IRQL expected), 3 = expected, 4 = current.
    expect(stopped.bugcheck).toMatchObject({ code: 0xe6, name: 'DRIVER_VERIFIER_DMA_VIOLATION', parameters: [0x13, 1, 2, 0], line: 26 });
    const r = await run(source, scenario({ verifier: 'teaching' }));
    const irql = r.violations.filter((v) => v.rule === 'DMA_WRONG_IRQL');
    expect(irql.map((v) => v.line)).toEqual([26, 27]);
    expect(irql[0]!.message).toMatch(/^AllocateAdapterChannel must be called at IRQL = DISPATCH_LEVEL; it was called at PASSIVE_LEVEL\. Call each DMA routine/);
  });

  it('gives each routine its IRQL and bug-checks one that returns at another', async () => {
    const r = await run(
      entry(`
  const old = ref(0);
  DbgPrint('%d', KeGetCurrentIrql());
  KeRaiseIrql(DISPATCH_LEVEL, old);
  DbgPrint(' %d %d', KeGetCurrentIrql(), old.value);
  KeLowerIrql(old.value);
  DbgPrint(' %d', KeGetCurrentIrql());
  KeRaiseIrql(DISPATCH_LEVEL, old);
  return STATUS_SUCCESS;`),
    );
    expect(r.console.join('')).toBe('0 2 0 0');
    expect(r.bugcheck).toMatchObject({ code: 0xc8, name: 'IRQL_UNEXPECTED_VALUE' });
  });

  it('bug-checks a read of unmapped memory with 0x50 at its line', async () => {
    const r = await run(entry('  const x = 1;\n  READ_MEMORY_UCHAR(0x1000 + x);\n  return STATUS_SUCCESS;'));
    expect(r.bugcheck).toMatchObject({ code: 0x50, name: 'PAGE_FAULT_IN_NONPAGED_AREA', line: 3 });
    expect(r.bugcheck!.parameters[0]).toBe(0x1001);
  });

  it('formats DbgPrint as printf does', async () => {
    const r = await run(entry(`  DbgPrint('%d|%5u|%-4x|%08X|%c|%s|%%|%p\\n', -3, 42, 0xab, 0xbeef, 65, 'fdc', 0x1234);\n  return STATUS_SUCCESS;`));
    expect(r.console).toEqual(['-3|   42|ab  |0000BEEF|A|fdc|%|00001234\n']);
  });

  it('takes a device interrupt at its DIRQL, runs the DPC at DISPATCH_LEVEL, and a timer DPC after its due time', async () => {
    const source = pnpDriver(
      `
    const irq = res.find((d) => d.Type === CmResourceTypeInterrupt)!;
    const interrupt = ref<KINTERRUPT | null>(null);
    const status = IoConnectInterrupt(interrupt, Isr, DeviceObject, null, irq.u.Interrupt.Vector, irq.u.Interrupt.Level, irq.u.Interrupt.Level, Latched, false, 1, false);
    DbgPrint('connect %x vector %x level %d\\n', status, irq.u.Interrupt.Vector, irq.u.Interrupt.Level);
    ext.Interrupt = interrupt.value;
    KeInitializeDpc(ext.TimerDpc, TimerDpc, ext);
    KeInitializeTimer(ext.Timer);
    KeSetTimer(ext.Timer, -20000, ext.TimerDpc); // 2 ms
    ext.Pending = irp;
    IoMarkIrpPending(irp);
    return STATUS_PENDING;`,
      `
function Isr(Interrupt: KINTERRUPT, Context: unknown): boolean {
  DbgPrint('isr at %d\\n', KeGetCurrentIrql());
  const d = Context as DEVICE_OBJECT;
  (d.DeviceExtension as Ext).Isr++;
  return true;
}
function TimerDpc(Dpc: KDPC, Context: unknown, A: unknown, B: unknown): void {
  const ext = Context as Ext;
  DbgPrint('timer dpc at %d after %d interrupt(s)\\n', KeGetCurrentIrql(), ext.Isr);
  const irp = ext.Pending!;
  ext.Pending = null;
  irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
}`,
    );
    const r = await run(source, scenario({ faults: [{ kind: 'spurious-interrupt', irq: 6, atNs: 1_000_000 }] }));
    expect(r.bugcheck).toBeNull();
    expect(r.violations).toEqual([]);
    expect(r.console).toEqual(['connect 0 vector 36 level 21\n', 'isr at 21\n', 'timer dpc at 2 after 1 interrupt(s)\n']);
    expect(r.stats.interrupts).toBe(1);
    expect(r.stats.dpcs).toBe(1);
    expect(r.stats.simulatedNs).toBeGreaterThanOrEqual(2_000_000);
  });

  it('counts a timer still set at unload as a leak, at the line that set it', async () => {
    const source = pnpDriver(`
    KeInitializeDpc(ext.TimerDpc, TimerDpc, ext);
    KeInitializeTimer(ext.Timer);
    KeSetTimer(ext.Timer, -100_000_000, ext.TimerDpc); // 10 s: still set when the device goes
`, `function TimerDpc(Dpc: KDPC, Context: unknown, A: unknown, B: unknown): void {}`);
    const setLine = source.split('\n').findIndex((l) => l.includes('KeSetTimer(ext.Timer, -100_000_000')) + 1;
    const r = await run(source, scenario({ verifier: 'teaching', checks: [{ kind: 'resources-released' }] }));
    expect(r.violations).toEqual([expect.objectContaining({ rule: 'RESOURCES_LEAKED', line: setLine, message: expect.stringContaining('1 timer(s) still set') })]);
    expect(r.checks[0]).toMatchObject({ id: 'resources-released', ok: false, message: '1 timer(s) still set (KeCancelTimer)' });
  });

  it('gives the driver a fixed UTC clock, whatever the host\'s time zone', async () => {
    const r = await run(entry(`  const d = new Date();\n  DbgPrint('%s %d %d %s', String(d), d.getHours(), d.getTimezoneOffset(), new Date(2025, 5, 1, 12).toISOString());\n  return STATUS_SUCCESS;`));
    expect(r.console).toEqual(['Wed, 01 Jan 2025 00:00:00 GMT 0 0 2025-06-01T12:00:00.000Z']);
  });

  it('says in sectors what a floppy read got wrong', async () => {
    const dir = 'labs/02-packet-read';
    const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
    const s = Scenario.parse(parse(read('scenario.yaml')));
    const files = new Map([['./fdc', read('fdc.ts')]]);
    const offByOne = read('solution.ts').replace('ext.Sector = stack.Parameters.Read.ByteOffset / SECTOR_SIZE;', 'ext.Sector = stack.Parameters.Read.ByteOffset / SECTOR_SIZE + 1;');
    expect(offByOne).not.toBe(read('solution.ts'));
    const { result } = await runScenario({ scenario: s, source: offByOne, file: 'driver.ts', seed: 1, files });
    const integrity = result.checks.find((c) => c.id === 'data-integrity')!;
    expect(integrity.ok).toBe(false);
    expect(integrity.message).toContain('IRP 2 (read 512 bytes at 2560): sector 0 of the request (disk sector 5, bytes 0x0–0x1FF) holds the bytes of disk sector 6');
  });

  it('says which sectors of a floppy request never arrived, and which last bytes of a sector', async () => {
    const integrity = async (dir: string) => {
      const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
      const s = Scenario.parse(parse(read('scenario.yaml')));
      const { result } = await runScenario({ scenario: s, source: read('starter.ts'), file: 'driver.ts', seed: 1, files: new Map([['./fdc', read('fdc.ts')]]) });
      return result.checks.find((c) => c.id === 'data-integrity')!;
    };
    // Lab 04's starter maps a request with one MapTransfer: the rest of it never moves.
    const split = await integrity('labs/04-splitting-transfers');
    expect(split.ok).toBe(false);
    expect(split.message).toContain(
      'IRP 1 (read 45056 bytes at 184320): sector 34 of the request (disk sector 394, bytes 0x4400–0x45FF) never arrived: the buffer still holds the 0xA5 it was filled with, and so does the rest of the request (sectors 35–87)',
    );
    expect(split.message).toContain('IRP 4 (write 8192 bytes at 751616): sector 8 of the request (disk sector 1476, bytes 0x1000–0x11FF) was never written: the disk still holds what it held before, and so does the rest of the request (sectors 9–15)');
    // Lab 05's starter never calls FlushAdapterBuffers: the DMA controller keeps a read's last bytes.
    const flush = await integrity('labs/05-controller-buffer-flush');
    expect(flush.ok).toBe(false);
    // Each read is judged as its caller found it at completion: every read that is not a
    // multiple of the controller's 24-byte buffer is missing its tail then.
    expect(flush.message).toBe(
      [
        'IRP 1 (read 512 bytes at 0): the last 8 bytes of sector 0 of the request (disk sector 0, bytes 0x0–0x1FF) never arrived: bytes 0x1F8–0x1FF still hold the 0xA5 the buffer was filled with',
        'IRP 5 (read 2560 bytes at 6144): the last 16 bytes of sector 4 of the request (disk sector 16, bytes 0x800–0x9FF) never arrived: bytes 0x9F0–0x9FF still hold the 0xA5 the buffer was filled with',
        'IRP 7 (read 2560 bytes at 15360): the last 8 bytes of sector 4 of the request (disk sector 34, bytes 0x800–0x9FF) never arrived: bytes 0x9F8–0x9FF still hold the 0xA5 the buffer was filled with',
      ].join('; '),
    );
  });

  it('answers MmGetPhysicalAddress from the page tables, 0 for an address that is not mapped', async () => {
    const r = await run(entry(`  const va = ExAllocatePool2(POOL_FLAG_NON_PAGED, 64, 'Test')!;
  const pa = MmGetPhysicalAddress(va + 5);
  DbgPrint('%d %d %d', pa > 0 ? 1 : 0, pa % PAGE_SIZE === (va + 5) % PAGE_SIZE ? 1 : 0, MmGetPhysicalAddress(0));
  ExFreePool(va);
  return STATUS_SUCCESS;`));
    expect(r.console).toEqual(['1 1 0']);
  });

  it('says where the bytes went when the 8237 was programmed with an address it cannot use', async () => {
    // Lab 06's starter programs the channel with MmGetPhysicalAddress's answer itself.
    const dir = 'labs/06-isa-limits';
    const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
    const s = Scenario.parse(parse(read('scenario.yaml')));
    const files = new Map([['./fdc', read('fdc.ts')]]);
    const { result } = await runScenario({ scenario: s, source: read('starter.ts'), file: 'driver.ts', seed: 1, files });
    const integrity = result.checks.find((c) => c.id === 'data-integrity')!.message;
    // IRP 2: a read whose buffer crosses 64 KiB 1024 bytes in; IRP 4: a read above 16 MiB.
    expect(integrity).toMatch(
      /IRP 2 \(read 2048 bytes at 4096\): sector 2 of the request .* never arrived: .* — the buffer crosses a 64 KiB boundary at byte 0x400 of the request \(physical 0x([0-9A-F]+)0000\), where the 8237's address counter wraps without carrying into the page register: the DMA controller wrote these bytes at physical 0x[0-9A-F]+0000, /,
    );
    expect(integrity).toMatch(/IRP 4 \(read 4608 bytes at 9216\): .* — the buffer lies at physical 0x[0-9A-F]{7}, above 16 MiB, and the ISA bus has address lines A0–A23 only: the DMA controller wrote these bytes at physical 0x[0-9A-F]{1,6}[,;]/);
    // Writes: the device got what lay at the address the controller used.
    expect(integrity).toMatch(/IRP 5 \(write 1536 bytes at 14336\): .* above 16 MiB, .* the DMA controller fetched these bytes from physical /);
    // A buffer the controller reaches, and a mismatch with another cause, get no such clause.
    expect(integrity).not.toContain('IRP 1 ');
    const offByOne = await runScenario({
      scenario: Scenario.parse(parse(readFileSync('labs/02-packet-read/scenario.yaml', 'utf8'))),
      source: readFileSync('labs/02-packet-read/solution.ts', 'utf8').replace('ext.Sector = stack.Parameters.Read.ByteOffset / SECTOR_SIZE;', 'ext.Sector = stack.Parameters.Read.ByteOffset / SECTOR_SIZE + 1;'),
      file: 'driver.ts',
      seed: 1,
      files: new Map([['./fdc', readFileSync('labs/02-packet-read/fdc.ts', 'utf8')]]),
    });
    expect(offByOne.result.checks.find((c) => c.id === 'data-integrity')!.message).not.toContain('DMA controller');
  });

  it("checks each IRP against its own expected status, and leaves a failed read's data unchecked", async () => {
    const dir = 'labs/02-packet-read';
    const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
    const files = new Map([['./fdc', read('fdc.ts')]]);
    const base = parse(read('scenario.yaml')) as ScenarioInput;
    // Byte 600 of the run is byte 88 of IRP 2's sector: a CRC error there.
    const faulty = (expect?: string) =>
      Scenario.parse({ ...base, workload: base.workload!.map((w, i) => (i === 1 && expect ? { ...w, expect } : w)), faults: [{ kind: 'io-error', atByte: 600 }] });
    const checks = async (s: Scenario) => (await runScenario({ scenario: s, source: read('solution.ts'), file: 'driver.ts', seed: 1, files })).result.checks;
    const expected = await checks(faulty('STATUS_CRC_ERROR'));
    expect(expected.filter((c) => !c.ok)).toEqual([]);
    expect(expected.find((c) => c.id === 'irp-status')!.message).toBe('all 5 IRPs completed with the status expected of each (4 STATUS_SUCCESS, 1 STATUS_CRC_ERROR)');
    expect(expected.find((c) => c.id === 'data-integrity')!.message).toBe('all 4 transfers moved the right bytes (1 expected to fail, not checked)');
    const unexpected = await checks(faulty());
    expect(unexpected.find((c) => c.id === 'irp-status')).toMatchObject({ ok: false, message: 'IRP 2 (read 512 bytes at 2560) completed with STATUS_CRC_ERROR, expected STATUS_SUCCESS' });
    expect(unexpected.find((c) => c.id === 'data-integrity')!.ok).toBe(false);
  });

  it('says where an IRP that never completed was left: started by StartIo, or still queued', async () => {
    const dir = 'labs/02-packet-read';
    const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8');
    const files = new Map([['./fdc', read('fdc.ts')]]);
    // The disk stops at byte 600, in IRP 2: lab 02's driver has no timeout.
    const s = Scenario.parse({ ...(parse(read('scenario.yaml')) as ScenarioInput), faults: [{ kind: 'no-interrupt', atByte: 600 }], timeLimitMs: 3000 });
    const { result } = await runScenario({ scenario: s, source: read('solution.ts'), file: 'driver.ts', seed: 1, files });
    expect(result.irps.map((i) => i.status)).toEqual(['STATUS_SUCCESS', null, null, null, null]);
    const status = result.checks.find((c) => c.id === 'irp-status')!;
    expect(status.ok).toBe(false);
    expect(status.message.split('; ')).toEqual([
      'IRP 2 (read 512 bytes at 2560) never completed: StartIo started it and nothing ever completed it (when the device never interrupts, only a timeout in the driver ends the request)',
      'IRP 3 (read 512 bytes at 8704) never completed: it was still waiting in the StartIo queue',
      'IRP 4 (read 512 bytes at 9216) never completed: it was still waiting in the StartIo queue',
      'IRP 5 (read 512 bytes at 17920) never completed: it was still waiting in the StartIo queue',
    ]);
  });

  it('bug-checks a second completion of the same IRP with 0x44', async () => {
    const r = await run(pnpDriver(`irp.IoStatus.Status = STATUS_SUCCESS;\n    IoCompleteRequest(irp, IO_NO_INCREMENT);`));
    expect(r.bugcheck).toMatchObject({ code: 0x44, name: 'MULTIPLE_IRP_COMPLETE_REQUESTS', line: 30 });
  });
});
