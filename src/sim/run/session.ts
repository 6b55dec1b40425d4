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
import { type DebuggerOptions, type DebugHost, RunDebugger } from './debugger';
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
  /** A sandbox made ahead of time (a warm worker's); one is made here otherwise. */
  sandbox?: Sandbox;
  trace?: TraceSink;
  /**
   * The machine built ahead of time for this scenario, seed and images, with this trace
   * (prepareRun; a warm worker's, for the lab the person has open); built here otherwise.
   */
  prepared?: PreparedRun;
  /**
   * Run under a debugger: the driver is built with a step call at every line, and `host`
   * is made from the run's parts, so that it can show them while the run is stopped.
   */
  debug?: { host: (parts: SessionParts) => DebugHost; options?: DebuggerOptions };
}

/** What a run is made of, for a debugger to look at while it is stopped. */
export interface SessionParts {
  machine: Machine;
  kernel: Kernel;
  io: IoManager;
  hal: Hal;
  api: HostApi;
  irps: readonly IrpRecord[];
  /** Set once the debugger is made (before anything runs). */
  debugger: RunDebugger | null;
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
  /** The debugger, when the run had one. */
  debugger: RunDebugger | null;
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

/** What a run starts from: its machine, kernel and workload, built and not yet started. */
export interface PreparedRun {
  machine: Machine;
  kernel: Kernel;
  io: IoManager;
  hal: Hal;
  api: HostApi;
  items: WorkItem[];
  /** Each floppy's image as the run found it, for the checks. */
  originalImages: Map<string, Uint8Array>;
  /** What the sound devices hear. */
  signal: Uint8Array;
  stacks: Stack[];
}

/**
 * Builds what a run of the scenario starts from. runScenario does so itself unless it is
 * handed one built ahead (a warm worker builds the open lab's while it waits): the run is
 * the same either way, since nothing here depends on when it is built.
 */
export function prepareRun({ scenario, seed, images, trace }: Pick<RunOptions, 'scenario' | 'seed' | 'images' | 'trace'>): PreparedRun {
  const machine = Machine.fromScenario(scenario, seed, trace, new Map(images ?? []));
  const kernel = new Kernel(machine);
  kernel.verifierMode = scenario.verifier;
  const io = new IoManager(kernel);
  const hal = new Hal(kernel, scenario.machine.mapRegisters);
  const api = createHostApi(kernel, io, hal);
  const items = workItems(scenario, seed);
  const originalImages = new Map([...machine.devices].filter(([, d]) => d instanceof Fdc82077).map(([n, d]) => [n, (d as Fdc82077).image.slice()]));
  const signal = captureSignal(items, seed);
  for (const d of machine.devices.values()) if (d instanceof SoundBlaster16) d.setInput(signal);
  const stacks: Stack[] = scenario.devices.map((d, i) => {
    const r = deviceResources(d);
    return { name: deviceName(d, i), pdo: io.createPdo(deviceName(d, i), { ports: r.ports, irq: r.irq, channels: r.channels }), started: false };
  });
  return { machine, kernel, io, hal, api, items, originalImages, signal, stacks };
}

export async function runScenario(options: RunOptions): Promise<Session> {
  const { scenario, seed } = options;
  const { machine, kernel, io, hal, api, items, originalImages, signal, stacks } = options.prepared ?? prepareRun(options);
  const sandbox = options.sandbox ?? (await Sandbox.create(options.limits ?? DEFAULT_LIMITS));

  const irps: IrpRecord[] = [];
  /** Each read's buffer as IoCompleteRequest left it. */
  const completedBuffers = new Map<IrpRecord, Uint8Array>();
  /** The work item of each IRP in `irps`: an item that was never issued (no buffer, device not started) has none. */
  const issued: WorkItem[] = [];
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

  let debug: RunDebugger | null = null;
  if (options.debug) {
    const parts: SessionParts = { machine, kernel, io, hal, api, irps, debugger: null };
    const d = new RunDebugger(options.debug.host(parts), () => machine.scheduler.now, options.debug.options);
    parts.debugger = d;
    sandbox.stepHook = (line) => d.onStatement(line);
    machine.scheduler.afterEvent = () => d.onEvent();
    kernel.onInterrupt = (irq) => d.onInterrupt(irq);
    debug = d;
  }

  try {
    sandbox.load(api, options.source, options.file, seed, options.files, debug !== null);
    kernel.driver = sandbox;
    debug?.start();
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
        // What the caller finds in its buffer is what it holds at completion, not later.
        if (item.spec.major === 'read') {
          irp.onComplete = (done) => {
            hal.copying++; // the caller looking, not the driver: no finding for touching a mapped buffer
            completedBuffers.set(done, machine.cpu.readBytes(done.userBuffer, done.length) ?? new Uint8Array(0));
            hal.copying--;
          };
        }
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

  const checks = runChecks(scenario, { machine, kernel, io, hal, items, irps, issued, completedBuffers, signal, originalImages, problems, bugcheck });
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
  return { machine, kernel, io, hal, api, sandbox, irps, result, debugger: debug, traceContext };
}

/** What the driver took and never gave back (adapters and what they hold, interrupts, pool), with the line that took it. */
function leftovers(kernel: Kernel, io: IoManager, hal: Hal): { what: string; line: number | null; fix?: string }[] {
  const leaked: { what: string; line: number | null; fix?: string }[] = [...hal.adapters.values()].flatMap((a) => hal.held(a).map((what) => ({ what, line: a.line })));
  const interrupts = kernel.connectedInterrupts();
  if (interrupts.length > 0) leaked.push({ what: `${interrupts.length} interrupt(s) still connected`, line: interrupts[0]!.line, fix: 'IoDisconnectInterrupt' });
  if (io.poolAllocations() > 0) leaked.push({ what: `${io.poolAllocations()} pool allocation(s) not freed`, line: io.poolLeakLine() });
  // Windows stops with 0xC7 (TIMER_OR_DPC_INVALID) when memory holding a set timer is freed, as an unloaded driver's is.
  const timers = kernel.timersSet();
  if (timers.length > 0) leaked.push({ what: `${timers.length} timer(s) still set`, line: timers[0]!.line, fix: 'KeCancelTimer' });
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
  completedBuffers: Map<IrpRecord, Uint8Array>;
  signal: Uint8Array;
  originalImages: Map<string, Uint8Array>;
  problems: string[];
  bugcheck: BugCheckReport | null;
}

const hex = (n: number) => `0x${n.toString(16).toUpperCase()}`;

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
    if (item.spec.expect !== undefined && item.spec.expect !== 'STATUS_SUCCESS') return; // expected to fail: no data to check
    const device = c.machine.devices.get(item.device);
    const label = `IRP ${i + 1} (${item.spec.major} ${item.spec.length} bytes at ${item.spec.offset})`;
    const buffer = c.completedBuffers.get(irp) ?? c.machine.cpu.readBytes(irp.userBuffer, irp.length) ?? new Uint8Array(0);
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
    if (device instanceof Fdc82077) out.push(`${label}: ${sectorMismatch(item.spec.major, item.spec.offset, at, actual, item.spec.major === 'read' ? expected : actual, c.originalImages.get(item.device)!)}${misdirected(c, irp, at, item.spec.major, item.spec.major === 'read' ? expected : actual)}`);
    else if (device instanceof Scanner) out.push(`${label}: ${scanMismatch(at, actual, expected, device.config.lineBytes)}${misdirected(c, irp, at, item.spec.major, expected)}`);
    else if (device instanceof SoundBlaster16) out.push(`${label}: ${audioMismatch(at, actual, expected, audioFormat(device), 'captured audio', 'input signal')}${misdirected(c, irp, at, item.spec.major, expected)}`);
    else out.push(`${label}: byte ${at} is 0x${(actual[at] ?? 0).toString(16).padStart(2, '0')}, expected 0x${(expected[at] ?? 0).toString(16).padStart(2, '0')}${misdirected(c, irp, at, item.spec.major, item.spec.major === 'read' ? expected : actual)}`);
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
      if (at >= 0) out.push(`the audio played ${audioMismatch(at, output.subarray(start, start + stream.length), stream, audioFormat(sound!), 'audio played', 'audio written').replace(/^the audio played /, '')}`);
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
  const where = `sector ${k} of the request (disk sector ${target}, bytes ${hex(k * 512)}–${hex(k * 512 + 511)})`;
  /** Whether sector `s` of the request never arrived: a read's buffer still poisoned, a write's disk sector as it was. */
  const untouched = (s: number) => {
    const bytes = actual.subarray(s * 512, s * 512 + 512);
    if (major === 'read') return bytes.every((b) => b === READ_POISON);
    const lba = target - k + s;
    return firstDifference(bytes, disk.subarray(lba * 512, lba * 512 + 512)) < 0;
  };
  // The sectors after k that did not arrive either, as when a transfer stopped short.
  const sectors = Math.ceil(actual.length / 512);
  let last = k;
  while (last + 1 < sectors && untouched(last + 1)) last++;
  const more = last === k + 1 ? `sector ${last}` : `sectors ${k + 1}–${last}`;
  const rest = last === k ? '' : last + 1 === sectors ? `, and so does the rest of the request (${more})` : `, and so ${last === k + 1 ? 'does' : 'do'} ${more} after it`;
  if (major === 'read' && untouched(k)) return `${where} never arrived: the buffer still holds the ${hex(READ_POISON)} it was filled with${rest}`;
  if (major === 'read' && actual.subarray(at, k * 512 + 512).every((b) => b === READ_POISON)) {
    // The sector's first bytes arrived and its last ones did not, as when they stayed in the DMA controller.
    return `the last ${k * 512 + 512 - at} bytes of ${where} never arrived: bytes ${hex(at)}–${hex(k * 512 + 511)} still hold the ${hex(READ_POISON)} the buffer was filled with${rest}`;
  }
  if (major === 'write' && untouched(k)) return `${where} was never written: the disk still holds what it held before${rest}`;
  const lba = (got[0] ?? 0) | ((got[1] ?? 0) << 8);
  if (lba !== target && lba < disk.length / 512 && firstDifference(got, disk.subarray(lba * 512, lba * 512 + 512)) < 0) {
    return `${where} holds the bytes of disk sector ${lba}`;
  }
  return `${where} holds other bytes than it should, from byte ${hex(k * 512 + Math.max(0, firstDifference(got, want)))} of the request on`;
}

/**
 * Where a transfer's bytes really went when the DMA controller was given the buffer's own
 * physical address and could not use it (reference/hw/i8237a.md §18): the 8237's address
 * counter wraps inside its 64 KiB page without carrying into the page register, and the ISA
 * bus has address lines A0–A23 only. Looks for the bytes the request should have moved
 * (`wanted`, from byte `at` on: the device's for a read, what reached the device for a
 * write) at the address the controller used; answers a clause to add to the mismatch, or
 * '' when they are not there and the mismatch has another cause.
 */
function misdirected(c: CheckContext, irp: IrpRecord, at: number, major: 'read' | 'write', wanted: Uint8Array): string {
  const space = c.machine.space;
  const first = space.translate(irp.userBuffer);
  const pa = space.translate(irp.userBuffer + at);
  // Only a buffer that is one physical run up to `at`: that is what a single programming reaches.
  if (first === null || pa === null || pa - first !== at) return '';
  const PAGE_64K = 0x1_0000;
  const ISA_LIMIT = 0x100_0000;
  const wrapped = Math.floor(first / PAGE_64K) !== Math.floor(pa / PAGE_64K);
  const above = pa >= ISA_LIMIT;
  if (!wrapped && !above) return '';
  const alias = (p: number) => (Math.floor(first / PAGE_64K) * PAGE_64K + (p % PAGE_64K)) % ISA_LIMIT;
  const n = Math.min(64, wanted.length - at);
  if (n <= 0 || firstDifference(wanted.subarray(at, at + n), c.machine.memory.read(alias(pa), n)) >= 0) return '';
  const target = alias(pa);
  const owner = c.irps.findIndex((other) => {
    let hit = false;
    if (other !== irp) space.forEachRun(other.userBuffer, other.length, (p, len) => (hit ||= target >= p && target < p + len));
    return hit;
  });
  const whose = owner >= 0 ? `, inside IRP ${owner + 1}'s buffer` : ', memory that is not the buffer';
  const verb = major === 'read' ? 'wrote' : 'fetched';
  const reasons: string[] = [];
  if (above) reasons.push(`the buffer lies at physical ${hex(first)}, above 16 MiB, and the ISA bus has address lines A0–A23 only`);
  if (wrapped) {
    const boundary = (Math.floor(first / PAGE_64K) + 1) * PAGE_64K;
    reasons.push(`the buffer crosses a 64 KiB boundary at byte ${hex(boundary - first)} of the request (physical ${hex(boundary)}), where the 8237's address counter wraps without carrying into the page register`);
  }
  return ` — ${reasons.join('; and ')}: the DMA controller ${verb} these bytes ${major === 'read' ? 'at' : 'from'} physical ${hex(target)}${whose}`;
}

/** Bytes from `at` for which `pred` holds. */
function runLength(bytes: Uint8Array, at: number, pred: (b: number) => boolean): number {
  let n = 0;
  while (at + n < bytes.length && pred(bytes[at + n]!)) n++;
  return n;
}

/** Where in `expected` the bytes arriving at `at` really belong, if they are `expected`'s at all. */
function misplacedFrom(at: number, actual: Uint8Array, expected: Uint8Array): number {
  const probe = actual.subarray(at, Math.min(actual.length, at + 16));
  if (probe.length < 4) return -1;
  const found = indexOf(expected, probe);
  return found === at ? -1 : found;
}

/**
 * Says in scan lines what went wrong with a scanner read: which line and byte, and whether
 * the bytes never arrived, are the card's 0xFF for "no data", or belong elsewhere in the scan.
 */
function scanMismatch(at: number, actual: Uint8Array, expected: Uint8Array, lineBytes: number): string {
  const place = (offset: number) => `line ${Math.floor(offset / lineBytes)}, byte ${offset % lineBytes}`;
  const where = `from ${place(at)} of the scan (byte ${hex(at)} of the buffer)`;
  const poison = runLength(actual, at, (b) => b === READ_POISON);
  if (poison > 0 && firstDifference(actual.subarray(at + poison), expected.subarray(at + poison)) !== 0) {
    return `${where}, ${poison} byte(s) never arrived: the buffer still holds the ${hex(READ_POISON)} it was filled with`;
  }
  const ff = runLength(actual, at, (b) => b === 0xff);
  if (ff >= 4) return `${where}, ${ff} byte(s) are 0xFF, what the card puts on the bus when the 8237 takes a byte its FIFO does not have (block mode, or a count past the segment)`;
  const from = misplacedFrom(at, actual, expected);
  if (from >= 0) {
    const by = Math.abs(from - at);
    return `${where}, the buffer holds the scan's ${place(from)}: the data there is ${by} byte(s) ${from > at ? 'ahead of' : 'behind'} where it belongs (a piece mapped to the wrong place in the buffer, or one skipped or sent twice)`;
  }
  return `${where}, byte ${hex(actual[at] ?? 0)} arrived where the scan has ${hex(expected[at] ?? 0)}`;
}

interface AudioFormat {
  rate: number;
  bits: 8 | 16;
  channels: 1 | 2;
}

/** The format of the card's last transfer, or null when the driver never started one. */
function audioFormat(sound: SoundBlaster16): AudioFormat | null {
  const s = sound.snapshot();
  return s.command === null ? null : { rate: s.rate, bits: s.format.bits, channels: s.format.channels };
}

/**
 * Says in time and frames where audio went wrong: a gap of silence or poison, samples from
 * another moment (a half-buffer played twice or skipped), or other bytes.
 */
function audioMismatch(at: number, actual: Uint8Array, expected: Uint8Array, format: AudioFormat | null, what: string, source: string): string {
  const frameBytes = format ? (format.bits / 8) * format.channels : 1;
  const time = (offset: number) => (format ? `${((Math.floor(offset / frameBytes) / format.rate) * 1000).toFixed(1)} ms` : `${offset} bytes`);
  const shape = format ? `frame ${Math.floor(at / frameBytes)}, byte ${at} of ${expected.length}, at ${format.rate} Hz, ${format.bits}-bit ${format.channels === 2 ? 'stereo' : 'mono'}` : `byte ${at} of ${expected.length}; the card never started a transfer`;
  const where = `the ${what} differs from the ${source} from ${time(at)} in (${shape})`;
  const poison = runLength(actual, at, (b) => b === READ_POISON);
  if (poison >= frameBytes) return `${where}: ${time(poison)} of it never arrived, the buffer still holds the ${hex(READ_POISON)} it was filled with`;
  const silence = format?.bits === 16 ? 0x00 : 0x80;
  const quiet = runLength(actual, at, (b) => b === silence);
  if (quiet >= frameBytes * 4) return `${where}: ${time(quiet)} of silence there`;
  const from = misplacedFrom(at, actual, expected);
  if (from >= 0) {
    return `${where}: it holds the ${source} from ${time(from)}, ${time(Math.abs(from - at))} ${from > at ? 'later: audio was skipped' : 'earlier: audio was repeated'} (a half-buffer ${from > at ? 'overwritten before it was used' : 'used twice'})`;
  }
  return `${where}`;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 0) return 0;
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * The workload's rate, and when it is too slow, where the time went: how long each device's
 * adapter held its DMA channel and how long its requests queued for it.
 */
function throughput(c: CheckContext, minKiBPerSec: number, result: (failures: string[], success: string) => CheckResult): CheckResult {
  const done = c.irps.filter((irp) => irp.completed && NT_SUCCESS(irp.status));
  const bytes = done.reduce((sum, irp) => sum + irp.information, 0);
  const start = Math.min(...c.irps.map((irp) => irp.issuedAt));
  const end = Math.max(...done.map((irp) => irp.completedAt));
  const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`;
  const seconds = done.length > 0 ? (end - start) / 1e9 : Infinity;
  const rate = done.length > 0 && seconds > 0 ? bytes / 1024 / seconds : 0;
  const measured = done.length > 0 ? `${bytes} bytes in ${ms(end - start)}: ${rate.toFixed(1)} KiB/s` : 'no request succeeded';
  if (rate >= minKiBPerSec) return result([], `${measured}, at least the ${minKiBPerSec} KiB/s asked for`);
  const time = [...c.hal.adapters.values()].map((a) => {
    const name = c.io.devices.get(a.pdoId)?.deviceName ?? `adapter ${a.id}`;
    const t = a.channelTime;
    const held = t.heldNs + (t.since >= 0 ? c.kernel.now - t.since : 0);
    return `${name} held DMA channel ${a.channel} for ${ms(held)} in ${t.grants} grant(s) and waited ${ms(t.waitedNs)} for it`;
  });
  return result([`${measured}, below the ${minKiBPerSec} KiB/s asked for`, ...time], '');
}

/** Where an IRP that never completed was left: the request StartIo started, or one still queued behind it. */
function whyNotCompleted(io: IoManager, irp: IrpRecord): string {
  const devices = [...io.devices.values()];
  if (devices.some((d) => d.currentIrp === irp)) {
    return 'StartIo started it and nothing ever completed it (when the device never interrupts, only a timeout in the driver ends the request)';
  }
  if (devices.some((d) => d.queue.includes(irp))) return 'it was still waiting in the StartIo queue';
  return 'the driver never completed it';
}

function runChecks(scenario: Scenario, c: CheckContext): CheckResult[] {
  const seen = new Map<string, number>();
  return scenario.checks.map((check) => {
    const n = (seen.get(check.kind) ?? 0) + 1;
    seen.set(check.kind, n);
    const id = n === 1 ? check.kind : `${check.kind}#${n}`;
    const result = (failures: string[], success: string): CheckResult => ({ id, ok: failures.length === 0 && c.bugcheck === null, message: failures.length === 0 ? (c.bugcheck ? `the run stopped with bug check ${c.bugcheck.name}` : success) : failures.join('; ') });
    switch (check.kind) {
      case 'data-integrity': {
        const failing = c.items.filter((item) => item.spec.expect !== undefined && item.spec.expect !== 'STATUS_SUCCESS').length;
        const unchecked = failing > 0 ? ` (${failing} expected to fail, not checked)` : '';
        return result(dataIntegrity(c), `all ${c.items.length - failing} transfers moved the right bytes${unchecked}`);
      }
      case 'irp-status': {
        // Each IRP's own expected status (a fault's), else the check's.
        const expected = new Map<string, number>();
        const failures = c.irps.flatMap((irp, i) => {
          const item = c.issued[i];
          const status = item?.spec.expect ?? check.status;
          expected.set(status, (expected.get(status) ?? 0) + 1);
          const label = item ? `IRP ${c.items.indexOf(item) + 1} (${item.spec.major} ${item.spec.length} bytes at ${item.spec.offset})` : `IRP ${i + 1}`;
          if (!irp.completed) return [`${label} never completed: ${whyNotCompleted(c.io, irp)}`];
          if (irp.status !== (W as Record<string, unknown>)[status]) return [`${label} completed with ${ntStatusName(irp.status)}, expected ${status}`];
          if (NT_SUCCESS(irp.status) && irp.information !== irp.length) return [`${label}: Information is ${irp.information}, expected ${irp.length} (the bytes transferred)`];
          return [];
        });
        if (c.irps.length < c.items.length) failures.push(`${c.items.length - c.irps.length} IRPs were never issued`);
        const each = [...expected].map(([status, n]) => `${n} ${status}`).join(', ');
        return result(failures, expected.size > 1 ? `all ${c.irps.length} IRPs completed with the status expected of each (${each})` : `all ${c.irps.length} IRPs completed with ${check.status}`);
      }
      case 'no-violations':
        return result(
          c.kernel.findings.map((f) => `${f.rule}${f.line ? ` (line ${f.line})` : ''}: ${f.message.replace(/\.$/, '')}`),
          'no verifier findings',
        );
      case 'resources-released': {
        const failures = leftovers(c.kernel, c.io, c.hal).map((l) => (l.fix ? `${l.what} (${l.fix})` : l.what));
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
      case 'throughput':
        return throughput(c, check.minKiBPerSec, result);
    }
  });
}
