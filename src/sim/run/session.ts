import type { CheckResult, RunResult } from '../../shared/runResult';
import { deviceName, deviceResources, type Scenario } from '../../shared/scenario';
import { Fdc82077 } from '../hw/fdc82077';
import { SoundBlaster16 } from '../hw/sb16';
import { Scanner, scanByte } from '../hw/scanner';
import { Machine } from '../machine/machine';
import { BugCheck, type BugCheckReport, isBugCheck } from '../kernel/bugCheck';
import { Entry, ENTRY_NAMES } from '../kernel/driverCode';
import { Hal } from '../kernel/hal';
import { type DeviceRecord, IoManager, type IrpRecord } from '../kernel/ioManager';
import { Kernel } from '../kernel/kernel';
import { NT_SUCCESS, ntStatusName, WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import { apiNames, createHostApi, type HostApi } from '../driver/hostApi';
import { DEFAULT_LIMITS, type DriverFiles, Sandbox, type SandboxLimits } from '../driver/sandbox';
import type { TraceContext } from '../trace/export';
import type { TraceSink } from '../trace/sink';
import { captureSignal, READ_POISON, type WorkItem, workItems } from './workload';

// One run: the scenario's machine, the kernel, the driver in its sandbox; then what the PnP
// manager and the callers do (DriverEntry, AddDevice, IRP_MN_START_DEVICE for each device,
// the workload's IRPs, IRP_MN_REMOVE_DEVICE, Unload), then the scenario's checks. A bug
// check ends the run where it happens; the result says what ran until then.

export interface RunOptions {
  scenario: Scenario;
  /** The driver's TypeScript and its file name (for messages). */
  source: string;
  file: string;
  seed: number;
  /** Floppy images by device name. */
  images?: ReadonlyMap<string, Uint8Array>;
  /** Modules the driver may import. */
  files?: DriverFiles;
  limits?: SandboxLimits;
  trace?: TraceSink;
}

/** Everything a run built, for tests and panels that look deeper than the result. */
export interface Session {
  machine: Machine;
  kernel: Kernel;
  io: IoManager;
  hal: Hal;
  api: HostApi;
  sandbox: Sandbox;
  irps: IrpRecord[];
  result: RunResult;
  /** The names a trace exporter needs for this run's events. */
  traceContext: TraceContext;
}

interface Stack {
  name: string;
  pdo: DeviceRecord;
  started: boolean;
}

/** Simulated time allowed for a PnP IRP the driver pends. */
const PNP_TIMEOUT_NS = 1_000_000_000;

export async function runScenario(options: RunOptions): Promise<Session> {
  const { scenario, seed } = options;
  const images = new Map(options.images ?? []);
  const machine = Machine.fromScenario(scenario, seed, options.trace, images);
  const kernel = new Kernel(machine);
  kernel.verifierMode = scenario.verifier;
  const io = new IoManager(kernel);
  const hal = new Hal(kernel, scenario.machine.mapRegisters);
  const api = createHostApi(kernel, io, hal);
  const sandbox = await Sandbox.create(options.limits ?? DEFAULT_LIMITS);
  const items = workItems(scenario, seed);
  const originalImages = new Map([...machine.devices].filter(([, d]) => d instanceof Fdc82077).map(([n, d]) => [n, (d as Fdc82077).image.slice()]));
  const signal = captureSignal(items, seed);
  for (const d of machine.devices.values()) if (d instanceof SoundBlaster16) d.setInput(signal);

  const irps: IrpRecord[] = [];
  /** The work item of each IRP in `irps`: an item that was never issued (no buffer, device not started) has none. */
  const issued: WorkItem[] = [];
  const stacks: Stack[] = scenario.devices.map((d, i) => {
    const r = deviceResources(d);
    return { name: deviceName(d, i), pdo: io.createPdo(deviceName(d, i), { ports: r.ports, irq: r.irq, channels: r.channels }), started: false };
  });
  const deadline = scenario.timeLimitMs * 1_000_000;
  const problems: string[] = [];
  let bugcheck: BugCheckReport | null = null;

  /** Runs the machine until `done()` or the deadline; false on timeout. */
  const runUntil = (done: () => boolean, limit: number): boolean => {
    const s = machine.scheduler;
    while (!done()) {
      if (s.now >= limit) return false;
      const next = s.peekTime();
      if (next === null || next > limit) {
        s.runUntil(limit);
        return done();
      }
      s.runUntil(Math.min(limit, next));
    }
    return true;
  };

  try {
    sandbox.load(api, options.source, options.file, seed, options.files);
    kernel.driver = sandbox;
    const entry = kernel.call(Entry.DriverEntry, W.PASSIVE_LEVEL);
    if (!NT_SUCCESS(entry)) problems.push(`DriverEntry returned ${ntStatusName(entry)}`);
    else {
      for (const stack of stacks) {
        const added = kernel.call(Entry.AddDevice, W.PASSIVE_LEVEL, stack.pdo.id);
        if (!NT_SUCCESS(added)) problems.push(`AddDevice for ${stack.name} returned ${ntStatusName(added)}`);
      }
      for (const stack of stacks) {
        const top = io.topOf(stack.pdo);
        if (top === stack.pdo) {
          problems.push(`AddDevice did not attach a device object over ${stack.name}'s PDO`);
          continue;
        }
        const start = io.newStartIrp(stack.pdo);
        io.dispatch(top, start);
        runUntil(() => start.completed, machine.scheduler.now + PNP_TIMEOUT_NS);
        if (!start.completed) problems.push(`IRP_MN_START_DEVICE for ${stack.name} was never completed`);
        else if (!NT_SUCCESS(start.status)) problems.push(`IRP_MN_START_DEVICE for ${stack.name} completed with ${ntStatusName(start.status)}`);
        else stack.started = true;
      }
      // The callers: every IRP of the workload at once, as concurrent requests would arrive.
      for (const item of items) {
        const stack = stacks.find((s) => s.name === item.device);
        if (!stack?.started) continue;
        const { placement, byteOffset } = item.spec.buffer;
        const buffer = io.callerBuffer(item.spec.length, { kind: placement, byteOffset });
        if (buffer === 0) {
          problems.push(`no memory for a ${item.spec.length}-byte ${placement} buffer`);
          continue;
        }
        if (item.data) machine.cpu.writeBytes(buffer, item.data);
        else machine.cpu.fill(buffer, item.spec.length, READ_POISON);
        machine.cpu.flushAll();
        const top = io.topOf(stack.pdo);
        const irp = io.newTransferIrp(top, item.spec.major === 'read' ? W.IRP_MJ_READ : W.IRP_MJ_WRITE, buffer, item.spec.length, item.spec.offset);
        irps.push(irp);
        issued.push(item);
        const status = io.dispatch(top, irp);
        if (status === W.STATUS_PENDING && !irp.pendingMarked && !irp.completed) {
          kernel.report('PENDING_NOT_MARKED', 'The dispatch routine returned STATUS_PENDING for an IRP it never marked pending.');
        }
      }
      const allDone = () => irps.every((i) => i.completed);
      if (!runUntil(allDone, deadline)) {
        problems.push(`${irps.filter((i) => !i.completed).length} of ${irps.length} IRPs were not completed within ${scenario.timeLimitMs} ms of simulated time`);
      }
      // Remove every started device, then unload.
      for (const stack of stacks) {
        if (!stack.started) continue;
        const top = io.topOf(stack.pdo);
        if (top === stack.pdo) continue;
        const remove = io.newIrp({ major: W.IRP_MJ_PNP, minor: W.IRP_MN_REMOVE_DEVICE, deviceName: stack.name });
        io.dispatch(top, remove);
        runUntil(() => remove.completed, machine.scheduler.now + PNP_TIMEOUT_NS);
        if (!remove.completed) problems.push(`IRP_MN_REMOVE_DEVICE for ${stack.name} was never completed`);
      }
      kernel.call(Entry.Unload, W.PASSIVE_LEVEL);
      // The finding names the line that took the first thing left over (IoGetDmaAdapter for what an adapter holds).
      const leaked = leftovers(kernel, io, hal);
      if (leaked.length > 0) kernel.report('RESOURCES_LEAKED', `The driver was removed and unloaded, but ${leaked.map((l) => l.what).join('; ')}.`, undefined, 0, 0, leaked[0]!.line);
    }
  } catch (error) {
    if (isBugCheck(error)) bugcheck = error.report;
    else if (error instanceof BugCheck) bugcheck = (error as BugCheck).report;
    else throw error;
  }

  const checks = runChecks(scenario, { machine, kernel, io, hal, items, irps, issued, signal, originalImages, problems, bugcheck });
  const result: RunResult = {
    ok: bugcheck === null && problems.length === 0 && checks.every((c) => c.ok),
    checks: [
      ...(problems.length > 0 ? [{ id: 'run', ok: false, message: problems.join('; ') }] : []),
      ...checks,
    ],
    violations: kernel.findings.map((f) => ({ rule: f.rule, message: f.message, line: f.line })),
    bugcheck: bugcheck && { ...bugcheck, parameters: [...bugcheck.parameters] },
    irps: irps.map((irp, i) => ({
      major: issued[i]?.spec.major ?? 'read',
      device: irp.deviceName,
      length: irp.length,
      status: irp.completed ? ntStatusName(irp.status) : null,
      information: irp.information,
    })),
    console: kernel.console,
    stats: {
      simulatedNs: machine.scheduler.now,
      dmaBytes: machine.dma.bytesMoved,
      interrupts: kernel.stats.interrupts,
      dpcs: kernel.stats.dpcs,
      mapTransfers: kernel.stats.mapTransfers,
      apiCalls: kernel.stats.apiCalls,
    },
  };
  const traceContext: TraceContext = { apiNames: apiNames(api), entryNames: ENTRY_NAMES, console: kernel.console, findings: kernel.findings, endTime: machine.scheduler.now };
  return { machine, kernel, io, hal, api, sandbox, irps, result, traceContext };
}

/** What the driver took and never gave back (adapters and what they hold, interrupts, pool), with the line that took it. */
function leftovers(kernel: Kernel, io: IoManager, hal: Hal): { what: string; line: number | null; fix?: string }[] {
  const leaked: { what: string; line: number | null; fix?: string }[] = [...hal.adapters.values()].flatMap((a) => hal.held(a).map((what) => ({ what, line: a.line })));
  const interrupts = kernel.connectedInterrupts();
  if (interrupts.length > 0) leaked.push({ what: `${interrupts.length} interrupt(s) still connected`, line: interrupts[0]!.line, fix: 'IoDisconnectInterrupt' });
  if (io.poolAllocations() > 0) leaked.push({ what: `${io.poolAllocations()} pool allocation(s) not freed`, line: io.poolLeakLine() });
  return leaked;
}

interface CheckContext {
  machine: Machine;
  kernel: Kernel;
  io: IoManager;
  hal: Hal;
  items: WorkItem[];
  irps: IrpRecord[];
  issued: WorkItem[];
  signal: Uint8Array;
  originalImages: Map<string, Uint8Array>;
  problems: string[];
  bugcheck: BugCheckReport | null;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function dataIntegrity(c: CheckContext): string[] {
  const out: string[] = [];
  let captured = 0;
  const played: Uint8Array[] = [];
  c.items.forEach((item, i) => {
    const irp = c.irps[c.issued.indexOf(item)];
    if (!irp) return out.push(`IRP ${i + 1} was never issued`);
    const device = c.machine.devices.get(item.device);
    const label = `IRP ${i + 1} (${item.spec.major} ${item.spec.length} bytes at ${item.spec.offset})`;
    const buffer = c.machine.cpu.readBytes(irp.userBuffer, irp.length) ?? new Uint8Array(0);
    let expected: Uint8Array;
    let actual: Uint8Array;
    if (item.spec.major === 'read') {
      actual = buffer;
      if (device instanceof Fdc82077) expected = c.originalImages.get(item.device)!.subarray(item.spec.offset, item.spec.offset + item.spec.length);
      else if (device instanceof Scanner) expected = Uint8Array.from({ length: item.spec.length }, (_, k) => scanByte(device.config, k));
      else {
        expected = c.signal.subarray(captured, captured + item.spec.length);
        captured += item.spec.length;
      }
    } else {
      expected = item.data!;
      if (device instanceof Fdc82077) actual = device.image.subarray(item.spec.offset, item.spec.offset + item.spec.length);
      else {
        played.push(item.data!);
        return;
      }
    }
    const at = firstDifference(expected, actual);
    if (at < 0) return;
    if (device instanceof Fdc82077) out.push(`${label}: ${sectorMismatch(item.spec.major, item.spec.offset, at, actual, item.spec.major === 'read' ? expected : actual, c.originalImages.get(item.device)!)}`);
    else out.push(`${label}: byte ${at} is 0x${(actual[at] ?? 0).toString(16).padStart(2, '0')}, expected 0x${(expected[at] ?? 0).toString(16).padStart(2, '0')}`);
  });
  if (played.length > 0) {
    const sound = [...c.machine.devices.values()].find((d) => d instanceof SoundBlaster16) as SoundBlaster16 | undefined;
    const output = sound?.outputPcm() ?? new Uint8Array(0);
    const stream = new Uint8Array(played.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of played) stream.set(p, (o += p.length) - p.length);
    const start = indexOf(output, stream.subarray(0, Math.min(64, stream.length)));
    if (start < 0) out.push('the sound device never played the start of the written audio');
    else {
      const at = firstDifference(stream, output.subarray(start, start + stream.length));
      if (at >= 0) out.push(`the audio played differs from what was written at byte ${at} of ${stream.length}`);
    }
  }
  return out;
}

/**
 * Says in sectors what went wrong with a floppy transfer: which sector of the request holds
 * what (another disk sector's bytes, the buffer's untouched poison, or bytes from nowhere).
 * `actual` is what arrived (the buffer for a read, the disk's range for a write).
 */
function sectorMismatch(major: 'read' | 'write', offset: number, at: number, actual: Uint8Array, expected: Uint8Array, disk: Uint8Array): string {
  const k = Math.floor(at / 512);
  const got = actual.subarray(k * 512, k * 512 + 512);
  const want = expected.subarray(k * 512, k * 512 + 512);
  const target = Math.floor(offset / 512) + k;
  const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;
  const where = `sector ${k} of the request (disk sector ${target}, bytes ${hex(k * 512)}–${hex(k * 512 + 511)})`;
  if (major === 'read' && got.every((b) => b === READ_POISON)) return `${where} never arrived: the buffer still holds the ${hex(READ_POISON)} it was filled with`;
  const original = disk.subarray(target * 512, target * 512 + 512);
  if (major === 'write' && firstDifference(got, original) < 0) return `${where} was never written: the disk still holds what it held before`;
  const lba = (got[0] ?? 0) | ((got[1] ?? 0) << 8);
  if (lba !== target && lba < disk.length / 512 && firstDifference(got, disk.subarray(lba * 512, lba * 512 + 512)) < 0) {
    return `${where} holds the bytes of disk sector ${lba}`;
  }
  return `${where} differs from byte ${hex(k * 512 + Math.max(0, firstDifference(got, want)))} of the request on`;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function runChecks(scenario: Scenario, c: CheckContext): CheckResult[] {
  const seen = new Map<string, number>();
  return scenario.checks.map((check) => {
    const n = (seen.get(check.kind) ?? 0) + 1;
    seen.set(check.kind, n);
    const id = n === 1 ? check.kind : `${check.kind}#${n}`;
    const result = (failures: string[], success: string): CheckResult => ({ id, ok: failures.length === 0 && c.bugcheck === null, message: failures.length === 0 ? (c.bugcheck ? `the run stopped with bug check ${c.bugcheck.name}` : success) : failures.join('; ') });
    switch (check.kind) {
      case 'data-integrity':
        return result(dataIntegrity(c), `all ${c.items.length} transfers moved the right bytes`);
      case 'irp-status': {
        const want = (W as Record<string, unknown>)[check.status];
        const failures = c.irps.flatMap((irp, i) => {
          if (!irp.completed) return [`IRP ${i + 1} was not completed`];
          if (irp.status !== want) return [`IRP ${i + 1} completed with ${ntStatusName(irp.status)}, expected ${check.status}`];
          if (NT_SUCCESS(irp.status) && irp.information !== irp.length) return [`IRP ${i + 1}: Information is ${irp.information}, expected ${irp.length} (the bytes transferred)`];
          return [];
        });
        if (c.irps.length < c.items.length) failures.push(`${c.items.length - c.irps.length} IRPs were never issued`);
        return result(failures, `all ${c.irps.length} IRPs completed with ${check.status}`);
      }
      case 'no-violations':
        return result(
          c.kernel.findings.map((f) => `${f.rule}${f.line ? ` (line ${f.line})` : ''}: ${f.message}`),
          'no verifier findings',
        );
      case 'resources-released': {
        const failures = leftovers(c.kernel, c.io, c.hal).map((l) => (l.fix ? `${l.what} (${l.fix})` : l.what));
        if (c.kernel.timersSet() > 0) failures.push(`${c.kernel.timersSet()} timer(s) still set`);
        const devices = [...c.io.devices.values()].filter((d) => !d.isPdo && !d.deleted).length;
        if (devices > 0) failures.push(`${devices} device object(s) not deleted (IoDeleteDevice)`);
        return result(failures, 'everything the driver took was given back');
      }
      case 'adapter-description': {
        const failures = scenario.devices.flatMap((d, i) => {
          const name = deviceName(d, i);
          const pdo = [...c.io.devices.values()].find((r) => r.isPdo && r.deviceName === name);
          const adapters = [...c.hal.adapters.values()].filter((a) => a.pdoId === pdo?.id);
          if (adapters.length === 0) return [`IoGetDmaAdapter never returned an adapter for ${name}`];
          const channels = deviceResources(d).channels;
          return adapters.filter((a) => !channels.includes(a.channel)).map((a) => `${name}'s adapter is for channel ${a.channel}, but the device uses ${channels.join(' and ')}`);
        });
        const refused = c.kernel.findings.filter((f) => f.rule === 'BAD_DEVICE_DESCRIPTION').map((f) => f.message);
        return result([...refused, ...failures], 'each device got an adapter object for its own channel');
      }
      case 'no-underrun': {
        const failures = [...c.machine.devices.entries()].flatMap(([name, d]) => {
          if (!(d instanceof SoundBlaster16)) return [];
          const s = d.snapshot();
          return s.underruns > 0 || s.overruns > 0 ? [`${name}: ${s.underruns} underrun(s), ${s.overruns} overrun(s)`] : [];
        });
        return result(failures, 'the sound never ran dry');
      }
    }
  });
}
