import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../shared/runResult';
import { Scenario, type ScenarioInput } from '../../shared/scenario';
import { runScenario } from '../run/session';
import { RULES, type RuleId } from './rules';

// The lab's own verifier rules (rules.ts), and the bug checks a driver raises outside
// Driver Verifier's DMA checks: for each, a driver that breaks the rule, with the finding
// at the line of the offending call, and the corrected driver, with no finding at all.
// Most broken drivers are the playground's reference drivers with one thing changed; the
// line is found in the changed source by its `//!` marker, never written down.

const FLOPPY = readFileSync('labs/playground/floppy-packet.driver.ts', 'utf8');
const SCANNER = readFileSync('labs/playground/scanner-sg.driver.ts', 'utf8');
const MARK = '//!';

// ---- Editing drivers -------------------------------------------------------------------------

/** `source` with each `from` (which must occur exactly once) replaced by its `to`. */
function change(source: string, ...edits: [from: string, to: string][]): string {
  for (const [from, to] of edits) {
    expect(source.split(from), `"${from}" should occur once`).toHaveLength(2);
    source = source.replace(from, () => to);
  }
  return source;
}

/** `source` with the marker appended to the one line that contains `snippet`. */
function mark(source: string, snippet: string): string {
  const lines = source.split('\n');
  const at = lines.flatMap((l, i) => (l.includes(snippet) ? [i] : []));
  expect(at, `"${snippet}" should be on one line`).toHaveLength(1);
  lines[at[0]!] += ` ${MARK}`;
  return lines.join('\n');
}

/** The 1-based line of the one line holding `snippet` (the marker by default). */
function lineOf(source: string, snippet = MARK): number {
  const at = source.split('\n').flatMap((l, i) => (l.includes(snippet) ? [i + 1] : []));
  expect(at, `"${snippet}" should be on one line`).toHaveLength(1);
  return at[0]!;
}

// ---- Running them ---------------------------------------------------------------------------

const results = new Map<string, Promise<RunResult>>();

/** Runs a driver against a scenario; the same pair runs once per file. */
function run(source: string, scenario: Scenario): Promise<RunResult> {
  const key = `${JSON.stringify(scenario)}\n${source}`;
  let result = results.get(key);
  if (!result) {
    result = runScenario({ scenario, source, file: 'driver.ts', seed: 1 }).then((s) => {
      s.sandbox.dispose();
      return s.result;
    });
    results.set(key, result);
  }
  return result;
}

const scenario = (input: Partial<ScenarioInput>): Scenario => Scenario.parse({ devices: [{ type: 'floppy', name: 'fdc0' }], checks: [{ kind: 'no-violations' }], ...input });
const teaching = (s: Scenario): Scenario => ({ ...s, verifier: 'teaching' });

/** One read of a sector into a buffer the controller reaches: one piece, one MapTransfer. */
const ONE_SECTOR = scenario({ workload: [{ major: 'read', length: 512, offset: 0 }] });

/** Exactly one finding: `rule`, at `line`, its message ending with the rule's advice. */
function expectOnly(result: RunResult, rule: RuleId, line: number): void {
  expect(result.violations.map((v) => ({ rule: v.rule, line: v.line }))).toEqual([{ rule, line }]);
  expect(result.violations[0]!.message.endsWith(RULES[rule].advice)).toBe(true);
}

function expectClean(result: RunResult): void {
  expect(result.violations).toEqual([]);
  expect(result.bugcheck).toBeNull();
}

/** A teaching rule: reported in the bug-check mode too, and the run goes on. */
async function expectTeachingRule(broken: string, fixed: string, s: Scenario, rule: RuleId): Promise<RunResult> {
  expect(RULES[rule]).not.toHaveProperty('bugCheck');
  expect(RULES[rule]).not.toHaveProperty('e6');
  const r = await run(broken, s);
  expectOnly(r, rule, lineOf(broken));
  expect(r.bugcheck).toBeNull();
  expectClean(await run(fixed, s));
  return r;
}

