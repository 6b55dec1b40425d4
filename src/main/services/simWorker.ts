import { parentPort, workerData } from 'node:worker_threads';
import type { Scenario } from '../../shared/scenario';
import { compileDriver, isCompileErrors } from '../../sim/driver/compile';
import { DEFAULT_LIMITS, Sandbox, SandboxLoadError } from '../../sim/driver/sandbox';
import { captureRunState } from '../../sim/run/runState';
import { type PreparedRun, prepareRun, runScenario, type SessionParts } from '../../sim/run/session';
import { apiNames } from '../../sim/driver/hostApi';
import { ENTRY_NAMES } from '../../sim/kernel/driverCode';
import { ExportCancelled, type TraceContext } from '../../sim/trace/export';
import { TraceQuery } from '../../sim/trace/traceQuery';
import { createDebugHost, serveFinishedRun } from './debugHost';
import { performance } from 'node:perf_hooks';
import { CONTROL, EXPORT_PROGRESS_MS, type DebugReport, type DebugSetup, type TraceExportAnswer, type TraceExportMessage, type TraceQueryMessage } from './debugProtocol';
import { EXPORTERS } from '../../sim/trace/exporters';
import { TraceRecorder } from '../../sim/trace/recorder';
import { writeTraceFile } from './traceFile';
import type { CompileAhead, SimulationReply, SimulationRequest, SpareMessage, UpcomingRun } from './simulation';

// One simulation, in a worker thread of its own (DESIGN.md, "The app"): the driver's
// sandbox grows this thread's memory, and a runaway one takes only this thread down.

