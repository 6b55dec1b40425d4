import { bugCheckName } from '../kernel/bugCheck';
import { Entry } from '../kernel/driverCode';
import { ntStatusName, WDM_CONSTANTS as W } from '../kernel/wdmConstants';
import { checkpoint, type Exporter, type TextOut, TextBuffer, type TraceContext } from './export';
import { EVENT_NAMES, type TraceEvent, type TraceRecorder } from './recorder';
import { DmaAnomaly, DmaRegister, EventKind } from './sink';

// The trace as a table (DESIGN.md, "Traces"): CSV (RFC 4180) and JSON Lines with the same
// columns, one row per recorded event, in recording order.
//   index    the event's position in the recorder (0-based)
//   time_ns  simulated time in ns
//   kind     the EventKind name
//   a, b, c  the event's arguments exactly as recorded: 32-bit signed integers (an address
//            of 2 GiB or more reads negative here; `detail` shows it unsigned, in hex)
//   detail   the human reading: routine and API names, ports and addresses in hex, the
//            DbgPrint text as printed (newline included), the finding's rule and message, …
// The readings below are shared with the Chrome exporter (chrome.ts).

export const TABLE_COLUMNS = ['index', 'time_ns', 'kind', 'a', 'b', 'c', 'detail'] as const;

/** `v` as an unsigned hex number, at least `digits` digits. */
export function hex(v: number, digits = 1): string {
  return `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;
}

/** A value whose type the trace does not know: small numbers in decimal, the rest (addresses, NTSTATUS codes) as unsigned hex. */
export function formatValue(v: number): string {
  return v > -0x10000 && v < 0x10000 ? String(v) : hex(v);
}

const IRQL_NAMES: Readonly<Record<number, string>> = { 0: 'PASSIVE_LEVEL', 1: 'APC_LEVEL', 2: 'DISPATCH_LEVEL', 27: 'PROFILE_LEVEL', 28: 'CLOCK2_LEVEL', 29: 'IPI_LEVEL', 30: 'POWER_LEVEL', 31: 'HIGH_LEVEL' };

export function irqlName(irql: number): string {
  return IRQL_NAMES[irql] ?? 'DIRQL';
}

const MAJOR_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(W)
    .filter(([name]) => name.startsWith('IRP_MJ_') && name !== 'IRP_MJ_MAXIMUM_FUNCTION')
    .map(([name, value]) => [value, name]),
);

export function majorName(major: number): string {
  return MAJOR_NAMES[major] ?? `IRP_MJ ${hex(major, 2)}`;
}

const ALLOCATION_ACTIONS: Readonly<Record<number, string>> = { 1: 'KeepObject', 2: 'DeallocateObject', 3: 'DeallocateObjectKeepRegisters' };
const REGISTER_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(DmaRegister).map(([name, value]) => [value, name.toLowerCase()]));
const ANOMALY_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(DmaAnomaly).map(([name, value]) => [value, name]));

/** An API call as source would read: `WRITE_PORT_UCHAR(0x3f2, 0x1c) → 0`. Port routines show every number in hex. */
export function apiCallText(name: string, args: readonly number[], result: number): string {
  const port = name.includes('_PORT_');
  const show = port ? (v: number) => hex(v) : formatValue;
  return `${name}(${args.map(show).join(', ')}) → ${show(result)}`;
}

/** A driver routine's arguments, named for its kind (`IRP` major from IrpStart when known). */
export function routineArgsText(entry: number, a: number, b: number, irpMajor?: number): string {
  switch (entry) {
    case Entry.AddDevice:
      return `PDO ${a}`;
    case Entry.Dispatch:
    case Entry.StartIo:
      return `device ${a}, IRP ${b}${irpMajor === undefined ? '' : ` (${majorName(irpMajor)})`}`;
    case Entry.AdapterControl:
      return `wait block ${a}, MapRegisterBase ${hex(b)}`;
    case Entry.ListControl:
      return `wait block ${a}, scatter/gather list ${b}`;
    case Entry.Isr:
      return `interrupt ${a}`;
    case Entry.Dpc:
      return `DPC ${a}`;
    case Entry.DeviceFlags:
      return `device ${a}`;
    case Entry.IrpGone:
      return `IRP ${a}`;
    default:
      return '';
  }
}

/** What a routine's result means, or null for routines whose result is nothing. */
export function routineResultText(entry: number, result: number): string | null {
  switch (entry) {
    case Entry.DriverEntry:
    case Entry.AddDevice:
    case Entry.Dispatch:
      return ntStatusName(result);
    case Entry.AdapterControl:
      return ALLOCATION_ACTIONS[result] ?? formatValue(result);
    case Entry.Isr:
      return result !== 0 ? 'TRUE (claimed)' : 'FALSE (not claimed)';
    case Entry.DeviceFlags:
      return hex(result);
    default:
      return null;
  }
}

/** The ApiArgs values that follow the ApiCall at `index` (all of them, zero padding included). */
export function apiArgsAfter(trace: TraceRecorder, index: number, scratch: TraceEvent): number[] {
  const args: number[] = [];
  for (let j = index + 1; j < trace.count; j++) {
    if (trace.read(j, scratch).kind !== EventKind.ApiArgs) break;
    args.push(scratch.a, scratch.b, scratch.c);
  }
  return args;
}

/** `0xE6 DRIVER_VERIFIER_DMA_VIOLATION`. */
export function bugCheckText(code: number): string {
  const number = `0x${(code >>> 0).toString(16).toUpperCase().padStart(2, '0')}`;
  const name = bugCheckName(code >>> 0);
  return name.startsWith('0x') ? number : `${number} ${name}`;
}

function channelName(channel: number): string {
  return channel === -1 ? 'DMA1' : channel === -2 ? 'DMA2' : `channel ${channel}`;
}

/**
 * Reads events into words. Events must be described in recording order: an ApiArgs row
 * names the call before it, and a dispatch routine the major function its IRP started with.
 */
export class EventDescriber {
  private lastApi = '';
  private argOffset = 0;
  private readonly scratch: TraceEvent = { time: 0, kind: 0 as EventKind, a: 0, b: 0, c: 0 };
  /** IRP id → major function, from IrpStart. */
  readonly irpMajors = new Map<number, number>();

  constructor(
    private readonly trace: TraceRecorder,
    private readonly context: TraceContext,
  ) {}

  entryName(entry: number): string {
    return this.context.entryNames[entry] ?? `routine ${entry}`;
  }

  apiName(id: number): string {
    return this.context.apiNames[id] ?? `API ${id}`;
  }

  describe(kind: EventKind, a: number, b: number, c: number, index: number): string {
    switch (kind) {
      case EventKind.PortRead:
        return `in ${hex(a, 3)} → ${hex(b, 2)} (${c} byte${c === 1 ? '' : 's'})`;
      case EventKind.PortWrite:
        return `out ${hex(a, 3)} ← ${hex(b, 2)} (${c} byte${c === 1 ? '' : 's'})`;
      case EventKind.PortUnclaimed:
        return c === 1 ? `no device at port ${hex(a, 3)}: the write of ${hex(b, 2)} is lost` : `no device at port ${hex(a, 3)}: the read floats to ${hex(b, 2)}`;
      case EventKind.Dreq:
        return `DREQ${a} ${b ? 'asserted' : 'deasserted'}`;
      case EventKind.Dack:
        return `DACK${a} ${b ? 'asserted' : 'deasserted'}`;
      case EventKind.DmaBurst:
        return `channel ${a}: ${c} byte${c === 1 ? '' : 's'} at ${hex(b, 8)}`;
      case EventKind.TerminalCount:
        return `channel ${a}: terminal count`;
      case EventKind.AutoInitialize:
        return `channel ${a}: auto-initialized`;
      case EventKind.DmaRegisterWrite:
        return `${channelName(a)} ${REGISTER_NAMES[b] ?? `register ${b}`} ← ${hex(c)}`;
      case EventKind.DmaAnomaly:
        return `${channelName(a)}: ${ANOMALY_NAMES[b] ?? `anomaly ${b}`} (${hex(c)})`;
      case EventKind.DmaFlush:
        return `channel ${a}: ${c} buffered byte${c === 1 ? '' : 's'} reached memory at ${hex(b, 8)}`;
      case EventKind.IrqLine:
        return `IRQ${a} ${b ? 'high' : 'low'}`;
      case EventKind.InterruptAck:
        return `IRQ${a} acknowledged, vector ${hex(b, 2)}`;
      case EventKind.Eoi:
        return `${a < 0 ? 'non-specific EOI' : `EOI for IRQ${a}`} to the ${b === 1 ? 'slave' : 'master'} 8259`;
      case EventKind.SpuriousInterrupt:
        return `spurious IRQ${a}`;
      case EventKind.UnclaimedInterrupt:
        return `no ISR claimed IRQ${a}`;
      case EventKind.Irql:
        return `IRQL ${a} (${irqlName(a)})`;
      case EventKind.RoutineEnter:
        return `${this.entryName(a)}(${routineArgsText(a, b, c, this.irpMajors.get(c))})`;
      case EventKind.RoutineExit: {
        const result = routineResultText(a, b);
        return `${this.entryName(a)} returned${result === null ? '' : ` ${result}`} at IRQL ${c}`;
      }
      case EventKind.ApiCall: {
        this.lastApi = this.apiName(a);
        this.argOffset = 0;
        return `${apiCallText(this.lastApi, apiArgsAfter(this.trace, index, this.scratch), c)}${b > 0 ? `, line ${b}` : ''}`;
      }
      case EventKind.ApiArgs: {
        const first = this.argOffset + 1;
        this.argOffset += 3;
        return `${this.lastApi} arguments ${first}–${first + 2}`;
      }
      case EventKind.DbgPrint:
        return this.context.console[a] ?? `console line ${a}`;
      case EventKind.IrpComplete:
        return `IRP ${a} completed: ${ntStatusName(b)}, Information ${c}`;
      case EventKind.Violation: {
        const finding = this.context.findings[a];
        return finding ? `${finding.rule}: ${finding.message}` : `finding ${a}`;
      }
      case EventKind.BugCheck:
        return `bug check ${bugCheckText(a)}${b > 0 ? `, line ${b}` : ''}`;
      case EventKind.MapTransfer:
        return `channel ${a} programmed: ${c} byte${c === 1 ? '' : 's'} at ${hex(b, 8)}`;
      case EventKind.IrpStart:
        this.irpMajors.set(a, b);
        return `IRP ${a} sent: ${majorName(b)}, length ${c}`;
      case EventKind.TimerSet:
        return `timer ${a} set, due in ${b} µs${c !== 0 ? `, DPC ${c}` : ''}`;
      case EventKind.TimerFire:
        return `timer ${a} expired${c !== 0 ? `, DPC ${c}` : ''}`;
      case EventKind.MapRegisters:
        return `${a} map register${a === 1 ? '' : 's'} in use (after adapter ${b})`;
      case EventKind.DmaCycle:
        return `channel ${a}: ${c} byte${c === 1 ? '' : 's'} at ${hex(b, 8)}`;
      case EventKind.DpcQueued:
        return `DPC ${a} queued`;
      default:
        return '';
    }
  }
}

/** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function exportTable(trace: TraceRecorder, context: TraceContext, out: TextOut, format: 'csv' | 'jsonl'): void {
  const buffer = new TextBuffer(out);
  const describer = new EventDescriber(trace, context);
  const total = trace.count;
  // Records end in CRLF, as RFC 4180 writes them; a line break inside a quoted field is kept as printed.
  if (format === 'csv') buffer.push(`${TABLE_COLUMNS.join(',')}\r\n`);
  trace.forEach((time, kind, a, b, c, index) => {
    checkpoint(out, index, total);
    const name = EVENT_NAMES[kind] ?? `Kind${kind}`;
    const detail = describer.describe(kind, a, b, c, index);
    if (format === 'csv') buffer.push(`${index},${time},${name},${a},${b},${c},${csvField(detail)}\r\n`);
    else buffer.push(`{"index":${index},"time_ns":${time},"kind":${JSON.stringify(name)},"a":${a},"b":${b},"c":${c},"detail":${JSON.stringify(detail)}}\n`);
  });
  buffer.flush();
  out.progress?.(total, total);
}

/** The events as CSV (RFC 4180, CRLF, a header row): index, time_ns, kind, a, b, c, detail. */
export const exportCsv: Exporter = (trace, context, out) => exportTable(trace, context, out, 'csv');

/** The events as JSON Lines: one object per line with the CSV's columns as keys. */
export const exportJsonLines: Exporter = (trace, context, out) => exportTable(trace, context, out, 'jsonl');
