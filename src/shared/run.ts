import { z } from 'zod';
import { LabId } from './lab';
import { ScenarioId } from './playground';
import type { RunResult } from './runResult';
import type { RunState, Stop } from './runState';
import type { ExportEvent } from './traceExport';

// Running a driver from the app: the requests (validated like every API request) and the
// events main pushes back while the run goes (see src/main/services/debugRun.ts).

const Line = z.number().int().min(1).max(1_000_000);
/** Driver source as the editor holds it; the same limit as a lab file. */
const Source = z.string().max(1024 * 1024);
/** Simulated time per wall time: 1 = real time; 0 = as fast as possible. */
const Speed = z.number().min(0).max(1_000_000);
const RunId = z.number().int().min(1);

/** The seed of a run that names none (the app's Run button). */
export const DEFAULT_RUN_SEED = 1;

/** Exactly one of a request's labId and scenarioId. */
const oneTarget = (r: { labId?: string; scenarioId?: string }) => (r.labId === undefined) !== (r.scenarioId === undefined);
const ONE_TARGET = { message: 'name either a labId or a scenarioId, not both', path: ['labId'] };

/** A driver on a lab's scenario (labId: the run is an attempt at the lab) or on a playground scenario (scenarioId). */
export const RunStartRequest = z
  .strictObject({
    labId: LabId.optional(),
    scenarioId: ScenarioId.optional(),
    source: Source,
    breakpoints: z.array(Line).max(1000).default([]),
    /** Stop before DriverEntry, to set breakpoints or step from the first line. */
    stopAtStart: z.boolean().default(false),
    speed: Speed.default(0),
    seed: z.number().int().min(1).max(2 ** 31).default(DEFAULT_RUN_SEED),
  })
  .refine(oneTarget, ONE_TARGET);

/** The lab (or playground scenario) the person has open, and its driver as it stands, before they press Run. */
export const RunPrepareRequest = z.strictObject({ labId: LabId.optional(), scenarioId: ScenarioId.optional(), source: Source }).refine(oneTarget, ONE_TARGET);

export const RunAction = z.enum(['continue', 'step-line', 'step-event', 'step-interrupt', 'pause', 'step-back', 'stop']);
export type RunAction = z.infer<typeof RunAction>;

export const RunControlRequest = z.strictObject({
  runId: RunId,
  action: RunAction,
});

export const RunSetRequest = z.strictObject({
  runId: RunId,
  breakpoints: z.array(Line).max(1000).optional(),
  speed: Speed.optional(),
});

/** Groups of trace events a person filters the trace table by. */
export const TraceFilter = z.enum(['all', 'driver', 'dma', 'interrupts', 'ports']);
export type TraceFilter = z.infer<typeof TraceFilter>;

export const RunTraceRequest = z.strictObject({
  runId: RunId,
  filter: TraceFilter.default('all'),
  /** Row (among the filtered rows) to start at. */
  from: z.number().int().min(0),
  count: z.number().int().min(1).max(1000),
});

export const TraceRow = z.strictObject({
  index: z.number().int(),
  timeNs: z.number(),
  kind: z.string(),
  detail: z.string(),
  /** The driver line the event came from, when it came from the driver. */
  line: z.number().int().nullable(),
});
export type TraceRow = z.infer<typeof TraceRow>;

export const RunTraceResponse = z.strictObject({ total: z.number().int(), from: z.number().int(), rows: z.array(TraceRow) });
export type RunTraceResponse = z.infer<typeof RunTraceResponse>;

/** The lines a waveform draws: each signal's changes over a span of simulated time. */
export const RunSignalsRequest = z.strictObject({
  runId: RunId,
  fromNs: z.number().min(0),
  toNs: z.number().min(0),
});

export const SignalTrace = z.strictObject({
  name: z.string(),
  /** Level at fromNs, then [time, level] at each change inside the span. */
  initial: z.number(),
  changes: z.array(z.tuple([z.number(), z.number()])),
});
export type SignalTrace = z.infer<typeof SignalTrace>;

export const RunSignalsResponse = z.strictObject({ fromNs: z.number(), toNs: z.number(), endNs: z.number(), signals: z.array(SignalTrace) });
export type RunSignalsResponse = z.infer<typeof RunSignalsResponse>;

/** The processor's side of a span of the run: its IRQL, the interrupts it took and the driver routines it ran. */
export const RunTimelineRequest = RunSignalsRequest;

/** Items of each kind a timeline answer holds at most; past that it is cut short, and a narrower span shows the rest. */
export const TIMELINE_MAX_ITEMS = 20_000;

export const RunTimelineResponse = z.strictObject({
  fromNs: z.number(),
  toNs: z.number(),
  endNs: z.number(),
  /** IRQL at fromNs, then [time, IRQL] at each change inside the span. */
  irql: z.strictObject({ initial: z.number().int(), changes: z.array(z.tuple([z.number(), z.number().int()])) }),
  /** [time, IRQ] of each interrupt the processor acknowledged. */
  interrupts: z.array(z.tuple([z.number(), z.number().int()])),
  /** [start, end, routine] of each driver routine the kernel called (the routine by name in `routineNames`). */
  routines: z.array(z.tuple([z.number(), z.number(), z.number().int()])),
  routineNames: z.record(z.string(), z.string()),
  /** Times a DPC was queued. */
  dpcsQueued: z.array(z.number()),
  /** Some kind had more than TIMELINE_MAX_ITEMS in the span. */
  truncated: z.boolean(),
});
export type RunTimelineResponse = z.infer<typeof RunTimelineResponse>;

/** Bytes of physical memory as DMA sees them (the processor's cache aside), for the hex view. */
export const RunMemoryRequest = z.strictObject({
  runId: RunId,
  address: z.number().int().min(0).max(2 ** 32 - 1),
  length: z.number().int().min(1).max(4096),
});
export const RunMemoryResponse = z.strictObject({ address: z.number().int(), bytes: z.array(z.number().int().min(0).max(255)) });
export type RunMemoryResponse = z.infer<typeof RunMemoryResponse>;

export const RunStartResponse = z.strictObject({ runId: RunId });
export const Empty = z.strictObject({});

export interface CompileErrorInfo {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** How a run ended. */
export type RunOutcome =
  | { kind: 'result'; result: RunResult }
  | { kind: 'load-error'; message: string; compileErrors: CompileErrorInfo[] }
  | { kind: 'crash'; message: string }
  | { kind: 'stopped' };

export type RunEvent =
  | { kind: 'stopped'; stop: Stop; state: RunState; canStepBack: boolean }
  | { kind: 'state'; state: RunState }
  /** canStepBack: the run's last stop can still be gone back to (a run that ended with a result). */
  | { kind: 'finished'; outcome: RunOutcome; canStepBack: boolean };

/** What main pushes to the renderer, by event name. */
export interface ApiEvents {
  'run.event': { runId: number; event: RunEvent };
  'export.event': ExportEvent;
}
export type ApiEventName = keyof ApiEvents;
