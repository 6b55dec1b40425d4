import { z } from 'zod';
import { LabId } from './lab';
import type { RunResult } from './runResult';
import type { RunState, Stop } from './runState';

// Running a driver from the app: the requests (validated like every API request) and the
// events main pushes back while the run goes (see src/main/services/debugRun.ts).

const Line = z.number().int().min(1).max(1_000_000);
/** Driver source as the editor holds it; the same limit as a lab file. */
const Source = z.string().max(1024 * 1024);
/** Simulated time per wall time: 1 = real time; 0 = as fast as possible. */
const Speed = z.number().min(0).max(1_000_000);
const RunId = z.number().int().min(1);

export const RunStartRequest = z.strictObject({
  labId: LabId,
  source: Source,
  breakpoints: z.array(Line).max(1000).default([]),
  /** Stop before DriverEntry, to set breakpoints or step from the first line. */
  stopAtStart: z.boolean().default(false),
  speed: Speed.default(0),
  seed: z.number().int().min(1).max(2 ** 31).default(1),
});

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
  | { kind: 'finished'; outcome: RunOutcome };

/** What main pushes to the renderer, by event name. */
export interface ApiEvents {
  'run.event': { runId: number; event: RunEvent };
}
export type ApiEventName = keyof ApiEvents;
