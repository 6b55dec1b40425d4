import { Worker } from 'node:worker_threads';
import type { RunResult } from '../../shared/runResult';
import type { Scenario } from '../../shared/scenario';
import type { CompileError } from '../../sim/driver/compileError';
import type { TraceFormat } from '../../sim/trace/export';
import type { DetailLevel } from '../../sim/trace/recorder';
import type { DebugReport, DebugSetup } from './debugProtocol';

// Runs one scenario with one driver in a fresh worker thread and answers its result. The
// sandbox stops runaway drivers by itself (watchdog, memory, stack); the wall-clock limit
// here is the last resort for what it cannot see, and says so when it fires.

export interface TraceRequest {
  path: string;
  format: TraceFormat;
  detail: DetailLevel;
  vcdBuses: 'bits' | 'vector';
}

export interface SimulationRequest {
  scenario: Scenario;
  source: string;
  file: string;
  seed: number;
  images: Record<string, Uint8Array>;
  files: Record<string, string>;
  /** Record the run and export it to a file. */
  trace?: TraceRequest;
  /** Run under the debugger (see debugProtocol.ts); its port is transferred to the worker. */
  debug?: DebugSetup;
}

/** A driver for a spare worker to compile while it waits for its run (WorkerPool.compileAhead). */
export interface CompileAhead {
  source: string;
  file: string;
}

/**
 * The run a spare worker expects next: the open lab's scenario and images, at the app's seed.
 * It builds that machine while it waits, and a run that matches starts from it.
 */
export interface UpcomingRun {
  scenario: Scenario;
  seed: number;
  images: Record<string, Uint8Array>;
}

/** What a spare worker is posted while it waits: a driver to compile ahead, or at last its run. */
export type SpareMessage = ({ kind: 'compile' } & CompileAhead) | SimulationRequest;

/** What became of the trace export: the file written, or why not (nothing is left under the name). */
export type TraceOutcome = { path: string; events: number; bytes: number } | { error: string };

export type SimulationReply =
  | { kind: 'result'; result: RunResult; trace?: TraceOutcome }
  | { kind: 'load-error'; message: string; compileErrors: CompileError[] }
  | { kind: 'crash'; message: string };

export interface SimulationOptions {
  /** The built worker script (out/main/simWorker.js). */
  workerPath: string;
  /** Wall-clock backstop in ms. */
  wallLimitMs?: number;
  /** Trace export progress: events written of the total. */
  onProgress?: (done: number, total: number) => void;
  /** Stops and streamed states of a debug run. */
  onDebug?: (report: DebugReport) => void;
  /** Called with the worker once it exists, so the caller can stop it early. */
  onWorker?: (worker: Worker) => void;
  /** A worker that has loaded and made its sandbox already (WorkerPool's spare), to use instead of a new one. */
  spare?: Worker;
}

export const RESOURCE_LIMITS = { maxOldGenerationSizeMb: 1024, stackSizeMb: 8 };

function workerFor(request: SimulationRequest, options: SimulationOptions): Worker {
  const transferList = request.debug ? [request.debug.port] : [];
  if (options.spare) {
    options.spare.ref();
    options.spare.postMessage(request, transferList);
    return options.spare;
  }
  return new Worker(options.workerPath, { workerData: request, transferList, resourceLimits: RESOURCE_LIMITS });
}

type WorkerMessage = SimulationReply | DebugReport | { kind: 'progress'; done: number; total: number } | { kind: 'ready' };

export const DEFAULT_WALL_LIMIT_MS = 300_000;

export function runSimulation(request: SimulationRequest, options: SimulationOptions): Promise<SimulationReply> {
  return new Promise((resolve) => {
    const worker = workerFor(request, options);
    options.onWorker?.(worker);
    let settled = false;
    const settle = (reply: SimulationReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // A debug run's worker stays after its result to answer questions about the trace; its owner ends it.
      if (!(request.debug && reply.kind === 'result')) void worker.terminate();
      resolve(reply);
    };
    // A debug run may stay stopped as long as the person likes: no backstop.
    const limit = request.debug ? null : (options.wallLimitMs ?? DEFAULT_WALL_LIMIT_MS);
    const timer =
      limit === null
        ? undefined
        : setTimeout(() => settle({ kind: 'crash', message: `the simulation did not finish within ${limit / 1000} s of wall time and was stopped by the host's backstop` }), limit);
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'ready') return; // a spare that was taken while it warmed
      if (message.kind === 'progress') options.onProgress?.(message.done, message.total);
      else if (message.kind === 'stopped' || message.kind === 'state' || message.kind === 'answer' || message.kind === 'export-progress') options.onDebug?.(message);
      else settle(message);
    });
    worker.once('error', (error) => settle({ kind: 'crash', message: `the simulation worker failed: ${error.message}` }));
    worker.once('exit', (code) => settle({ kind: 'crash', message: `the simulation worker exited (code ${code}) without a result` }));
  });
}
