import type { MessagePort } from 'node:worker_threads';
import type { RunMemoryResponse, RunSignalsResponse, RunTimelineResponse, RunTraceResponse, TraceFilter } from '../../shared/run';
import type { RunState, Stop } from '../../shared/runState';
import type { ExportDetail, ExportFormat } from '../../shared/traceExport';
import type { DebugCommand } from '../../sim/run/debugger';

// How the main thread and a simulation worker under the debugger talk. A stopped worker is
// blocked inside the run (the run is synchronous), so it cannot take messages the usual way:
// it sleeps in Atomics.wait on a shared word and, when woken, drains its port with
// receiveMessageOnPort. The main thread posts, then bumps the word and notifies.

/** Int32 slots of the shared control buffer. */
export const CONTROL = {
  /** Bumped by the main thread after each message it posts; the worker waits on it. */
  signal: 0,
  /** 1: pause at the next event (the worker clears it when it stops). */
  pause: 1,
  /** Speed as simulated time per wall time × 1000 (1000 = real time); 0 = as fast as possible. */
  speed: 2,
  /** The id of a trace export to give up (the export polls it between blocks of events). */
  cancelExport: 3,
} as const;

export const CONTROL_BYTES = 16;

/** What the worker is told: commands and state requests while stopped, breakpoints at any time. */
export type DebugMessage =
  | { kind: 'command'; command: DebugCommand }
  | { kind: 'state' }
  | { kind: 'breakpoints'; lines: number[] }
  | TraceQueryMessage;

/** Questions about the run's trace, answered while it runs, while it is stopped, and after it ends. */
export type TraceQueryMessage =
  | { kind: 'trace'; id: number; filter: TraceFilter; from: number; count: number }
  | { kind: 'signals'; id: number; fromNs: number; toNs: number }
  | { kind: 'timeline'; id: number; fromNs: number; toNs: number }
  | { kind: 'memory'; id: number; address: number; length: number }
  | TraceExportMessage;

/** Write the trace to `path` (through a temporary file), reporting progress; cancelled through CONTROL.cancelExport. */
export interface TraceExportMessage {
  kind: 'export';
  id: number;
  path: string;
  format: ExportFormat;
  detail: ExportDetail;
  vcdBuses: 'bits' | 'vector';
}

export type TraceExportAnswer = { kind: 'written'; events: number; bytes: number } | { kind: 'cancelled' } | { kind: 'failed'; message: string };

/** What a worker under the debugger sends, besides its final SimulationReply. */
export type DebugReport =
  | { kind: 'stopped'; stop: Stop; state: RunState }
  | { kind: 'state'; state: RunState }
  | { kind: 'answer'; id: number; answer: RunTraceResponse | RunSignalsResponse | RunTimelineResponse | RunMemoryResponse | TraceExportAnswer }
  /** How far an export has got (at most every EXPORT_PROGRESS_MS). */
  | { kind: 'export-progress'; id: number; done: number; total: number };

export const EXPORT_PROGRESS_MS = 100;

export interface DebugSetup {
  control: SharedArrayBuffer;
  port: MessagePort;
  breakpoints: number[];
  stopAtStart: boolean;
  /** Step back: run without stopping to this stop. */
  replayTo?: Stop;
  /** A replay nobody watches yet (the run's shadow, see debugRun.ts): no states streamed, only its stops. */
  quiet?: boolean;
}

/** States sent while running, at most this often (the renderer draws no faster). */
export const STATE_INTERVAL_MS = 50;
