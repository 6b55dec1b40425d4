import { TIMELINE_MAX_ITEMS, type RunSignalsResponse, type RunTimelineResponse, type RunTraceResponse, type SignalTrace, type TraceFilter, type TraceRow } from '../../shared/run';
import type { TraceContext } from './export';
import { EVENT_NAMES, type TraceRecorder } from './recorder';
import { EventKind } from './sink';
import { Entry } from '../kernel/driverCode';
import { EventDescriber } from './table';

// Reading a run's trace while it is open in the app: a window of rows for the trace table
// (filtered, described in words, with the driver line where there is one), the lines for
// the waveform (DREQ, DACK, T/C per channel, IRQ lines) over a span of time, and the
// processor's timeline (IRQL, interrupts taken, driver routines) over a span.

const K = EventKind;
const FILTERS: Record<Exclude<TraceFilter, 'all'>, ReadonlySet<number>> = {
  driver: new Set([K.RoutineEnter, K.RoutineExit, K.ApiCall, K.DbgPrint, K.Violation, K.BugCheck, K.IrpStart, K.IrpComplete, K.DpcQueued, K.TimerSet, K.TimerFire, K.Irql]),
  dma: new Set([K.Dreq, K.Dack, K.DmaBurst, K.TerminalCount, K.AutoInitialize, K.DmaRegisterWrite, K.DmaAnomaly, K.DmaFlush, K.MapTransfer, K.MapRegisters, K.DmaCycle]),
  interrupts: new Set([K.IrqLine, K.InterruptAck, K.Eoi, K.SpuriousInterrupt, K.UnclaimedInterrupt, K.Irql]),
  ports: new Set([K.PortRead, K.PortWrite, K.PortUnclaimed]),
};

/** Calls into the driver that are the kernel's bookkeeping, not routines a driver author wrote (kernel/driverCode.ts). */
const PLUMBING: ReadonlySet<number> = new Set([Entry.DeviceFlags, Entry.IrpGone]);

/** Kinds whose `b` is the driver line they came from. */
const LINE_IN_B: ReadonlySet<number> = new Set([K.ApiCall, K.DbgPrint, K.Violation, K.BugCheck]);

/** The rows of one filter, found once and extended as the trace grows. */
interface FilterIndex {
  scanned: number;
  rows: number[];
}

export class TraceQuery {
  private readonly indexes = new Map<TraceFilter, FilterIndex>();

  constructor(
    private readonly trace: TraceRecorder,
    private readonly context: () => TraceContext,
  ) {}

  private rowsOf(filter: TraceFilter): number[] {
    let index = this.indexes.get(filter);
    if (!index) {
      index = { scanned: 0, rows: [] };
      this.indexes.set(filter, index);
    }
    const kinds = filter === 'all' ? null : FILTERS[filter];
    const rows = index.rows;
    // ApiArgs rows only carry the call's later arguments, which the call's own row shows.
    this.trace.forEach((_t, kind, _a, _b, _c, i) => {
      if (kind !== K.ApiArgs && (kinds === null || kinds.has(kind))) rows.push(i);
    }, index.scanned);
    index.scanned = this.trace.count;
    return rows;
  }

  rows(filter: TraceFilter, from: number, count: number): RunTraceResponse {
    const all = this.rowsOf(filter);
    const describer = new EventDescriber(this.trace, this.context());
    const rows: TraceRow[] = [];
    const event = { time: 0, kind: 0 as EventKind, a: 0, b: 0, c: 0 };
    for (const index of all.slice(from, from + count)) {
      this.trace.read(index, event);
      rows.push({
        index,
        timeNs: event.time,
        kind: EVENT_NAMES[event.kind] ?? String(event.kind),
        detail: describer.describe(event.kind, event.a, event.b, event.c, index),
        line: LINE_IN_B.has(event.kind) && event.b > 0 ? event.b : null,
      });
    }
    return { total: all.length, from, rows };
  }