async function main(request: SimulationRequest): Promise<SimulationReply> {
  if (request.debug) return runDebug(request, request.debug);
  try {
    const trace = request.trace ? new TraceRecorder(request.trace.detail) : undefined;
    const session = await runScenario({ ...runOptions(request), ...(trace ? { trace } : {}) });
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

function runOptions(request: SimulationRequest) {
  return {
    scenario: request.scenario as Scenario,
    source: request.source,
    file: request.file,
    seed: request.seed,
    images: imageMap(request.images),
    files: new Map(Object.entries(request.files)),
  };
}

const imageMap = (images: Record<string, Uint8Array>) => new Map(Object.entries(images).map(([k, v]) => [k, new Uint8Array(v)]));

/** The machine a warm worker built for the run it expected (WarmData.upcoming), with the trace it was built with. */
let built: { upcoming: UpcomingRun; trace: TraceRecorder; prepared: PreparedRun } | null = null;

/** The machine built ahead, if it is this run's (same scenario, seed and images); used once. */
function takeBuilt(request: SimulationRequest): { trace: TraceRecorder; prepared: PreparedRun } | null {
  const b = built;
  built = null;
  if (b === null || b.upcoming.seed !== request.seed || JSON.stringify(b.upcoming.scenario) !== JSON.stringify(request.scenario)) return null;
  const names = Object.keys(b.upcoming.images);
  if (names.length !== Object.keys(request.images).length) return null;
  const same = names.every((n) => request.images[n] !== undefined && Buffer.compare(b.upcoming.images[n]!, request.images[n]) === 0);
  return same ? b : null;
}

/**
 * A run under the debugger, recorded at bus detail so that the app can read its trace;
 * after the result the worker stays to answer questions about it (serveFinishedRun).
 */
async function runDebug(request: SimulationRequest, setup: DebugSetup): Promise<SimulationReply> {
  const post = (report: DebugReport) => parentPort!.postMessage(report);
  // The machine this worker built while it waited, when the run is the one it expected.
  const ahead = takeBuilt(request);
  const trace = ahead?.trace ?? new TraceRecorder('bus');
  let parts: SessionParts | null = null;
  const context = (): TraceContext => ({
    apiNames: parts ? apiNames(parts.api) : [],
    entryNames: ENTRY_NAMES,
    console: parts?.kernel.console ?? [],
    findings: parts?.kernel.findings ?? [],
    endTime: parts?.machine.scheduler.now ?? 0,
  });
  const query = new TraceQuery(trace, context);
  const answer = (q: TraceQueryMessage) => post({ kind: 'answer', id: q.id, answer: answerOf(q) });
  const answerOf = (q: TraceQueryMessage) => {
    if (q.kind === 'export') return exportTrace(q, trace, context(), setup, post);
    if (q.kind === 'trace') return query.rows(q.filter, q.from, q.count);
    if (q.kind === 'signals') return query.signals(q.fromNs, q.toNs);
    if (q.kind === 'timeline') return query.timeline(q.fromNs, q.toNs);
    // Physical memory as DMA sees it; past the end of memory there is nothing to read.
    const memory = parts?.machine.memory;
    const end = Math.min(q.address + q.length, memory?.size ?? 0);
    return { address: q.address, bytes: memory && end > q.address ? [...memory.read(q.address, end - q.address)] : [] };
  };
  // A driver that does not compile never starts: no machine is shown for it.
  const compiled = compileForDebug(request.source, request.file);
  if (isCompileErrors(compiled)) return { kind: 'load-error', message: `${request.file} does not compile`, compileErrors: compiled };
  let result;
  try {
    const session = await runScenario({
      ...runOptions(request),
      trace,
      ...(warmSandbox ? { sandbox: warmSandbox } : {}),
      ...(ahead ? { prepared: ahead.prepared } : {}),
      debug: {
        host: (p) => {
          parts = p;
          return createDebugHost(setup, () => captureRunState(p), post, answer);
        },
        options: { breakpoints: setup.breakpoints, stopAtStart: setup.stopAtStart, ...(setup.replayTo ? { replayTo: setup.replayTo } : {}) },
      },
    });
    result = session.result;
  } catch (error) {
    if (error instanceof SandboxLoadError) return { kind: 'load-error', message: error.message, compileErrors: error.compileErrors };
    throw error;
  }
  // The panels show the machine as the run left it; then the result, and the trace stays open.
  if (parts) post({ kind: 'state', state: captureRunState(parts) });
  parentPort!.postMessage({ kind: 'result', result } satisfies SimulationReply);
  serveFinishedRun(setup, answer);
}

/** Writes the trace to the file the person chose, reporting progress now and then, until done or cancelled. */
function exportTrace(q: TraceExportMessage, trace: TraceRecorder, context: TraceContext, setup: DebugSetup, post: (report: DebugReport) => void): TraceExportAnswer {
  const control = new Int32Array(setup.control);
  let lastPost = -Infinity;
  const progress = (done: number, total: number) => {
    const now = performance.now();
    if (now - lastPost < EXPORT_PROGRESS_MS) return;
    lastPost = now;
    post({ kind: 'export-progress', id: q.id, done, total });
  };
  try {
    const events = trace.atDetail(q.detail);
    progress(0, events.count);
    const { bytes } = writeTraceFile(q.path, EXPORTERS[q.format], events, context, {
      vcdBuses: q.vcdBuses,
      progress,
      cancelled: () => Atomics.load(control, CONTROL.cancelExport) === q.id,
    });
    return { kind: 'written', events: events.count, bytes };
  } catch (error) {
    if (error instanceof ExportCancelled) return { kind: 'cancelled' };
    return { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
  }
}

/** A driver as a debug run compiles it (with line marks and steps); the sandbox's load finds it compiled. */
const compileForDebug = (source: string, file: string) => compileDriver(source, file, true, true);

/** Compiles ahead a driver the person may run. Whatever goes wrong is left for the run to report (it compiles again). */
function compileAhead({ source, file }: CompileAhead): void {
  try {
    compileForDebug(source, file);
  } catch {
    // A driver the compiler itself fails on (its stack, say) takes nothing of this spare with it.
  }
}

interface WarmData {
  warm: true;
  rehearsal: Omit<SimulationRequest, 'debug' | 'trace'> | null;
  /** The driver the person has now (WorkerPool.compileAhead), if any. */
  ahead: CompileAhead | null;
  /** The run the person is likely to start (the open lab's), whose machine is built ahead. */
  upcoming: UpcomingRun | null;
}

/**
 * A warm worker (see workerPool.ts) loads the compiler, rehearses a short run of the lab the
 * person has open (so that the simulator's code is compiled by the JIT), and makes its sandbox
 * before it is given a request, so that a run the person starts begins at once. It builds the
 * machine of the run it expects, and while it waits it compiles the driver the person is
 * writing, each version as it comes.
 */
async function warmUp({ rehearsal, ahead, upcoming }: WarmData): Promise<SimulationRequest> {
  compileDriver('export function DriverEntry() { return 0; }', 'warm.ts', true, true);
  if (rehearsal) {
    // As a debug run goes: recorded at bus detail, under a debugger that never stops, its
    // state taken now and then as if for the panels.
    let events = 0;
    const pauseRequested = (parts: SessionParts) => {
      if (++events % 256 === 0) captureRunState(parts);
      return false;
    };
    await runScenario({
      ...runOptions(rehearsal as SimulationRequest),
      trace: new TraceRecorder('bus'),
      debug: { host: (parts) => ({ stopped: () => ({ mode: 'run' }), pauseRequested: () => pauseRequested(parts) }), options: {} },
    }).catch(() => undefined);
  }
  warmSandbox = await Sandbox.create(DEFAULT_LIMITS);
  if (ahead) compileAhead(ahead);
  if (upcoming) {
    // As runDebug records a run: at bus detail.
    const trace = new TraceRecorder('bus');
    built = { upcoming, trace, prepared: prepareRun({ scenario: upcoming.scenario, seed: upcoming.seed, images: imageMap(upcoming.images), trace }) };
  }
  parentPort!.postMessage({ kind: 'ready' });
  return new Promise((resolve) => {
    const take = (message: SpareMessage) => {
      if ('kind' in message) return compileAhead(message);
      parentPort!.off('message', take);
      resolve(message);
    };
    parentPort!.on('message', take);
  });
}

let warmSandbox: Sandbox | undefined;

const data = workerData as SimulationRequest | WarmData;
('warm' in data ? warmUp(data) : Promise.resolve(data))
  .then((request) => main(request))
  .then(
  (reply) => parentPort!.postMessage(reply),
  (error: unknown) => parentPort!.postMessage({ kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) } satisfies SimulationReply),
);