/** A rule with a bug check: the finding alone in the teaching mode; the bug check, at the same line, in the bug-check mode. */
async function expectBugCheckRule(broken: string, fixed: string, s: Scenario, rule: RuleId, code: number, name: string): Promise<void> {
  expect(RULES[rule]).toMatchObject({ bugCheck: code });
  const line = lineOf(broken);
  const taught = await run(broken, teaching(s));
  expectOnly(taught, rule, line);
  expect(taught.bugcheck).toBeNull();
  const stopped = await run(broken, { ...s, verifier: 'bugcheck' });
  expect(stopped.bugcheck).toMatchObject({ code, name, line });
  expect(stopped.violations.map((v) => [v.rule, v.line])).toEqual([[rule, line]]);
  expectClean(await run(fixed, s));
  expectClean(await run(fixed, teaching(s)));
}

// ---- Small drivers ---------------------------------------------------------------------------

/** A PnP driver: `start` runs at IRP_MN_START_DEVICE with `ext`, `irp` and `res` (translated descriptors) in scope. */
const pnpDriver = (start: string, extra = '') => `
interface Ext { Pdo: DEVICE_OBJECT; Lower: DEVICE_OBJECT | null; Interrupt: KINTERRUPT | null }
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  return STATUS_SUCCESS;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_UNKNOWN, 0, false, fdo);
  const ext: Ext = { Pdo, Lower: IoAttachDeviceToDeviceStack(fdo.value!, Pdo), Interrupt: null };
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
  IoCompleteRequest(irp, IO_NO_INCREMENT); // the PnP IRP is done
  return STATUS_SUCCESS;
}
function Isr(Interrupt: KINTERRUPT, Context: unknown): boolean {
  return false;
}
${extra}`;

/**
 * A packet-based driver reduced to its DMA calls: its device needs no command, so a read's
 * transfer is mapped, flushed and its channel freed in AdapterControl, and the IRP completed.
 */
const PACKET = `
interface Ext { Pdo: DEVICE_OBJECT; Lower: DEVICE_OBJECT | null; Adapter: DMA_ADAPTER | null }
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  DriverObject.DriverExtension.AddDevice = AddDevice;
  DriverObject.MajorFunction[IRP_MJ_PNP] = DispatchPnp;
  DriverObject.MajorFunction[IRP_MJ_READ] = DispatchRead;
  DriverObject.DriverStartIo = StartIo;
  return STATUS_SUCCESS;
}
function AddDevice(DriverObject: DRIVER_OBJECT, Pdo: DEVICE_OBJECT): NTSTATUS {
  const fdo = ref<DEVICE_OBJECT | null>(null);
  IoCreateDevice(DriverObject, 0, null, FILE_DEVICE_UNKNOWN, 0, false, fdo);
  const ext: Ext = { Pdo, Lower: IoAttachDeviceToDeviceStack(fdo.value!, Pdo), Adapter: null };
  fdo.value!.DeviceExtension = ext;
  fdo.value!.Flags |= DO_DIRECT_IO;
  fdo.value!.Flags &= ~DO_DEVICE_INITIALIZING;
  return STATUS_SUCCESS;
}
function DispatchPnp(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  const ext = DeviceObject.DeviceExtension as Ext;
  const stack = IoGetCurrentIrpStackLocation(Irp);
  if (stack.MinorFunction === IRP_MN_START_DEVICE) {
    const dma = stack.Parameters.StartDevice.AllocatedResourcesTranslated!.List[0]!.PartialResourceList.PartialDescriptors.find((d) => d.Type === CmResourceTypeDma)!;
    ext.Adapter = IoGetDmaAdapter(ext.Pdo, { Version: DEVICE_DESCRIPTION_VERSION, Master: false, ScatterGather: false, DemandMode: false, AutoInitialize: false,
      Dma32BitAddresses: false, IgnoreCount: false, Reserved1: false, Dma64BitAddresses: false, BusNumber: 0, DmaChannel: dma.u.Dma.Channel, InterfaceType: Isa,
      DmaWidth: Width8Bits, DmaSpeed: Compatible, MaximumLength: 0x8000, DmaPort: 0 }, ref(0));
  }
  if (stack.MinorFunction === IRP_MN_REMOVE_DEVICE) {
    ext.Adapter!.DmaOperations.PutDmaAdapter(ext.Adapter!);
    IoDetachDevice(ext.Lower!);
    IoDeleteDevice(DeviceObject);
  }
  Irp.IoStatus.Status = STATUS_SUCCESS;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  return STATUS_SUCCESS;
}
function DispatchRead(DeviceObject: DEVICE_OBJECT, Irp: IRP): NTSTATUS {
  IoMarkIrpPending(Irp);
  IoStartPacket(DeviceObject, Irp, null, null);
  return STATUS_PENDING;
}
function StartIo(DeviceObject: DEVICE_OBJECT, Irp: IRP): void {
  const adapter = (DeviceObject.DeviceExtension as Ext).Adapter!;
  const mdl = Irp.MdlAddress!;
  const va = MmGetMdlVirtualAddress(mdl);
  const length = ref(MmGetMdlByteCount(mdl));
  adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length.value), AdapterControl, null);
}
function AdapterControl(DeviceObject: DEVICE_OBJECT, Irp: IRP | null, MapRegisterBase: MAP_REGISTER_BASE, Context: unknown): IO_ALLOCATION_ACTION {
  const adapter = (DeviceObject.DeviceExtension as Ext).Adapter!;
  const irp = Irp!;
  const mdl = irp.MdlAddress!;
  const va = MmGetMdlVirtualAddress(mdl);
  const length = ref(MmGetMdlByteCount(mdl));
  adapter.DmaOperations.MapTransfer(adapter, mdl, MapRegisterBase, va, length, false);
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, MapRegisterBase, va, length.value, false);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  irp.IoStatus.Status = STATUS_SUCCESS;
  irp.IoStatus.Information = length.value;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
  return KeepObject;
}
`;

