import { ntStatusName, WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import { checkpoint, type Exporter, TextBuffer } from './export';
import type { TraceEvent } from './recorder';
import { EventKind } from './sink';
import { apiArgsAfter, apiCallText, bugCheckText, EventDescriber, hex, majorName, routineArgsText, routineResultText } from './table';

// The trace as Chrome trace event JSON (the "JSON Object Format" that Perfetto and
// chrome://tracing open), written as it walks the recorder. Times are simulated: ts in µs
// (ns / 1000, fractional where needed), displayTimeUnit "ns".
//
// Process 1, "Windows kernel": driver routines as B/E slices on one track per context,
// chosen by the IRQL the kernel called the routine at (the Irql event just before its
// RoutineEnter): PASSIVE/APC_LEVEL (DriverEntry, AddDevice, dispatch routines, Unload),
// DISPATCH_LEVEL (DPCs, StartIo, adapter control), device IRQL (ISRs). The kernel calls
// routines on one stack, so the routines of one track nest as they did; a routine a bug
// check unwound ends at the end of the trace (args.unfinished). On the same tracks, as
// instants: API calls (name, source line, result, arguments), DbgPrint, verifier findings,
// map transfers, DPCs queued, timers set. IRPs are async slices (cat "irp", id = IRP id)
// from IrpStart to IrpComplete, or to the end of the trace when never completed. Counters:
// IRQL, and map registers in use (the HAL's total over all adapters). Timers expiring have
// a track of their own; a bug check is a global instant.
//
// Process 2, "ISA hardware": counters of DMA bytes moved per channel (cumulative, one
// sample per burst) and of each IRQ line's level; instants for interrupt acknowledges,
// EOIs and spurious or unclaimed interrupts (8259 track), terminal counts,
// auto-initializes, controller anomalies and buffer flushes (8237 track), and accesses to
// ports no device decodes (bus track). DREQ/DACK edges, port accesses, 8237 register
// writes and single DMA cycles are left to the VCD and the tables.

const KERNEL = 1;
const HARDWARE = 2;

const PASSIVE = 1;
const DISPATCH = 2;
const DEVICE_IRQL = 3;
const TIMERS = 4;
const PIC = 11;
const DMA = 12;
const BUS = 13;

const PROCESSES: readonly [pid: number, name: string][] = [
  [KERNEL, 'Windows kernel (driver routines)'],
  [HARDWARE, 'ISA hardware'],
];

const THREADS: readonly [pid: number, tid: number, name: string][] = [
  [KERNEL, PASSIVE, 'PASSIVE_LEVEL (DriverEntry, AddDevice, dispatch, Unload)'],
  [KERNEL, DISPATCH, 'DISPATCH_LEVEL (DPCs, StartIo, adapter control)'],
  [KERNEL, DEVICE_IRQL, 'Device IRQL (ISRs)'],
  [KERNEL, TIMERS, 'Kernel timers'],
  [HARDWARE, PIC, '8259 interrupt controllers'],
  [HARDWARE, DMA, '8237 DMA controllers'],
  [HARDWARE, BUS, 'I/O bus'],
];

/** The track of a routine called at `irql`. */
function trackOf(irql: number): number {
  return irql >= 3 ? DEVICE_IRQL : irql === W.DISPATCH_LEVEL ? DISPATCH : PASSIVE;
}

/** A short slice or instant name from a DbgPrint line: its first line, at most 80 characters. */
function printName(text: string): string {
  const line = text.replace(/^\s+/, '').split(/\r?\n/, 1)[0]!.trimEnd();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line || 'DbgPrint';
}

export const exportChrome: Exporter = (trace, context, out) => {
  const buffer = new TextBuffer(out);
  const describer = new EventDescriber(trace, context);
  const scratch: TraceEvent = { time: 0, kind: 0 as EventKind, a: 0, b: 0, c: 0 };
  const total = trace.count;
  let first = true;

  /** Writes one event: `fields` is the JSON after name/ph/ts/pid/tid (with its leading comma), or ''. */
  const emit = (name: string, ph: string, ns: number, pid: number, tid: number, fields: string): void => {
    buffer.push(`${first ? '' : ',\n'}{"name":${JSON.stringify(name)},"ph":"${ph}","ts":${ns / 1000},"pid":${pid},"tid":${tid}${fields}}`);
    first = false;
  };
  const args = (value: Record<string, unknown>): string => `,"args":${JSON.stringify(value)}`;
  const instant = (name: string, ns: number, pid: number, tid: number, value: Record<string, unknown>, scope: 't' | 'p' | 'g' = 't'): void =>
    emit(name, 'i', ns, pid, tid, `,"s":"${scope}"${args(value)}`);
  const counter = (name: string, ns: number, pid: number, series: string, value: number): void => emit(name, 'C', ns, pid, 0, `,"args":{${JSON.stringify(series)}:${value}}`);

  buffer.push('{"traceEvents":[\n');
  for (const [pid, name] of PROCESSES) {
    emit('process_name', 'M', 0, pid, 0, args({ name }));
    emit('process_sort_index', 'M', 0, pid, 0, args({ sort_index: pid }));
  }
  for (const [pid, tid, name] of THREADS) {
    emit('thread_name', 'M', 0, pid, tid, args({ name }));
    emit('thread_sort_index', 'M', 0, pid, tid, args({ sort_index: tid }));
  }
  counter('IRQL', 0, KERNEL, 'IRQL', W.PASSIVE_LEVEL);

  let irql: number = W.PASSIVE_LEVEL;
  /** The routines running, innermost last: the track and the name of each. */
  const stack: { tid: number; name: string }[] = [];
  /** IRPs started and not completed: id → slice name. */
  const irps = new Map<number, string>();
  /** Bytes moved so far, by channel. */
  const moved = new Map<number, number>();
  let lastTime = 0;
  const here = (): number => stack[stack.length - 1]?.tid ?? PASSIVE;

  trace.forEach((time, kind, a, b, c, index) => {
    checkpoint(out, index, total);
    lastTime = time;
    const detail = (): string => describer.describe(kind, a, b, c, index);
    switch (kind) {
      case EventKind.Irql:
        irql = a;
        counter('IRQL', time, KERNEL, 'IRQL', a);
        break;
      case EventKind.RoutineEnter: {
        const name = describer.entryName(a);
        const tid = trackOf(irql);
        stack.push({ tid, name });
        const text = routineArgsText(a, b, c, describer.irpMajors.get(c));
        emit(name, 'B', time, KERNEL, tid, text === '' ? '' : args({ arguments: text }));
        break;
      }
      case EventKind.RoutineExit: {
        const routine = stack.pop();
        if (routine === undefined) break; // an exit without its enter: the trace began mid-routine
        emit(routine.name, 'E', time, KERNEL, routine.tid, args({ result: routineResultText(a, b) ?? b, irql: c }));
        break;
      }
      case EventKind.ApiCall: {
        const name = describer.apiName(a);
        const values = apiArgsAfter(trace, index, scratch);
        instant(name, time, KERNEL, here(), { call: apiCallText(name, values, c), line: b, result: c, arguments: values });
        break;
      }
      case EventKind.DbgPrint:
        instant(printName(context.console[a] ?? ''), time, KERNEL, here(), { text: detail(), line: b });
        break;
      case EventKind.Violation: {
        const finding = context.findings[a];
        instant(finding?.rule ?? 'finding', time, KERNEL, here(), { message: finding?.message ?? detail(), line: finding?.line ?? b });
        break;
      }
      case EventKind.BugCheck:
        instant(`BUGCHECK ${bugCheckText(a)}`, time, KERNEL, here(), { code: hex(a), line: b }, 'g');
        break;
      case EventKind.IrpStart: {
        if (irps.has(a)) {
          instant(`IRP ${a} sent again`, time, KERNEL, here(), { irp: a, major: majorName(b), length: c });
          break;
        }
        const name = `IRP ${a} ${majorName(b)}`;
        irps.set(a, name);
        describer.irpMajors.set(a, b);
        emit(name, 'b', time, KERNEL, here(), `,"cat":"irp","id":${a}${args({ irp: a, major: majorName(b), length: c })}`);
        break;
      }
      case EventKind.IrpComplete: {
        const name = irps.get(a);
        if (name === undefined) {
          instant(`IRP ${a} completed`, time, KERNEL, here(), { status: ntStatusName(b), information: c });
          break;
        }
        irps.delete(a);
        emit(name, 'e', time, KERNEL, here(), `,"cat":"irp","id":${a}${args({ status: ntStatusName(b), information: c })}`);
        break;
      }
      case EventKind.MapTransfer:
        instant(`MapTransfer channel ${a}`, time, KERNEL, here(), { channel: a, address: hex(b, 8), bytes: c });
        break;
      case EventKind.MapRegisters:
        counter('Map registers in use', time, KERNEL, 'registers', a);
        break;
      case EventKind.DpcQueued:
        instant(`DPC ${a} queued`, time, KERNEL, here(), { dpc: a });
        break;
      case EventKind.TimerSet:
        instant(`Timer ${a} set`, time, KERNEL, here(), { timer: a, dueInUs: b, dpc: c });
        break;
      case EventKind.TimerFire:
        instant(`Timer ${a} expired`, time, KERNEL, TIMERS, { timer: a, dpc: c });
        break;
      case EventKind.DmaBurst: {
        const bytes = (moved.get(a) ?? 0) + c;
        moved.set(a, bytes);
        counter(`DMA bytes moved, channel ${a}`, time, HARDWARE, 'bytes', bytes);
        break;
      }
      case EventKind.IrqLine:
        counter(`IRQ${a} line`, time, HARDWARE, 'level', b);
        break;
      case EventKind.InterruptAck:
        instant(`INTA IRQ${a}`, time, HARDWARE, PIC, { irq: a, vector: hex(b, 2) });
        break;
      case EventKind.Eoi:
        instant(a < 0 ? 'EOI' : `EOI IRQ${a}`, time, HARDWARE, PIC, { detail: detail() });
        break;
      case EventKind.SpuriousInterrupt:
        instant(`Spurious IRQ${a}`, time, HARDWARE, PIC, { irq: a });
        break;
      case EventKind.UnclaimedInterrupt:
        instant(`Unclaimed IRQ${a}`, time, HARDWARE, PIC, { irq: a });
        break;
      case EventKind.TerminalCount:
        instant(`TC channel ${a}`, time, HARDWARE, DMA, { channel: a });
        break;
      case EventKind.AutoInitialize:
        instant(`Auto-initialize channel ${a}`, time, HARDWARE, DMA, { channel: a });
        break;
      case EventKind.DmaAnomaly:
        instant('DMA anomaly', time, HARDWARE, DMA, { detail: detail() });
        break;
      case EventKind.DmaFlush:
        instant(`Flush channel ${a}`, time, HARDWARE, DMA, { detail: detail() });
        break;
      case EventKind.PortUnclaimed:
        instant(`Unclaimed port ${hex(a, 3)}`, time, HARDWARE, BUS, { detail: detail() });
        break;
      default:
        // ApiArgs (folded into their ApiCall), ports, DREQ/DACK, 8237 registers, DMA cycles.
        break;
    }
  });

  // What a bug check (or the run's end) left open ends with the trace.
  const end = Math.max(context.endTime, lastTime);
  while (stack.length > 0) {
    const routine = stack.pop()!;
    emit(routine.name, 'E', end, KERNEL, routine.tid, args({ unfinished: true }));
  }
  for (const [id, name] of irps) emit(name, 'e', end, KERNEL, PASSIVE, `,"cat":"irp","id":${id}${args({ status: 'not completed' })}`);

  buffer.push(`\n],"displayTimeUnit":"ns","otherData":${JSON.stringify({ generator: 'DMA Lab', clock: 'simulated', endTimeNs: context.endTime, recordedEvents: total, dmaBytes: 'cumulative per channel' })}}\n`);
  buffer.flush();
  out.progress?.(total, total);
};