  /** Each DMA channel's DREQ, DACK and T/C and each IRQ line that changed in the run, over [fromNs, toNs]. */
  signals(fromNs: number, toNs: number): RunSignalsResponse {
    const lines = new Map<string, SignalTrace & { order: number }>();
    const signal = (name: string, order: number) => {
      let s = lines.get(name);
      if (!s) {
        s = { name, initial: 0, changes: [], order };
        lines.set(name, s);
      }
      return s;
    };
    const set = (s: SignalTrace, time: number, level: number) => {
      if (time < fromNs) s.initial = level;
      else if (time <= toNs) s.changes.push([time, level]);
    };
    let end = 0;
    this.trace.forEach((time, kind, a, b) => {
      end = time;
      switch (kind) {
        case K.Dreq:
          return set(signal(`DREQ${a}`, a * 4), time, b ? 1 : 0);
        case K.Dack:
          return set(signal(`DACK${a}`, a * 4 + 1), time, b ? 1 : 0);
        case K.TerminalCount: {
          // T/C is a pulse with the last transfer: drawn one DMA cycle wide.
          const s = signal(`TC${a}`, a * 4 + 2);
          set(s, time, 1);
          set(s, time + 250, 0);
          return;
        }
        case K.IrqLine:
          return set(signal(`IRQ${a}`, 100 + a), time, b ? 1 : 0);
        default:
          return;
      }
    });
    const signals = [...lines.values()].sort((x, y) => x.order - y.order).map(({ name, initial, changes }) => ({ name, initial, changes }));
    return { fromNs, toNs, endNs: end, signals };
  }

  /** The processor over [fromNs, toNs]: its IRQL, the interrupts it acknowledged, the driver routines it ran and the DPCs queued. */
  timeline(fromNs: number, toNs: number): RunTimelineResponse {
    const { entryNames } = this.context();
    const irql: RunTimelineResponse['irql'] = { initial: 0, changes: [] };
    const interrupts: [number, number][] = [];
    const routines: [number, number, number][] = [];
    const dpcsQueued: number[] = [];
    const used = new Set<number>();
    /** Routines entered and not yet left: a DPC may be interrupted by an ISR, so they nest. */
    const open: [number, number][] = [];
    let truncated = false;
    let end = 0;
    const keep = <T>(list: T[], item: T) => {
      if (list.length < TIMELINE_MAX_ITEMS) list.push(item);
      else truncated = true;
    };
    this.trace.forEach((time, kind, a) => {
      end = time;
      switch (kind) {
        case K.Irql:
          if (time < fromNs) irql.initial = a;
          else if (time <= toNs) keep(irql.changes, [time, a]);
          return;
        case K.InterruptAck:
          if (time >= fromNs && time <= toNs) keep(interrupts, [time, a]);
          return;
        case K.DpcQueued:
          if (time >= fromNs && time <= toNs) keep(dpcsQueued, time);
          return;
        case K.RoutineEnter:
          open.push([time, a]);
          return;
        case K.RoutineExit: {
          const entered = open.pop();
          if (entered && !PLUMBING.has(entered[1]) && time >= fromNs && entered[0] <= toNs) {
            keep(routines, [entered[0], time, entered[1]]);
            used.add(entered[1]);
          }
          return;
        }
        default:
          return;
      }
    });
    // A routine still running (the run is stopped inside it) ends, for now, where the trace does.
    for (const [start, entry] of open) {
      if (start > toNs || PLUMBING.has(entry)) continue;
      keep(routines, [start, end, entry]);
      used.add(entry);
    }
    routines.sort((x, y) => x[0] - y[0]);
    const routineNames = Object.fromEntries([...used].map((e) => [String(e), entryNames[e as keyof typeof entryNames] ?? `routine ${e}`]));
    return { fromNs, toNs, endNs: end, irql, interrupts, routines, routineNames, dpcsQueued, truncated };
  }
}