// ---- The rules -------------------------------------------------------------------------------

describe('the lab\'s own verifier rules', () => {
  it('ADAPTER_CONTROL_NOT_KEEP_OBJECT: AdapterControl returns DeallocateObject for system DMA', async () => {
    // The driver believes DeallocateObject gives the channel back for it, so it never calls FreeAdapterChannel.
    const broken = change(
      FLOPPY,
      ['DATA_LENGTH])) return KeepObject;', `DATA_LENGTH])) return DeallocateObject; ${MARK}`],
      ['  adapter.DmaOperations.FreeAdapterChannel(adapter);\n', ''],
    );
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'ADAPTER_CONTROL_NOT_KEEP_OBJECT');
  });

  it('MAP_TRANSFER_BEYOND_MAP_REGISTERS: one MapTransfer spans more pages than the map registers allocated', async () => {
    const broken = mark(
      change(FLOPPY, ['  ext.PieceMapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, length);', '  ext.PieceMapRegisters = 1; // "one map register per request"']),
      'adapter.DmaOperations.MapTransfer(',
    );
    const twoPages = scenario({ workload: [{ major: 'read', length: 8192, offset: 0 }] });
    await expectTeachingRule(broken, FLOPPY, twoPages, 'MAP_TRANSFER_BEYOND_MAP_REGISTERS');
  });

  it('FLUSH_COUNT_MISMATCH: a read is completed with fewer FlushAdapterBuffers than MapTransfers', async () => {
    // Only reads are flushed "because only reads come back through the map registers".
    const broken = mark(
      change(FLOPPY, ['  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,', '  if (ext.WriteToDevice) adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,']),
      'IoCompleteRequest(irp, IO_DISK_INCREMENT);',
    );
    // The channel freed while still mapped is Driver Verifier's 0xE6 first; the count is the lab's summary at completion.
    const stopped = await run(broken, ONE_SECTOR);
    const free = lineOf(broken, 'adapter.DmaOperations.FreeAdapterChannel(adapter);');
    expect(stopped.bugcheck).toMatchObject({ code: 0xe6, line: free });
    const r = await run(broken, teaching(ONE_SECTOR));
    expect(r.violations.map((v) => [v.rule, v.line])).toEqual([
      ['DMA_FREE_WHILE_MAPPED', free],
      ['FLUSH_COUNT_MISMATCH', lineOf(broken)],
    ]);
    expect(r.violations[1]!.message).toMatch(/^The request was mapped 1 time\(s\) but flushed 0 time\(s\)\. Call FlushAdapterBuffers once/);
    expectClean(await run(FLOPPY, ONE_SECTOR));
    expectClean(await run(FLOPPY, teaching(ONE_SECTOR)));
  });

  it('BUFFER_TOUCHED_WHILE_MAPPED: the driver clears the buffer, through its system address, between MapTransfer and FlushAdapterBuffers', async () => {
    const broken = change(FLOPPY, [
      '  if (length.value > 0 && length.value <= ext.PieceLength',
      `  if (!ext.WriteToDevice) RtlZeroMemory(MmGetSystemAddressForMdlSafe(Irp!.MdlAddress!, NormalPagePriority)! + ext.BytesTransferred, ext.PieceLength); ${MARK}
  if (length.value > 0 && length.value <= ext.PieceLength`,
    ]);
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'BUFFER_TOUCHED_WHILE_MAPPED');
  });

  it('KEFLUSHIOBUFFERS_MISSING: MapTransfer on a non-coherent machine without KeFlushIoBuffers first', async () => {
    const broken = mark(change(FLOPPY, ['  KeFlushIoBuffers(DeviceObject.CurrentIrp!.MdlAddress!, !ext.WriteToDevice, true);\n', '']), 'adapter.DmaOperations.MapTransfer(');
    const nonCoherent = scenario({ machine: { cache: 'non-coherent' }, workload: [{ major: 'read', length: 512, offset: 0 }] });
    await expectTeachingRule(broken, FLOPPY, nonCoherent, 'KEFLUSHIOBUFFERS_MISSING');
    // On a coherent machine KeFlushIoBuffers does nothing, and its absence is no finding.
    expectClean(await run(broken, ONE_SECTOR));
  });

  describe('DIRECT_8237_PROGRAMMING', () => {
    it('a packet-based driver sets the mode register of its own channel after MapTransfer', async () => {
      const broken = change(FLOPPY, [
        '  if (length.value > 0 && length.value <= ext.PieceLength',
        `  WRITE_PORT_UCHAR(0x0b, 0x46); ${MARK} single mode, I/O to memory, channel 2\n  if (length.value > 0 && length.value <= ext.PieceLength`,
      ]);
      await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'DIRECT_8237_PROGRAMMING');
    });

    it('a packet-based driver masks its own channel before FlushAdapterBuffers', async () => {
      const broken = change(FLOPPY, [
        '  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,',
        `  WRITE_PORT_UCHAR(0x0a, 0x04 | 2); ${MARK} mask channel 2\n  adapter.DmaOperations.FlushAdapterBuffers(adapter, irp.MdlAddress!,`,
      ]);
      await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'DIRECT_8237_PROGRAMMING');
    });

    it('is reported once per line, however many transfers run through it', async () => {
      const broken = change(FLOPPY, [
        '  if (length.value > 0 && length.value <= ext.PieceLength',
        `  WRITE_PORT_UCHAR(0x0b, 0x46); ${MARK} single mode, I/O to memory, channel 2\n  if (length.value > 0 && length.value <= ext.PieceLength`,
      ]);
      const three = scenario({ workload: [0, 1, 2].map((k) => ({ major: 'read' as const, length: 512, offset: k * 512 })) });
      expectOnly(await run(broken, three), 'DIRECT_8237_PROGRAMMING', lineOf(broken));
    });

    const scan = scenario({
      devices: [{ type: 'scanner', name: 'scn0', channel: 3 }],
      workload: [{ major: 'read', device: 'scn0', length: 8192, buffer: { placement: 'fragmented' } }],
      checks: [{ kind: 'data-integrity' }, { kind: 'no-violations' }],
    });

    it('the scatter/gather driver programs the channel its list\'s adapter holds, and is not flagged', async () => {
      const r = await run(SCANNER, scan);
      expectClean(r);
      expect(r.ok).toBe(true);
    });

    it('the scatter/gather driver is flagged when it masks the channel after giving the list back', async () => {
      const broken = mark(
        change(SCANNER, [
          '  MaskDmaChannel(ext);\n  const adapter = ext.DmaAdapter!;\n  adapter.DmaOperations.PutScatterGatherList(adapter, list, false);\n',
          '  const adapter = ext.DmaAdapter!;\n  adapter.DmaOperations.PutScatterGatherList(adapter, list, false);\n  MaskDmaChannel(ext);\n',
        ]),
        '  WRITE_PORT_UCHAR(ext.Dma!.Mask, DMA_MASK_SET | (ext.DmaChannel & 3));',
      );
      await expectTeachingRule(broken, SCANNER, scan, 'DIRECT_8237_PROGRAMMING');
    });
  });

  it('UNREACHABLE_WITHOUT_MAP_REGISTERS: MapTransfer with MapRegisterBase 0 for a buffer above 16 MiB', async () => {
    // "System DMA needs no map registers": the channel is allocated with none.
    const broken = mark(
      change(FLOPPY, ['  ext.PieceMapRegisters = ADDRESS_AND_SIZE_TO_SPAN_PAGES(ext.CurrentVa, length);', '  ext.PieceMapRegisters = 0;']),
      'adapter.DmaOperations.MapTransfer(',
    );
    const above = scenario({ workload: [{ major: 'read', length: 512, offset: 0, buffer: { placement: 'above-16m' } }] });
    const r = await expectTeachingRule(broken, FLOPPY, above, 'UNREACHABLE_WITHOUT_MAP_REGISTERS');
    // Nothing was mapped, so the driver fails the request (and still flushes and frees the channel).
    expect(r.irps.map((i) => i.status)).toEqual(['STATUS_DEVICE_NOT_READY']);
    // A buffer the controller reaches directly needs no map registers.
    expectClean(await run(broken, ONE_SECTOR));
  });

  it('CHANNEL_HELD_AFTER_ERROR: the failed IRP is completed without FreeAdapterChannel', async () => {
    // The channel is given back only after a piece that succeeded.
    const broken = mark(
      change(
        FLOPPY,
        ['  adapter.DmaOperations.FreeAdapterChannel(adapter);\n', ''],
        ['  ext.CurrentVa += ext.PieceLength;\n', '  adapter.DmaOperations.FreeAdapterChannel(adapter);\n  ext.CurrentVa += ext.PieceLength;\n'],
      ),
      'IoCompleteRequest(irp, IO_DISK_INCREMENT);',
    );
    const ioError = scenario({ workload: [{ major: 'read', length: 512, offset: 0 }], faults: [{ kind: 'io-error', atByte: 100 }] });
    const r = await run(broken, ioError);
    // The channel is still held at PutDmaAdapter, which Driver Verifier stops on.
    const put = lineOf(broken, 'ext.DmaAdapter.DmaOperations.PutDmaAdapter(ext.DmaAdapter);');
    expect(r.violations.map((v) => [v.rule, v.line])).toEqual([
      ['CHANNEL_HELD_AFTER_ERROR', lineOf(broken)],
      ['DMA_PUT_ADAPTER_WITH_CHANNEL', put],
    ]);
    expect(r.violations[0]!.message.endsWith(RULES.CHANNEL_HELD_AFTER_ERROR.advice)).toBe(true);
    expect(r.bugcheck).toMatchObject({ code: 0xe6, line: put });
    const fixed = await run(FLOPPY, ioError);
    expectClean(fixed);
    expect(fixed.irps.map((i) => i.status)).toEqual(['STATUS_CRC_ERROR']);
  });

  it('IRP_COMPLETED_WHILE_MAPPED: IoCompleteRequest before FlushAdapterBuffers', async () => {
    // The request is completed first, and the adapter tidied up after.
    const broken = change(PACKET, [
      `  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, MapRegisterBase, va, length.value, false);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
  irp.IoStatus.Status = STATUS_SUCCESS;
  irp.IoStatus.Information = length.value;
  IoCompleteRequest(irp, IO_NO_INCREMENT);
`,
      `  irp.IoStatus.Status = STATUS_SUCCESS;
  irp.IoStatus.Information = length.value;
  IoCompleteRequest(irp, IO_NO_INCREMENT); ${MARK}
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, MapRegisterBase, va, length.value, false);
  adapter.DmaOperations.FreeAdapterChannel(adapter);
`,
    ]);
    await expectTeachingRule(broken, PACKET, ONE_SECTOR, 'IRP_COMPLETED_WHILE_MAPPED');
  });

  it('MAP_WITHOUT_CHANNEL: MapTransfer straight from StartIo, without AllocateAdapterChannel', async () => {
    // "A contiguous buffer needs no map registers, so the channel need not be asked for."
    const broken = change(PACKET, [
      '  adapter.DmaOperations.AllocateAdapterChannel(adapter, DeviceObject, ADDRESS_AND_SIZE_TO_SPAN_PAGES(va, length.value), AdapterControl, null);\n',
      `  adapter.DmaOperations.MapTransfer(adapter, mdl, 0, va, length, false); ${MARK}
  adapter.DmaOperations.FlushAdapterBuffers(adapter, mdl, 0, va, length.value, false);
  Irp.IoStatus.Status = STATUS_SUCCESS;
  Irp.IoStatus.Information = length.value;
  IoCompleteRequest(Irp, IO_NO_INCREMENT);
  IoStartNextPacket(DeviceObject, false);
`,
    ]);
    await expectTeachingRule(broken, PACKET, ONE_SECTOR, 'MAP_WITHOUT_CHANNEL');
  });

  it('RESOURCES_LEAKED: the interrupt is never disconnected; the finding names the line that connected it', async () => {
    const broken = mark(change(FLOPPY, ['    IoDisconnectInterrupt(ext.Interrupt);\n', '']), 'const connected = IoConnectInterrupt(');
    const r = await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'RESOURCES_LEAKED');
    expect(r.violations[0]!.message).toMatch(/^The driver was removed and unloaded, but 1 interrupt\(s\) still connected\./);
  });

  it('BAD_DEVICE_DESCRIPTION: Master TRUE for a subordinate ISA device', async () => {
    const broken = mark(change(FLOPPY, ['    Master: false,', '    Master: true,']), 'const adapter = IoGetDmaAdapter(');
    const r = await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'BAD_DEVICE_DESCRIPTION');
    expect(r.violations[0]!.message).toMatch(/Master is TRUE/);
  });

  it('ADAPTER_WRONG_CHANNEL: DmaChannel hard-coded to 2 on a machine whose floppy controller uses channel 3', async () => {
    const broken = mark(change(FLOPPY, ['    DmaChannel: dma.u.Dma.Channel,', '    DmaChannel: 2, // the floppy\'s channel on every PC']), 'const adapter = IoGetDmaAdapter(');
    const channel3 = scenario({ devices: [{ type: 'floppy', name: 'fdc0', channel: 3 }], workload: [] });
    await expectTeachingRule(broken, FLOPPY, channel3, 'ADAPTER_WRONG_CHANNEL');
    expectClean(await run(FLOPPY, scenario({ devices: [{ type: 'floppy', name: 'fdc0', channel: 3 }], workload: [{ major: 'read', length: 512, offset: 0 }] })));
  });

  it('IRQL_NOT_RESTORED: DriverEntry returns at DISPATCH_LEVEL on one path (0xC8 in the bug-check mode)', async () => {
    const driver = (early: string) => `
let Starts = 0;
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  const old = ref(0);
  KeRaiseIrql(DISPATCH_LEVEL, old);
  Starts++;
  if (RegistryPath.length > 0) {
${early}
  }
  KeLowerIrql(old.value);
  return STATUS_INVALID_PARAMETER;
}
`;
    const broken = driver(`    return STATUS_SUCCESS; ${MARK}`);
    const fixed = driver('    KeLowerIrql(old.value);\n    return STATUS_SUCCESS;');
    await expectBugCheckRule(broken, fixed, scenario({}), 'IRQL_NOT_RESTORED', 0xc8, 'IRQL_UNEXPECTED_VALUE');
  });

  it('COMPLETE_WITH_PENDING: Irp->IoStatus.Status is still STATUS_PENDING at IoCompleteRequest', async () => {
    // The dispatch routine sets STATUS_PENDING; the completion forgets the final status.
    const broken = mark(
      change(FLOPPY, ['  IoMarkIrpPending(Irp);\n', '  Irp.IoStatus.Status = STATUS_PENDING;\n  IoMarkIrpPending(Irp);\n'], ['  irp.IoStatus.Status = status;\n', '']),
      'IoCompleteRequest(irp, IO_DISK_INCREMENT);',
    );
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'COMPLETE_WITH_PENDING');
  });

  it('PENDING_NOT_MARKED: the dispatch routine returns STATUS_PENDING without IoMarkIrpPending', async () => {
    const broken = mark(change(FLOPPY, ['  IoMarkIrpPending(Irp);\n', '']), 'return STATUS_PENDING;');
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'PENDING_NOT_MARKED');
  });

  it('INTERRUPT_MODE: the ISA interrupt connected LevelSensitive', async () => {
    const broken = mark(change(FLOPPY, ['level, level, Latched, false', 'level, level, LevelSensitive, false']), 'const connected = IoConnectInterrupt(');
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'INTERRUPT_MODE');
  });

  it('STALL_TOO_LONG: a 1 ms KeStallExecutionProcessor after the controller\'s reset', async () => {
    const broken = change(FLOPPY, ['  WRITE_PORT_UCHAR(ext.PortBase + FDC_CCR, CCR_500K);', `  KeStallExecutionProcessor(1000); ${MARK} let the controller settle\n  WRITE_PORT_UCHAR(ext.PortBase + FDC_CCR, CCR_500K);`]);
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'STALL_TOO_LONG');
  });

  it('IRP_NOT_PASSED_DOWN_PROPERLY: IRP_MN_REMOVE_DEVICE sent to the bus driver without IoSkipCurrentIrpStackLocation', async () => {
    const broken = mark(change(FLOPPY, ['      IoSkipCurrentIrpStackLocation(Irp);\n      const lower', '      const lower']), 'status = IoCallDriver(lower, Irp);');
    await expectTeachingRule(broken, FLOPPY, ONE_SECTOR, 'IRP_NOT_PASSED_DOWN_PROPERLY');
  });

  it('MDL_ALREADY_FREED: KeFlushIoBuffers with an MDL after IoFreeMdl (0xC4 in the bug-check mode)', async () => {
    const driver = (use: string) =>
      pnpDriver(`
    const buffer = ExAllocatePool2(POOL_FLAG_NON_PAGED, 512, 'lbaT')!;
    const mdl = IoAllocateMdl(buffer, 512, false, false, null)!;
    MmBuildMdlForNonPagedPool(mdl);
${use}
    ExFreePool(buffer);`);
    const broken = driver(`    IoFreeMdl(mdl);\n    KeFlushIoBuffers(mdl, true, true); ${MARK}`);
    const fixed = driver('    KeFlushIoBuffers(mdl, true, true);\n    IoFreeMdl(mdl);');
    await expectBugCheckRule(broken, fixed, scenario({}), 'MDL_ALREADY_FREED', 0xc4, 'DRIVER_VERIFIER_DETECTED_VIOLATION');
  });

  it('IRQL_MISMATCH: IoConnectInterrupt at DISPATCH_LEVEL (0x0A in the bug-check mode)', async () => {
    const driver = (connect: string) =>
      pnpDriver(`
    const irq = res.find((d) => d.Type === CmResourceTypeInterrupt)!;
    const interrupt = ref<KINTERRUPT | null>(null);
    const old = ref(0);
    KeRaiseIrql(DISPATCH_LEVEL, old);
${connect}
    ext.Interrupt = interrupt.value;`);
    const connect = 'IoConnectInterrupt(interrupt, Isr, DeviceObject, null, irq.u.Interrupt.Vector, irq.u.Interrupt.Level, irq.u.Interrupt.Level, Latched, false, 1, false);';
    const broken = driver(`    ${connect} ${MARK}\n    KeLowerIrql(old.value);`);
    const fixed = driver(`    KeLowerIrql(old.value);\n    ${connect}`);
    await expectBugCheckRule(broken, fixed, scenario({}), 'IRQL_MISMATCH', 0x0a, 'IRQL_NOT_LESS_OR_EQUAL');
  });
});

