import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '../../shared/scenario';
import { SandboxLoadError } from '../../sim/driver/sandbox';
import { captureRunState } from '../../sim/run/runState';
import { runScenario, type SessionParts } from '../../sim/run/session';
import { createDebugHost } from './debugHost';
import type { DebugReport } from './debugProtocol';
import { EXPORTERS } from '../../sim/trace/exporters';
import { TraceRecorder } from '../../sim/trace/recorder';
import { writeTraceFile } from './traceFile';
import type { SimulationReply, SimulationRequest } from './simulation';

// One simulation, in a worker thread of its own (DESIGN.md, "The app"): the driver's
// sandbox grows this thread's memory, and a runaway one takes only this thread down.

async function main(request: SimulationRequest): Promise<SimulationReply> {
  let debugParts: SessionParts | null = null;
  try {
    const trace = request.trace ? new TraceRecorder(request.trace.detail) : undefined;
    const session = await runScenario({
      scenario: request.scenario as Scenario,
      source: request.source,
      file: request.file,
      seed: request.seed,
      images: new Map(Object.entries(request.images).map(([k, v]) => [k, new Uint8Array(v)])),
      files: new Map(Object.entries(request.files)),
      ...(trace ? { trace } : {}),
      ...(request.debug
        ? {
            debug: {
              host: (parts) => {
                debugParts = parts;
                return createDebugHost(request.debug!, () => captureRunState(parts), (report: DebugReport) => parentPort!.postMessage(report));
              },
              options: { breakpoints: request.debug.breakpoints, stopAtStart: request.debug.stopAtStart, ...(request.debug.replayTo ? { replayTo: request.debug.replayTo } : {}) },
            },
          }
        : {}),
    });
    // The panels show the machine as the run left it.
    if (debugParts) parentPort!.postMessage({ kind: 'state', state: captureRunState(debugParts) } satisfies DebugReport);
    if (!trace || !request.trace) return { kind: 'result', result: session.result };
    const { path, format, vcdBuses } = request.trace;
    try {
      const { bytes } = writeTraceFile(path, EXPORTERS[format], trace, session.traceContext, {
        vcdBuses,
        progress: (done, total) => parentPort!.postMessage({ kind: 'progress', done, total }),
      });
      return { kind: 'result', result: session.result, trace: { path, events: trace.count, bytes } };
    } catch (error) {
      return { kind: 'result', result: session.result, trace: { error: error instanceof Error ? error.message : String(error) } };
    }
  } catch (error) {
    if (error instanceof SandboxLoadError) return { kind: 'load-error', message: error.message, compileErrors: error.compileErrors };
    throw error;
  }
}

main(workerData as SimulationRequest).then(
  (reply) => parentPort!.postMessage(reply),
  (error: unknown) => parentPort!.postMessage({ kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies SimulationReply),
);