describe('bug checks outside the verifier\'s rules', () => {
  it('0x44 MULTIPLE_IRP_COMPLETE_REQUESTS: START completes its IRP and falls through to the common completion', async () => {
    const broken = mark(pnpDriver('irp.IoStatus.Status = STATUS_SUCCESS;\n    IoCompleteRequest(irp, IO_NO_INCREMENT);'), '// the PnP IRP is done');
    const r = await run(broken, scenario({}));
    expect(r.bugcheck).toMatchObject({ code: 0x44, name: 'MULTIPLE_IRP_COMPLETE_REQUESTS', line: lineOf(broken) });
    expectClean(await run(pnpDriver('// nothing to start'), scenario({})));
  });

  it('0x133 DPC_WATCHDOG_VIOLATION: a loop whose byte counter wraps before its bound, stopped at the same line every run', async () => {
    const driver = (mask: string) => `
const Table: number[] = [];
export function DriverEntry(DriverObject: DRIVER_OBJECT, RegistryPath: string): NTSTATUS {
  for (let n = 0; n < 256; n = (n + 1) & ${mask}) Table[n & 0xff] = n ^ (n >>> 1); ${MARK}
  return STATUS_SUCCESS;
}
`;
    const broken = driver('0xff');
    const s = scenario({});
    const once = async () => {
      const session = await runScenario({ scenario: s, source: broken, file: 'driver.ts', seed: 1 });
      session.sandbox.dispose();
      return session.result;
    };
    const a = await once();
    const b = await once();
    expect(a.bugcheck).toMatchObject({ code: 0x133, name: 'DPC_WATCHDOG_VIOLATION', line: lineOf(broken) });
    expect(b.bugcheck).toEqual(a.bugcheck);
    expectClean(await run(driver('0x1ff'), s));
  });
});
